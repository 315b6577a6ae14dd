"""Batched evaluation of a classifier: accuracy, loss, per-class accuracy, confusion matrix.

The trainer validates with the same one batched ``predict`` (:func:`predict_probabilities`) and
scores the probabilities in numpy (:func:`scores`), so a run traces one inference function for
validation, calibration and the test set alike and predicts the validation images once.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from digitpad.core.archs import NUM_CLASSES, check_classifier
from digitpad.core.data import to_model_input
from digitpad.core.errors import DataError
from digitpad.core.tfsetup import tf
from digitpad.core.training.events import EvalResult

#: per model: its traced inference functions by image shape (dropped with the model)
_INFERENCE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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
    probs = predict_probabilities(model, xs, batch_size=batch_size)
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


def predict_probabilities(model: Any, x: np.ndarray, *, batch_size: int = 512) -> np.ndarray:
    """The model's probabilities ``(N, 10)`` as float64, predicted in batches.

    One inference function per model and image shape, traced once for any batch size (Keras's
    ``predict`` traces again for every new size of the last partial batch: validation, test
    set and calibration would each pay a tracing).
    """
    T = tf()
    x = np.asarray(x, dtype=np.float32)
    key = tuple(x.shape[1:])
    fns = _INFERENCE.setdefault(model, {})
    if key not in fns:
        spec = T.TensorSpec([None, *key], T.float32)
        fns[key] = T.function(lambda b: model(b, training=False), input_signature=[spec])
    fn = fns[key]
    parts = [np.asarray(fn(T.constant(x[i:i + batch_size]))) for i in range(0, len(x), batch_size)]
    if not parts:
        return np.zeros((0, NUM_CLASSES))
    return np.concatenate(parts).astype(np.float64)


def scores(probs: np.ndarray, y: np.ndarray, label_smoothing: float = 0.0) -> tuple[float, float]:
    """``(loss, accuracy)`` of probabilities, the loss as Keras's cross-entropy computes it.

    Parameters
    ----------
    probs
        ``(N, 10)`` probabilities.
    y
        ``(N,)`` integer labels.
    label_smoothing
        The training loss's smoothing (targets ``(1 - s) * one_hot + s / 10``), so a validation
        loss compares with the training loss.
    """
    ys = np.asarray(y).astype(np.int64).ravel()
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-7, 1.0 - 1e-7)
    p = p / p.sum(axis=1, keepdims=True)
    target = np.full(p.shape, label_smoothing / p.shape[1])
    target[np.arange(len(ys)), ys] += 1.0 - label_smoothing
    loss = float(-np.mean(np.sum(target * np.log(p), axis=1)))
    return loss, float(np.mean(p.argmax(axis=1) == ys))
