"""From a drawing or an image file to a :class:`Prediction`: normalise like MNIST, then predict.

:func:`recognize_file` is :func:`~digitpad.core.images.load_image` followed by :func:`recognize`,
so a caller that loads the file itself (the GUI, in a worker) and recognises the array gets the
very same result as ``digitpad predict FILE``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from digitpad.core.errors import DigitpadError
from digitpad.core.images import load_image
from digitpad.core.inference.predictor import Predictor
from digitpad.core.normalize import Normalized, normalize_canvas

#: Below this top probability a prediction is flagged ``low_confidence``.
LOW_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Prediction:
    """What the model thinks one drawing is.

    Attributes
    ----------
    blank : bool
        Nothing drawn: no prediction was made.
    digit : int or None
        The most probable digit (None when blank).
    confidence : float
        Its probability (0.0 when blank).
    probabilities : numpy.ndarray or None
        float32 (10,) (None when blank).
    normalized : Normalized
        The normalisation steps, including the 28x28 image the model saw.
    low_confidence : bool
        ``confidence < LOW_CONFIDENCE`` for a real prediction (False when blank).
    """

    blank: bool
    digit: int | None
    confidence: float
    probabilities: np.ndarray | None
    normalized: Normalized
    low_confidence: bool


def _prediction(normalized: Normalized, probs: np.ndarray | None) -> Prediction:
    if normalized.blank or probs is None:
        return Prediction(True, None, 0.0, None, normalized, False)
    digit = int(np.argmax(probs))
    confidence = float(probs[digit])
    return Prediction(False, digit, confidence, probs, normalized, confidence < LOW_CONFIDENCE)


def recognize(predictor: Predictor, canvas: np.ndarray) -> Prediction:
    """Normalise a drawing MNIST-style and predict it.

    Parameters
    ----------
    predictor : Predictor
    canvas : numpy.ndarray
        2-D, ink bright, any size: the pad's uint8 0..255 canvas as it is, or float 0..1 (e.g.
        :func:`~digitpad.core.images.load_image` output).

    Returns
    -------
    Prediction
        ``blank=True`` (and no probabilities) when nothing is drawn.
    """
    normalized = normalize_canvas(canvas)
    if normalized.blank:
        return _prediction(normalized, None)
    return _prediction(normalized, predictor.predict_one(normalized.image))


def recognize_file(predictor: Predictor, path: str | os.PathLike) -> Prediction:
    """Load an image file and recognise it: ``recognize(predictor, load_image(path))``.

    Parameters
    ----------
    predictor : Predictor
    path : str or os.PathLike
        Any image :func:`~digitpad.core.images.load_image` reads.

    Returns
    -------
    Prediction
        The same as :func:`recognize` on the file's array.

    Raises
    ------
    ImageError
        The file cannot be read as an image.
    """
    return recognize(predictor, load_image(path))


def recognize_files(
    predictor: Predictor,
    paths: Sequence[str | os.PathLike] | Iterable[str | os.PathLike],
    batch_size: int = 256,
) -> list[Prediction | DigitpadError]:
    """Recognise many image files with one batched model run.

    Each file is loaded and normalised on its own (as :func:`recognize_file` does); every
    non-blank one then goes through :meth:`Predictor.predict_batch` together.

    Returns
    -------
    list
        One entry per path, in order: a :class:`Prediction`, or the :class:`DigitpadError`
        (usually :class:`ImageError`) that file raised -- the other files are still predicted.
    """
    results: list[Normalized | DigitpadError] = []
    images, slots = [], []
    for path in paths:
        try:
            normalized = normalize_canvas(load_image(path))
        except DigitpadError as exc:
            results.append(exc)
            continue
        if not normalized.blank:
            slots.append(len(results))
            images.append(normalized.image)
        results.append(normalized)
    probs = predictor.predict_batch(np.stack(images), batch_size) if images else None
    row = {slot: i for i, slot in enumerate(slots)}
    return [
        _prediction(item, probs[row[i]] if i in row else None)
        if isinstance(item, Normalized)
        else item
        for i, item in enumerate(results)
    ]
