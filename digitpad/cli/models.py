"""Which model file a command works on (``--model`` or the bundled one), loaded safely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from digitpad.cli.quiet import quiet_tensorflow
from digitpad.core.errors import ModelFileError


def model_path(given: str | None) -> Path:
    """``given`` (``~`` expanded), else the bundled model; ModelFileError when that is missing."""
    if given:
        return Path(given).expanduser()
    from digitpad.core.paths import bundled_model_path

    path = bundled_model_path()
    if not path.is_file():
        raise ModelFileError(
            f"no model given and the bundled model is missing ({path}); pass --model PATH."
        )
    return path


def load(path: Path) -> Any:
    """``digitpad.core.modelfile.load_model(path)`` with TensorFlow's start-up noise silenced."""
    from digitpad.core.modelfile import load_model

    quiet_tensorflow()
    return load_model(path)
