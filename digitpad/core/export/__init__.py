"""Verified model export: TFLite, ONNX and TensorFlow SavedModel (one module per format).

:func:`export_model` writes the export into a temporary sibling of the target, verifies it with
its own runtime against the Keras model (:mod:`.verify`: the first 1,000 MNIST test images, max
probability difference at most 1e-5) and only then renames it into place; an export that does
not verify is removed and the target is left as it was.

* :mod:`.tflite` – TFLite flatbuffer, run with LiteRT (``ai_edge_litert``, a base dependency)
* :mod:`.onnx` – ONNX through tf2onnx, run with onnxruntime (optional: ``digitpad[export]``)
* :mod:`.savedmodel` – SavedModel folder, run with TensorFlow
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from digitpad.core.errors import DigitpadError
from digitpad.core.export import onnx, savedmodel, tflite
from digitpad.core.export.common import (
    INSTALL_HINT,
    TOLERANCE,
    VERIFY_IMAGES,
    ExportError,
    installed,
    missing,
    require,
)
from digitpad.core.export.verify import (
    Verification,
    keras_probabilities,
    verification_images,
    verify_export,
)

#: Format name -> its module (``write(model, path)``, ``predict(path, x)``, NAME, SUFFIX, RUNTIME).
FORMATS: dict[str, ModuleType] = {m.NAME: m for m in (tflite, onnx, savedmodel)}


@dataclass(frozen=True)
class ExportResult:
    """A written and verified export."""

    path: Path
    format: str
    size_bytes: int
    verification: Verification


def get_format(name: str) -> ModuleType:
    """The format module called ``name``; ExportError listing the formats otherwise."""
    key = str(name).strip().lower()
    if key not in FORMATS:
        raise ExportError(f"unknown export format {name!r}; choose one of: {', '.join(FORMATS)}.")
    return FORMATS[key]


def check_available(fmt: ModuleType) -> None:
    """Raise ExportError (naming ``pip install 'digitpad[export]'``) when ``fmt`` lacks a module."""
    for module in fmt.DEPENDENCIES:
        if not installed(module):
            raise missing(module, f"{fmt.NAME} export")


def check_out_path(fmt: ModuleType, out: str | os.PathLike) -> Path:
    """Refuse an unusable target before anything is converted (ExportError, one sentence)."""
    path = Path(out).expanduser()
    if fmt.SUFFIX and path.suffix.lower() != fmt.SUFFIX:
        raise ExportError(f"a {fmt.NAME} export must be a file ending in {fmt.SUFFIX}, not {path}.")
    if path.is_dir() and not fmt.IS_FOLDER:
        raise ExportError(f"{path} is a folder; give a file name ending in {fmt.SUFFIX}.")
    if path.exists() and not path.is_dir() and fmt.IS_FOLDER:
        raise ExportError(f"{path} is a file; a {fmt.NAME} export is a folder.")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ExportError(f"cannot export to {path}: the folder {parent} does not exist.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"cannot export to {path}: the folder {parent} is not writable.")
    return path


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def _move_into_place(new: Path, target: Path, scratch: Path) -> None:
    """Rename ``new`` onto ``target``; an existing folder target is moved aside into ``scratch``."""
    if target.is_dir():
        old = scratch / "previous"
        os.replace(target, old)
        try:
            os.replace(new, target)
        except OSError:
            os.replace(old, target)  # put the previous export back
            raise
    else:
        os.replace(new, target)


def export_model(model: Any, fmt: str, out: str | os.PathLike, *,
                 images: np.ndarray | None = None) -> ExportResult:
    """Export ``model`` as ``fmt`` to ``out`` and verify it before it is put in place.

    Parameters
    ----------
    model
        A Keras model with input (N, 28, 28, 1) float in [0, 1] and softmax output (N, 10), e.g.
        ``digitpad.core.modelfile.load_model(path).model``.
    fmt
        ``"tflite"``, ``"onnx"`` or ``"savedmodel"``.
    out
        Target: a ``.tflite``/``.onnx`` file or a SavedModel folder (replaced when it exists).
    images
        Verification images, float32 (N, 28, 28, 1); default the first 1,000 MNIST test images.

    Returns
    -------
    ExportResult
        The path, size and :class:`Verification` (max difference, images, runtime).

    Raises
    ------
    ExportError
        Unknown format, unusable target, a missing optional dependency (the sentence names
        ``pip install 'digitpad[export]'``), a failed conversion or a failed verification. In
        every case nothing new is left at ``out``.
    """
    module = get_format(fmt)
    check_available(module)
    target = check_out_path(module, out)
    x = verification_images() if images is None else np.asarray(images, np.float32)
    reference = keras_probabilities(model, x)
    parent = target.parent if str(target.parent) else Path(".")
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".export", dir=parent))
    try:
        written = scratch / target.name
        try:
            module.write(model, written)
        except DigitpadError:
            raise
        except Exception as exc:  # converters fail in many exception types
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            raise ExportError(f"the {module.NAME} conversion failed "
                              f"({type(exc).__name__}: {first}).") from None
        verification = verify_export(module, written, x, reference)
        size = _size(written)
        _move_into_place(written, target, scratch)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(scratch)
    return ExportResult(target, module.NAME, size, verification)


__all__ = ["FORMATS", "TOLERANCE", "VERIFY_IMAGES", "INSTALL_HINT", "ExportError",
           "ExportResult", "Verification", "export_model", "get_format", "check_available", "check_out_path",
           "verify_export", "verification_images", "keras_probabilities", "require"]
