"""Where digitpad finds its bundled data and model, and where it keeps user files.

The bundled MNIST files live in ``resources/mnist`` and the default model in ``models/`` at the
top of the source tree. A wheel built by ``pip install .`` carries both inside the package as
``digitpad/_bundled/{resources,models}``; an editable install or a source checkout uses the tree.

User files follow the platform's conventions through ``platformdirs``: on Linux
``$XDG_DATA_HOME/digitpad`` (``~/.local/share/digitpad``) and ``$XDG_CONFIG_HOME/digitpad``
(``~/.config/digitpad``), on macOS ``~/Library/Application Support/digitpad``, on Windows
``%LOCALAPPDATA%\\digitpad``.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "digitpad"
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
    """Folder for user files (run history), created if missing.

    Returns
    -------
    Path
        ``$DIGITPAD_HOME`` when that variable is set (tests and portable set-ups use it),
        otherwise the platform's user data folder for digitpad (see the module docstring).
    """
    override = os.environ.get("DIGITPAD_HOME")
    if override:
        base = Path(override)
    else:
        base = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    base.mkdir(parents=True, exist_ok=True)
    return base


def user_config_dir() -> Path:
    """Folder for the user's settings (the GUI's settings file); not created here.

    Returns
    -------
    Path
        The platform's user configuration folder for digitpad (see the module docstring);
        ``XDG_CONFIG_HOME`` moves it on Linux.
    """
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
