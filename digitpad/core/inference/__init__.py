"""Fast inference: the :class:`Predictor` and recognition of drawings and image files.

Modules:

* :mod:`~digitpad.core.inference.backends` -- the LiteRT and ``tf.function`` backends, TFLite
  conversion and verification against Keras (:data:`TOLERANCE`, :data:`BACKENDS`);
* :mod:`~digitpad.core.inference.predictor` -- :class:`Predictor` (``predict_one``,
  ``predict_batch``), thread-safe by a lock;
* :mod:`~digitpad.core.inference.recognize` -- :class:`Prediction`, :func:`recognize`,
  :func:`recognize_file`, :func:`recognize_files`, :data:`LOW_CONFIDENCE`.
"""

from __future__ import annotations

from digitpad.core.inference.backends import BACKENDS, TOLERANCE
from digitpad.core.inference.predictor import Predictor
from digitpad.core.inference.recognize import (
    LOW_CONFIDENCE,
    Prediction,
    recognize,
    recognize_file,
    recognize_files,
)

__all__ = [
    "BACKENDS",
    "LOW_CONFIDENCE",
    "TOLERANCE",
    "Prediction",
    "Predictor",
    "recognize",
    "recognize_file",
    "recognize_files",
]
