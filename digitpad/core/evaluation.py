"""Evaluating a classifier on labelled images through the :class:`~digitpad.core.inference.Predictor`.

:func:`evaluate_model` never calls ``model.predict`` and never predicts one image at a time: the
images go through :meth:`Predictor.predict_batch` (the verified LiteRT fast path when the model
converts, else a ``tf.function``) in chunks of ``batch_size``, each chunk padded to the same size
so one interpreter serves the whole run. Between chunks it reports progress and asks whether to
stop; a stopped evaluation returns what it has (``Evaluation.stopped``).

The :class:`Evaluation` keeps the per-image results (true and predicted digit, confidence, all
probabilities), so a confusion-matrix cell can be opened as a gallery (:meth:`Evaluation.cell`) and
the most confident mistakes listed (:meth:`Evaluation.mistakes`) without predicting again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.core.data import NUM_CLASSES, validate_arrays
from digitpad.core.errors import DataError, DigitpadError

#: Probabilities are clipped to [EPSILON, 1] before the logarithm of the cross-entropy.
EPSILON = 1e-7


@dataclass
class Evaluation:
    """The result of evaluating a model on labelled images.

    Attributes
    ----------
    accuracy, loss : float
        Fraction correct and mean cross-entropy of the probabilities (clipped to
        [:data:`EPSILON`, 1]); NaN when no image was evaluated (stopped before the first chunk).
    n : int
        Images evaluated.
    per_class : list of float or None
        Accuracy per true digit 0..9; None for a digit with no images.
    confusion : numpy.ndarray
        int64 (10, 10) counts, rows = true digit, columns = predicted digit.
    y_true, y_pred : numpy.ndarray
        int64 (N,) true and predicted digits, in the order of the images given.
    confidence : numpy.ndarray
        float32 (N,) probability of the predicted digit.
    probabilities : numpy.ndarray
        float32 (N, 10).
    source : str
        Description of the data.
    stopped : bool
        True when ``should_stop`` ended the run early; the arrays then cover the first ``n`` images.
    """

    accuracy: float
    loss: float
    n: int
    per_class: list[float | None]
    confusion: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    confidence: np.ndarray
    probabilities: np.ndarray
    source: str = ""
    stopped: bool = False
    _order: np.ndarray | None = field(default=None, init=False, repr=False)

    def _by_confidence(self) -> np.ndarray:
        """All indices, most confident first (stable: ties keep image order); computed once."""
        if self._order is None:
            self._order = np.argsort(-self.confidence, kind="stable")
        return self._order

    def cell(self, true: int, pred: int) -> np.ndarray:
        """Indices of the images of true digit ``true`` predicted as ``pred``, most confident first.

        Returns
        -------
        numpy.ndarray
            int64 indices into the evaluated images (empty when the cell is empty).
        """
        order = self._by_confidence()
        hit = (self.y_true[order] == int(true)) & (self.y_pred[order] == int(pred))
        return order[hit].astype(np.int64)

    def mistakes(self, limit: int | None = None) -> np.ndarray:
        """Indices of the misclassified images, most confident mistake first.

        Parameters
        ----------
        limit : int, optional
            Return at most this many.
        """
        order = self._by_confidence()
        wrong = order[self.y_true[order] != self.y_pred[order]].astype(np.int64)
        return wrong if limit is None else wrong[: max(0, int(limit))]

    def row_normalized(self) -> np.ndarray:
        """The confusion matrix with each row divided by its total (rows without images stay 0)."""
        counts = self.confusion.astype(np.float64)
        totals = counts.sum(axis=1, keepdims=True)
        return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary: metrics, per-class accuracy and confusion (no per-image arrays)."""
        return {
            "source": self.source,
            "n": int(self.n),
            "accuracy": float(self.accuracy),
            "loss": float(self.loss),
            "per_class": [None if v is None else float(v) for v in self.per_class],
            "confusion": self.confusion.astype(int).tolist(),
            "mistakes": int(np.count_nonzero(self.y_true != self.y_pred)),
            "stopped": bool(self.stopped),
        }


def summarize(
    y_true: np.ndarray, probabilities: np.ndarray, *, source: str = "", stopped: bool = False
) -> Evaluation:
    """Build an :class:`Evaluation` from labels and predicted probabilities.

    Parameters
    ----------
    y_true : numpy.ndarray
        int (N,) true digits 0..9.
    probabilities : numpy.ndarray
        float (N, 10) class probabilities.
    """
    y = np.asarray(y_true, dtype=np.int64).ravel()
    probs = np.asarray(probabilities, dtype=np.float32).reshape(len(y), NUM_CLASSES)
    pred = probs.argmax(axis=1).astype(np.int64) if len(y) else np.zeros(0, np.int64)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    totals = confusion.sum(axis=1)
    per_class = [
        float(confusion[d, d] / totals[d]) if totals[d] else None for d in range(NUM_CLASSES)
    ]
    if len(y):
        picked = np.clip(probs[np.arange(len(y)), y].astype(np.float64), EPSILON, 1.0)
        accuracy, loss = float(np.mean(pred == y)), float(-np.mean(np.log(picked)))
    else:
        accuracy = loss = float("nan")
    return Evaluation(
        accuracy=accuracy,
        loss=loss,
        n=int(len(y)),
        per_class=per_class,
        confusion=confusion,
        y_true=y,
        y_pred=pred,
        confidence=probs[np.arange(len(y)), pred] if len(y) else np.zeros(0, np.float32),
        probabilities=probs,
        source=source,
        stopped=stopped,
    )


def evaluate_model(
    predictor: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    source: str = "",
    batch_size: int = 1024,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Evaluation:
    """Evaluate a model on labelled images, batched through its predictor.

    Parameters
    ----------
    predictor : digitpad.core.inference.Predictor
        The model's predictor (anything with ``predict_batch(xs, batch_size=...)``).
    x : numpy.ndarray
        Images: uint8 (N, 28, 28) ink bright, as ``Dataset.x_test`` (floats in [0, 1] and the
        other layouts :func:`~digitpad.core.data.validate_arrays` accepts work too).
    y : numpy.ndarray
        Labels (N,), digits 0..9.
    source : str
        Description of the data, kept in the result.
    batch_size : int
        Images per predictor call; progress is reported and ``should_stop`` asked between calls.
    on_progress : callable, optional
        ``on_progress(done, total)`` after each chunk (and ``(0, total)`` first).
    should_stop : callable, optional
        Returns True to stop; the result then covers the images done so far (``stopped=True``).

    Returns
    -------
    Evaluation

    Raises
    ------
    DataError
        Images or labels are invalid, empty or of different counts.
    DigitpadError
        ``batch_size`` below 1.
    """
    if batch_size < 1:
        raise DigitpadError(f"batch size must be at least 1, got {batch_size}.")
    xs, ys = validate_arrays(x, y, what="the evaluation data")
    total = len(xs)
    size = min(batch_size, total)
    probs = np.empty((total, NUM_CLASSES), np.float32)
    pad = np.zeros((size, *xs.shape[1:]), xs.dtype)
    done = 0
    stopped = False
    if on_progress is not None:
        on_progress(0, total)
    while done < total:
        if should_stop is not None and should_stop():
            stopped = True
            break
        chunk = xs[done : done + size]
        k = len(chunk)
        if k < size:  # same batch shape every call: the predictor keeps one interpreter
            pad[:k] = chunk
            chunk = pad
        probs[done : done + k] = predictor.predict_batch(chunk, batch_size=size)[:k]
        done += k
        if on_progress is not None:
            on_progress(done, total)
    return summarize(ys[:done], probs[:done], source=source, stopped=stopped)


def misclassified_name(index: int, true: int, pred: int, confidence: float, width: int = 5) -> str:
    """File name of a misread image, e.g. ``00123_true7_pred1_0.93.png``."""
    return f"{int(index):0{width}d}_true{int(true)}_pred{int(pred)}_{float(confidence):.2f}.png"


def write_misclassified(
    evaluation: Evaluation,
    x: np.ndarray,
    folder: str | os.PathLike,
    *,
    indices: np.ndarray | None = None,
    limit: int | None = None,
) -> list[Path]:
    """Write the misread images as PNGs named by :func:`misclassified_name`, most confident first.

    Parameters
    ----------
    evaluation : Evaluation
        The result of evaluating the images ``x`` (same order).
    x : numpy.ndarray
        The evaluated images: uint8 (N, 28, 28) ink bright (floats in [0, 1] are converted).
        They are written as they are: white ink on black, like MNIST.
    folder : str or os.PathLike
        Created if missing. Each file is written atomically.
    indices : numpy.ndarray, optional
        The number each image is named by (e.g. its index in the whole test set when a subset
        was evaluated); default its position in ``x``.
    limit : int, optional
        Write at most this many.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    DataError
        ``x`` does not match the evaluation.
    OSError
        The folder cannot be created or written.
    """
    from PIL import Image

    from digitpad.core.atomic import atomic_path

    images, _ = validate_arrays(x, np.zeros(len(x), np.int64), what="the misread images")
    if len(images) != evaluation.n:
        raise DataError(f"{len(images)} images were given for an evaluation of {evaluation.n}.")
    out = Path(folder).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    numbers = np.arange(len(images)) if indices is None else np.asarray(indices, np.int64)
    if numbers.shape != (len(images),):
        raise DataError(f"{numbers.size} image numbers were given for {len(images)} images.")
    width = max(5, len(str(int(numbers.max(initial=0)))))
    written: list[Path] = []
    for i in evaluation.mistakes(limit):
        name = misclassified_name(numbers[i], evaluation.y_true[i], evaluation.y_pred[i],
                                  evaluation.confidence[i], width)
        with atomic_path(out / name) as tmp:
            Image.fromarray(images[i]).save(tmp, format="PNG")
        written.append(out / name)
    return written


__all__ = ["EPSILON", "Evaluation", "evaluate_model", "misclassified_name", "summarize",
           "write_misclassified"]
