"""The installed package carries its data and model, and its entry point is declared."""

from __future__ import annotations

import importlib.metadata as md
import json
from pathlib import Path

import pytest

from digitpad.core import paths

ROOT = Path(__file__).resolve().parent.parent
MNIST_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


def test_bundled_mnist_present_with_attribution():
    folder = paths.bundled_mnist_dir()
    for name in MNIST_FILES:
        assert (folder / name).stat().st_size > 4000, name
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "LeCun" in readme and "Creative Commons" in readme


def test_bundled_model_present():
    assert paths.bundled_model_path().is_file()
    assert (ROOT / "models" / "README.md").is_file()


def _installed_files() -> list[str] | None:
    dist = md.distribution("digitpad")
    direct = dist.read_text("direct_url.json")
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        return None
    return [str(f) for f in (dist.files or [])]


def test_regular_install_carries_data_and_model():
    """A non-editable ``pip install .`` must ship the MNIST files and the default model."""
    files = _installed_files()
    if files is None:
        pytest.skip("digitpad is installed in editable mode; CI checks the regular install")
    for name in MNIST_FILES:
        assert f"digitpad/_bundled/resources/mnist/{name}" in files
    assert "digitpad/_bundled/resources/mnist/README.md" in files
    assert f"digitpad/_bundled/models/{paths.DEFAULT_MODEL_NAME}" in files


def test_console_entry_point_declared():
    eps = md.entry_points(group="console_scripts")
    assert any(ep.name == "digitpad" and ep.value == "digitpad.cli:main" for ep in eps)
