"""Structural rules of the package: the import contracts in pyproject.toml hold (``lint-imports``),
``digitpad.core`` is Qt-free and imports TensorFlow lazily, and no module is over 400 lines."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "digitpad"
CORE = PACKAGE / "core"
MAX_MODULE_LINES = 400

QT_PACKAGES = (
    "PySide6", "PyQt5", "PyQt6", "PyQt4", "PySide2", "pyqtgraph", "superqt", "shiboken6",
    "shiboken2", "qtpy",
)
HEAVY_AT_IMPORT = ("tensorflow", "keras", "PySide6", "pyqtgraph", "superqt", "shiboken6")


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _core_modules() -> list[Path]:
    return _modules(CORE)


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imported_names(tree: ast.AST) -> list[tuple[str, int]]:
    """Every module name an ``import`` / ``from ... import`` statement anywhere in the tree names,
    including imports inside functions, and ``importlib.import_module("...")`` /
    ``__import__("...")`` calls with a literal name."""
    names: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                names.append((node.module, node.lineno))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                func_name = func.attr
            else:
                func_name = func.id if isinstance(func, ast.Name) else ""
            if func_name in ("import_module", "__import__") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.append((first.value, node.lineno))
    return names


def _qt_imports(source: str, filename: str = "<src>") -> list[str]:
    tree = ast.parse(source, filename=filename)
    bad = []
    for name, line in _imported_names(tree):
        top = name.split(".")[0]
        if top in QT_PACKAGES:
            bad.append(f"{filename}:{line} imports {name}")
    return bad


def test_core_has_modules_to_check():
    modules = _core_modules()
    names = {p.name for p in modules}
    # The skeleton modules exist; the check below must actually look at files.
    assert {"errors.py", "paths.py", "tfsetup.py"} <= names


def test_core_imports_no_qt():
    problems: list[str] = []
    for path in _core_modules():
        problems += _qt_imports(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not problems, "digitpad/core must not import Qt:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "source",
    [
        "import PySide6",
        "from PySide6.QtCore import QObject",
        "def f():\n    import pyqtgraph as pg\n",
        "from superqt import QLabeledSlider",
        "import shiboken6",
        "import PyQt5.QtWidgets",
        "class A:\n    def m(self):\n        from PyQt6 import QtCore\n",
        "import importlib\nimportlib.import_module('PySide6.QtGui')",
        "__import__('pyqtgraph')",
    ],
)
def test_qt_import_detector_catches(source):
    # The checker itself must be able to fail: every one of these is a Qt import.
    assert _qt_imports(source)


@pytest.mark.parametrize(
    "source",
    [
        "import numpy",
        "from digitpad.core.errors import DataError",
        "import os.path",
        "x = 'PySide6'",
    ],
)
def test_qt_import_detector_passes_clean_code(source):
    assert not _qt_imports(source)


_PROBE = r"""
import importlib, json, sys
name = sys.argv[1]
importlib.import_module(name)
heavy = [m for m in json.loads(sys.argv[2]) if m in sys.modules]
print(json.dumps(heavy))
"""


@pytest.mark.slow
@pytest.mark.parametrize("module", [_module_name(p) for p in _core_modules()])
def test_importing_core_module_loads_no_tensorflow_or_qt(module):
    env = dict(os.environ)
    env.pop("PYTHONSTARTUP", None)
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, module, json.dumps(HEAVY_AT_IMPORT)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(ROOT),
        timeout=120,
    )
    assert proc.returncode == 0, f"importing {module} failed:\n{proc.stderr}"
    heavy = json.loads(proc.stdout.strip().splitlines()[-1])
    assert heavy == [], f"importing {module} pulled in {heavy} at import time"


@pytest.mark.slow
def test_cli_import_is_light():
    # `digitpad --help` / `--version` must not pay for TensorFlow or Qt.
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, "digitpad.cli", json.dumps(HEAVY_AT_IMPORT)],
        capture_output=True,
        text=True,
        cwd=str(ROOT),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_no_module_is_over_400_lines():
    """One job per module: a module that outgrows 400 lines is split by job."""
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules(PACKAGE)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


# ------------------------------------------------------------ import-linter contracts


def _lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``lint-imports`` (import-linter, from the test extra) on the contracts in ``cwd``."""
    tool = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    assert Path(tool).exists(), "lint-imports is not installed (pip install '.[test]')"
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [tool, "--no-cache", "--no-logo"], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_import_contracts_are_kept():
    proc = _lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 kept, 0 broken" in proc.stdout, proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "line", "contract"),  # contract: the start of its name
    [
        ("core/paths.py", "import PySide6.QtCore", "digitpad.core imports neither"),
        ("core/errors.py", "from qtpy import QtCore", "digitpad.core imports neither"),
        ("core/formatting.py", "from digitpad.gui import app", "digitpad.core imports neither"),
        ("core/atomic.py", "import digitpad.cli", "digitpad.core imports neither"),
        ("gui/qtcompat.py", "from digitpad import cli", "digitpad.gui does not import"),
    ],
)
def test_import_contracts_catch_a_violation(tmp_path, module, line, contract):
    """The same contracts over a copy of the package with one forbidden import (inside a
    function, where a lazy import would hide) must break, naming the offending module."""
    shutil.copytree(PACKAGE, tmp_path / "digitpad", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "digitpad" / module
    target.write_text(
        target.read_text(encoding="utf-8") + f"\n\ndef _injected():\n    {line}\n", encoding="utf-8"
    )
    proc = _lint_imports(tmp_path, pythonpath=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    verdicts = [line for line in proc.stdout.splitlines() if line.startswith(contract)]
    assert verdicts and verdicts[0].endswith(" BROKEN"), proc.stdout
    dotted = "digitpad." + module.removesuffix(".py").replace("/", ".")
    assert dotted in proc.stdout, proc.stdout
