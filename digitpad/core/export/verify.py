"""Verification of a written export: load it with its own runtime and compare with Keras.

The export and the Keras model each give the probabilities of the same MNIST test images (the
first :data:`~digitpad.core.export.common.VERIFY_IMAGES` of the bundled test split); the largest
absolute difference must be at most :data:`~digitpad.core.export.common.TOLERANCE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from digitpad.core.errors import DigitpadError
from digitpad.core.export.common import TOLERANCE, VERIFY_IMAGES, ExportError


@dataclass(frozen=True)
class Verification:
    """How an export compared with its Keras model."""

    max_diff: float  # largest absolute probability difference
    n_images: int
    runtime: str  # "LiteRT", "onnxruntime", "TensorFlow"
    tolerance: float = TOLERANCE

    def text(self) -> str:
        """``verified with LiteRT on 1000 MNIST test images: max difference 3.1e-08 (≤ 1e-05)``."""
        return (f"verified with {self.runtime} on {self.n_images} MNIST test images: max "
                f"probability difference {self.max_diff:.2g} (≤ {self.tolerance:g})")


def verification_images(n: int = VERIFY_IMAGES) -> np.ndarray:
    """The first ``n`` bundled MNIST test images as model input, float32 (n, 28, 28, 1)."""
    from digitpad.core.data import load_dataset, to_model_input

    dataset = load_dataset(None)
    return to_model_input(dataset.x_test[:n])


def keras_probabilities(model, x: np.ndarray, batch_size: int = 250) -> np.ndarray:
    """The Keras model's probabilities of ``x`` (inference mode), float32 (N, 10)."""
    parts = [np.asarray(model(x[i:i + batch_size], training=False), dtype=np.float32)
             for i in range(0, len(x), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0, 10), np.float32)


def verify_export(fmt: ModuleType, path: Path, x: np.ndarray, reference: np.ndarray) -> Verification:
    """Run the export at ``path`` with ``fmt``'s runtime on ``x`` and compare with ``reference``.

    Parameters
    ----------
    fmt
        The format module (:mod:`.tflite`, :mod:`.onnx`, :mod:`.savedmodel`).
    path
        The written export.
    x
        Images, float32 (N, 28, 28, 1).
    reference
        The Keras model's probabilities of ``x`` (N, 10).

    Raises
    ------
    ExportError
        The export cannot be loaded or run, gives another shape, non-finite values, or differs
        from ``reference`` by more than the tolerance (the sentence gives the difference).
    """
    try:
        got = fmt.predict(Path(path), x)
    except DigitpadError:
        raise
    except Exception as exc:  # runtimes fail in many exception types
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise ExportError(
            f"the {fmt.NAME} export could not be run with {fmt.RUNTIME} "
            f"({type(exc).__name__}: {first})."
        ) from None
    if got.shape != reference.shape:
        raise ExportError(f"the {fmt.NAME} export gives shape {got.shape} instead of "
                          f"{reference.shape} on {len(x)} images.")
    if not np.all(np.isfinite(got)):
        raise ExportError(f"the {fmt.NAME} export gives NaN or infinite probabilities.")
    diff = float(np.max(np.abs(got - reference))) if len(got) else 0.0
    if not diff <= TOLERANCE:
        raise ExportError(f"the {fmt.NAME} export does not match the Keras model: its "
                          f"probabilities differ by up to {diff:.3g} (more than {TOLERANCE:g}).")
    return Verification(diff, len(x), fmt.RUNTIME)
