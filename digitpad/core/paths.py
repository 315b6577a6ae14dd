"""Where digitpad finds its bundled data and model, and where it keeps user files.

The bundled MNIST files live in ``resources/mnist`` and the default model in ``models/`` at the
top of the source tree. A wheel built by ``pip install .`` carries both inside the package as
``digitpad/_bundled/{resources,models}``; an editable install or a source checkout uses the tree.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../digitpad
_SOURCE_ROOT = _PACKAGE_DIR.parent

DEFAULT_MODEL_NAME = "default.keras"


def _bundled(*parts: str) -> Path:
    installed = _PACKAGE_DIR.joinpath("_bundled", *parts)
    if installed.exists():
        return installed
    return _SOURCE_ROOT.joinpath(*parts)


def bundled_mnist_dir() -> Path:
    """Folder holding the four MNIST IDX ``.gz`` files shipped with digitpad."""
    return _bundled("resources", "mnist")


def bundled_models_dir() -> Path:
    """Folder holding the models shipped with digitpad."""
    return _bundled("models")


def bundled_model_path() -> Path:
    """Path of the default model used when no model is given."""
    return bundled_models_dir() / DEFAULT_MODEL_NAME


def user_data_dir() -> Path:
    """Folder for user files (run history). ``DIGITPAD_HOME`` overrides it (tests use this)."""
    override = os.environ.get("DIGITPAD_HOME")
    if override:
        base = Path(override)
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".local" / "share") / "digitpad"
    base.mkdir(parents=True, exist_ok=True)
    return base
