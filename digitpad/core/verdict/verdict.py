"""The verdict on one recognition: ``digit``, ``unsure`` (which two), ``not a digit`` or ``blank``.

Rules, in order (each measured on the drawn benchmark and MNIST, see docs/PERFORMANCE.md):

1. nothing drawn -> **blank**;
2. the ink is a dot or a dash (:mod:`.ink`) -> **not a digit**, whatever the classifier says;
3. the detector (:mod:`.detector`), when available, scores it above its threshold -> **not a
   digit**;
4. the classifier's top probability is under :data:`NOT_DIGIT_BELOW` -> **not a digit**;
5. the runner-up has at least :data:`UNSURE_RATIO` of the top probability -> **unsure**, naming
   both ("1 or 7?");
6. otherwise -> **digit**.

Rules 1, 2, 4 and 5 work for any loaded model (they need only its -- calibrated, when the file
stores a temperature -- probabilities); rule 3 is independent of the classifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from digitpad.core.normalize import Normalized
from digitpad.core.verdict.ink import InkStats, ink_stats

DIGIT, UNSURE, NOT_A_DIGIT, BLANK = "digit", "unsure", "not a digit", "blank"
VERDICTS = (DIGIT, UNSURE, NOT_A_DIGIT, BLANK)
#: A top probability under this is no digit the model knows.
NOT_DIGIT_BELOW = 0.25
#: The runner-up at this fraction of the top probability (or more) makes the verdict unsure.
UNSURE_RATIO = 0.7


@dataclass(frozen=True)
class Verdict:
    """What digitpad says about one drawing.

    Attributes
    ----------
    kind : str
        One of :data:`VERDICTS`.
    digit : int or None
        The top guess (None when blank).
    alternatives : tuple of int
        For ``unsure``: the two digits it is between, most probable first.
    top3 : tuple of (int, float)
        The three most probable digits with their probabilities (empty when blank).
    reason : str
        One sentence: why this verdict.
    detector_score : float or None
        The detector's "not a digit" probability (None without a detector).
    """

    kind: str
    digit: int | None
    alternatives: tuple[int, ...] = ()
    top3: tuple[tuple[int, float], ...] = ()
    reason: str = ""
    detector_score: float | None = None
    ink: InkStats | None = field(default=None, repr=False, compare=False)

    @property
    def words(self) -> str:
        """The verdict as the window says it: "It's a 7", "1 or 7?", "Not a digit", "Draw a digit"."""
        if self.kind == BLANK:
            return "Draw a digit"
        if self.kind == NOT_A_DIGIT:
            return "Not a digit"
        if self.kind == UNSURE:
            a, b = self.alternatives
            return f"{a} or {b}?"
        return f"It's a {self.digit}"

    def to_dict(self) -> dict:
        """JSON-able: ``kind``, ``text``, ``digit``, ``alternatives``, ``top3``, ``reason``."""
        return {
            "kind": self.kind, "text": self.words, "digit": self.digit,
            "alternatives": list(self.alternatives),
            "top3": [{"digit": d, "probability": round(p, 6)} for d, p in self.top3],
            "reason": self.reason,
            "detector_score": None if self.detector_score is None else round(self.detector_score, 6),
        }


def _top3(probs: np.ndarray) -> tuple[tuple[int, float], ...]:
    order = np.argsort(-probs, kind="stable")[:3]
    return tuple((int(d), float(probs[d])) for d in order)


def decide(normalized: Normalized, probabilities: np.ndarray | None,
           detector_score: float | None = None, threshold: float = 0.5) -> Verdict:
    """The verdict from what is already known about a drawing.

    Parameters
    ----------
    normalized
        The drawing's normalisation (:func:`~digitpad.core.normalize.normalize_canvas`).
    probabilities
        The classifier's (calibrated) probabilities (10,), None when blank.
    detector_score
        The detector's score, or None when there is no detector.
    threshold
        The detector's threshold.
    """
    if normalized.blank or probabilities is None:
        return Verdict(BLANK, None, reason="nothing is drawn.")
    probs = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    top = _top3(probs)
    digit = top[0][0]
    ink = ink_stats(normalized)

    def make(kind: str, reason: str, alternatives: tuple[int, ...] = ()) -> Verdict:
        return Verdict(kind, digit, alternatives, top, reason, detector_score, ink)

    if ink is not None and ink.is_dot:
        return make(NOT_A_DIGIT, "it is a dot.")
    if ink is not None and ink.is_dash:
        return make(NOT_A_DIGIT, "it is a dash.")
    if detector_score is not None and detector_score > threshold:
        return make(NOT_A_DIGIT, f"the digit detector is {100 * detector_score:.0f} % sure it "
                                 "is not a digit.")
    if top[0][1] < NOT_DIGIT_BELOW:
        return make(NOT_A_DIGIT, f"the model is only {100 * top[0][1]:.0f} % sure of any digit.")
    if top[1][1] >= UNSURE_RATIO * top[0][1]:
        return make(UNSURE, f"{top[0][0]} ({100 * top[0][1]:.0f} %) and {top[1][0]} "
                            f"({100 * top[1][1]:.0f} %) are close.", (top[0][0], top[1][0]))
    return make(DIGIT, f"{digit} at {100 * top[0][1]:.0f} %.")
