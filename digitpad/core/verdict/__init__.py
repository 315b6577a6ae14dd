"""The verdict on every recognition: ``digit``, ``unsure`` ("1 or 7?"), ``not a digit``, ``blank``.

Modules:

* :mod:`.ink` -- ink statistics (dot, dash, extent, roundness, straightness), no model;
* :mod:`.detector` -- the tiny "is this a digit?" CNN beside the classifier (``models/detector.keras``,
  loaded safely, lazily, once);
* :mod:`.training` -- its training data (other seeds than the benchmark's) and training;
* :mod:`.verdict` -- :class:`Verdict` and the rules (:func:`decide`).

Usage::

    pred = recognize(predictor, canvas)
    v = judge(pred.normalized, pred.probabilities)   # the bundled detector, loaded on first use
    v.kind, v.words                                  # "unsure", "1 or 7?"
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from digitpad.core.normalize import Normalized
from digitpad.core.verdict.detector import (
    Detector,
    default_detector,
    detector_path,
    forget_default_detector,
    load_detector,
)
from digitpad.core.verdict.ink import InkStats, ink_stats
from digitpad.core.verdict.verdict import (
    BLANK,
    DIGIT,
    NOT_A_DIGIT,
    UNSURE,
    VERDICTS,
    Verdict,
    decide,
)

#: Pass as ``detector`` to use the bundled detector (loaded once, lazily).
BUNDLED = "bundled"


def _resolve(detector: Detector | str | None) -> Detector | None:
    if detector == BUNDLED:
        return default_detector()[0]
    return detector if isinstance(detector, Detector) else None


def judge(normalized: Normalized, probabilities: np.ndarray | None,
          detector: Detector | str | None = BUNDLED) -> Verdict:
    """The verdict on one recognised drawing.

    Parameters
    ----------
    normalized
        Its normalisation (``Prediction.normalized``).
    probabilities
        The classifier's probabilities (``Prediction.probabilities``; None when blank).
    detector
        A :class:`Detector`, :data:`BUNDLED` (default: the shipped one, or none if it cannot be
        loaded -- see :func:`detector_note`), or None for ink and confidence rules only.
    """
    det = _resolve(detector)
    score = None
    if det is not None and not normalized.blank and probabilities is not None:
        score = det.score(normalized.image)
    return decide(normalized, probabilities, score, det.threshold if det else 0.5)


def judge_many(normalized: Sequence[Normalized], probabilities: Sequence[np.ndarray | None],
               detector: Detector | str | None = BUNDLED) -> list[Verdict]:
    """:func:`judge` for many drawings, with one batched detector run."""
    det = _resolve(detector)
    scores: list[float | None] = [None] * len(normalized)
    live = [i for i, (n, p) in enumerate(zip(normalized, probabilities, strict=True))
            if not n.blank and p is not None]
    if det is not None and live:
        got = det.score_batch(np.stack([normalized[i].image for i in live]))
        for i, s in zip(live, got, strict=True):
            scores[i] = float(s)
    thr = det.threshold if det else 0.5
    return [decide(n, p, s, thr) for n, p, s in zip(normalized, probabilities, scores, strict=True)]


def detector_note() -> str | None:
    """None when the bundled detector works, else the one sentence saying why it does not."""
    return default_detector()[1]


__all__ = [
    "BLANK", "BUNDLED", "DIGIT", "NOT_A_DIGIT", "UNSURE", "VERDICTS", "Detector", "InkStats",
    "Verdict", "decide", "default_detector", "detector_note", "detector_path",
    "forget_default_detector", "ink_stats", "judge", "judge_many", "load_detector",
]
