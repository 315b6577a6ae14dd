"""The verdict in words over the Recognize tab's bars: "It's a 7", "1 or 7?", "Not a digit",
"Draw a digit", with the top-3 digits underneath.

The verdict comes from the core (:mod:`digitpad.core.verdict`); this widget only shows it. The
bundled "is this a digit?" detector is loaded once as a background task; until it is ready (or if
it cannot be loaded) the verdict uses ink statistics and confidence alone and the tooltip says so.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from digitpad.core.verdict import BLANK, NOT_A_DIGIT, UNSURE, Verdict, decide


class VerdictPanel(QWidget):
    """Verdict words (large) and the top-3 digits with their probabilities."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.words_label = QLabel("Draw a digit")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.words_label.setFont(font)
        self.words_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.top3_label = QLabel("")
        self.top3_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.words_label)
        layout.addWidget(self.top3_label)
        self.detector = None
        self.detector_note: str | None = "the digit detector is still loading."
        self.verdict: Verdict | None = None

    def load_detector(self, runner, on_ready=None) -> None:
        """Load the bundled detector as a background task; ``on_ready()`` once it is in place."""
        from digitpad.core.verdict.detector import default_detector

        def done(result) -> None:
            self.detector, self.detector_note = result
            if on_ready is not None:
                on_ready()

        runner.start(default_detector, name="load digit detector", on_done=done)

    def judge(self, prediction) -> Verdict:
        """The verdict on a :class:`~digitpad.core.inference.Prediction` (cheap: ink + one detector call)."""
        det = self.detector
        score = None
        if det is not None and not prediction.blank and prediction.probabilities is not None:
            score = det.score(prediction.normalized.image)
        return decide(prediction.normalized, prediction.probabilities, score,
                      det.threshold if det is not None else 0.5)

    def show_verdict(self, verdict: Verdict) -> None:
        """Show ``verdict`` in words, its top 3 and, as tooltip, the reason."""
        self.verdict = verdict
        self.words_label.setText(verdict.words)
        colour = {NOT_A_DIGIT: "#b04020", UNSURE: "#a07000"}.get(verdict.kind, "")
        self.words_label.setStyleSheet(f"color: {colour};" if colour else "")
        if verdict.kind == BLANK:
            self.top3_label.setText("")
        else:
            self.top3_label.setText("Top 3: " + "   ".join(
                f"{d} ({100 * p:.0f} %)" for d, p in verdict.top3))
        tip = f"Why: {verdict.reason}"
        if self.detector is None and self.detector_note:
            tip += f"\nNote: {self.detector_note}"
        self.setToolTip(tip)

    def clear(self, text: str = "") -> None:
        """No verdict (no model yet): show ``text`` only."""
        self.verdict = None
        self.words_label.setText(text)
        self.words_label.setStyleSheet("")
        self.top3_label.setText("")
