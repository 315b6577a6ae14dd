"""Batched evaluation of a classifier: accuracy, loss, per-class accuracy, confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np

from digitpad.core.archs import NUM_CLASSES, check_classifier
from digitpad.core.data import to_model_input
from digitpad.core.errors import DataError
from digitpad.core.training.events import EvalResult


def evaluate(model: Any, x: np.ndarray, y: np.ndarray, *, batch_size: int = 512) -> EvalResult:
    """Evaluate a classifier on images ``x`` (uint8 or float in [0, 1]) with labels ``y``.

    Prediction is batched (one ``predict`` call over the whole set, never one per image).

    Returns
    -------
    EvalResult
        Accuracy, mean cross-entropy, per-class accuracy (NaN for a class absent from ``y``) and
        the confusion matrix, rows = true digit, columns = predicted digit.

    Raises
    ------
    DataError
        Empty input or mismatched image and label counts.
    """
    check_classifier(model)
    xs = to_model_input(x)
    ys = np.asarray(y).astype(np.int64).ravel()
    if len(xs) == 0:
        raise DataError("there are no images to evaluate.")
    if len(xs) != len(ys):
        raise DataError(f"{len(xs)} images but {len(ys)} labels were given for evaluation.")
    probs = np.asarray(model.predict(xs, batch_size=batch_size, verbose=0), dtype=np.float64)
    pred = probs.argmax(axis=1)
    picked = np.clip(probs[np.arange(len(ys)), ys], 1e-7, 1.0)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(confusion, (ys, pred), 1)
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)
    return EvalResult(
        accuracy=float(np.mean(pred == ys)),
        loss=float(-np.mean(np.log(picked))),
        per_class=[float(v) for v in per_class],
        confusion=confusion,
        n=int(len(ys)),
    )
