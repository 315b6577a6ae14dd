"""Probability bars for the digits 0–9 (one pyqtgraph BarGraphItem, created once).

The winner's percentage sits just above its bar when there is room below the top of the view,
and inside the top of the bar (in the highlight's text colour) when there is not: a tall bar's
label is never clipped. Room is measured in pixels, so it holds at any widget height.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

import digitpad.gui.qtcompat  # noqa: F401  (PySide6 emit() refcount work-around)

BLANK_TEXT = "Draw a digit"

Y_TOP = 1.12
"""Top of the view in probability units (a little headroom above 100 %)."""

LABEL_GAP_PX = 3
"""Pixels between the bar's top and its percentage label."""


def _palette_colors(widget: QWidget) -> dict[str, QColor]:
    pal = widget.palette()
    base = pal.color(QPalette.ColorRole.Base)
    text = pal.color(QPalette.ColorRole.Text)
    highlight = pal.color(QPalette.ColorRole.Highlight)
    dark = base.lightness() < 128
    bar = QColor(text)
    bar.setAlpha(90 if dark else 70)
    low = QColor(230, 160, 40)
    on_bar = pal.color(QPalette.ColorRole.HighlightedText)
    return {"base": base, "text": text, "highlight": highlight, "bar": bar, "low": low,
            "on_bar": on_bar}


class ProbabilityBars(pg.PlotWidget):
    """Bars of the ten class probabilities, the winner highlighted and labelled.

    The bar item and the text items are created once; updates only call ``setOpts`` /
    ``setText`` so that an update costs well under a millisecond.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.setMinimumSize(300, 200)
        self._colors = _palette_colors(self)
        self.setBackground(self._colors["base"])
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.showGrid(x=False, y=True, alpha=0.15)
        item.setXRange(-0.6, 9.6, padding=0)
        item.setYRange(0, Y_TOP, padding=0)
        axis_pen = pg.mkPen(self._colors["text"])
        for name in ("bottom", "left"):
            axis = item.getAxis(name)
            axis.setPen(axis_pen)
            axis.setTextPen(axis_pen)
        item.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)]])
        item.getAxis("left").setTicks([[(v, f"{int(v * 100)} %") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        item.getAxis("left").setWidth(48)
        self._normal_brush = pg.mkBrush(self._colors["bar"])
        self._win_brush = pg.mkBrush(self._colors["highlight"])
        self._low_brush = pg.mkBrush(self._colors["low"])
        self._heights = np.zeros(10, dtype=np.float64)
        self._bars = pg.BarGraphItem(
            x=np.arange(10), height=self._heights.copy(), width=0.72,
            brushes=[self._normal_brush] * 10, pen=pg.mkPen(None),
        )
        item.addItem(self._bars)
        self._value_label = pg.TextItem("", color=self._colors["text"], anchor=(0.5, 1.0))
        item.addItem(self._value_label)
        self._label_inside = False
        item.getViewBox().sigResized.connect(self._place_label)
        self._message = pg.TextItem(BLANK_TEXT, color=self._colors["text"], anchor=(0.5, 0.5))
        font = self._message.textItem.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self._message.setFont(font)
        self._message.setPos(4.5, 0.93)
        item.addItem(self._message)
        self._text = BLANK_TEXT
        self._winner: int | None = None
        self.setToolTip("What the model thinks: the probability of each digit 0–9.")

    # ----------------------------------------------------------------- public API
    def heights(self) -> np.ndarray:
        """Current bar heights (a copy)."""
        return self._heights.copy()

    def value_label(self) -> pg.TextItem:
        """The winner's percentage label (empty text when nothing is shown)."""
        return self._value_label

    def winner(self) -> int | None:
        """The highlighted digit, or None when nothing is shown."""
        return self._winner

    def message(self) -> str:
        """The text shown over the bars ('Draw a digit', 'Not sure — maybe 4 (45 %)', …)."""
        return self._text

    def set_message(self, text: str) -> None:
        """Show all bars at zero with a message (blank pad, model loading, …)."""
        self._heights[:] = 0.0
        self._winner = None
        self._bars.setOpts(height=self._heights.copy(), brushes=[self._normal_brush] * 10)
        self._value_label.setText("")
        self._set_text(text)

    def set_probabilities(self, probs: np.ndarray, *, low_confidence: bool = False) -> None:
        """Show ten probabilities; the largest is highlighted and labelled with its percentage."""
        p = np.asarray(probs, dtype=np.float64).reshape(-1)
        if p.shape != (10,) or not np.all(np.isfinite(p)):
            self.set_message("The model gave no usable probabilities")
            return
        self._heights[:] = np.clip(p, 0.0, 1.0)
        win = int(np.argmax(p))
        self._winner = win
        brushes = [self._normal_brush] * 10
        brushes[win] = self._low_brush if low_confidence else self._win_brush
        self._bars.setOpts(height=self._heights.copy(), brushes=brushes)
        pct = 100.0 * float(p[win])
        self._value_label.setText(f"{pct:.0f} %")
        self._place_label()
        if low_confidence:
            self._set_text(f"Not sure — maybe {win} ({pct:.0f} %)")
        else:
            self._set_text("")

    def show_prediction(self, prediction) -> None:
        """Show a :class:`digitpad.core.inference.Prediction` (blank -> 'Draw a digit')."""
        if prediction is None or prediction.blank or prediction.probabilities is None:
            self.set_message(BLANK_TEXT)
        else:
            self.set_probabilities(
                prediction.probabilities, low_confidence=bool(prediction.low_confidence)
            )

    def _place_label(self) -> None:
        """Put the winner's label above its bar if it fits under the view's top, else inside."""
        if self._winner is None:
            return
        height = float(self._heights[self._winner])
        px = self.getPlotItem().getViewBox().viewPixelSize()[1]  # probability units per pixel
        label_px = self._value_label.textItem.boundingRect().height()
        gap = LABEL_GAP_PX * px
        inside = height + gap + label_px * px > Y_TOP and height - gap - label_px * px > 0
        if inside:
            self._value_label.setAnchor((0.5, 0.0))  # the label's top edge at the point
            self._value_label.setColor(self._colors["on_bar"])
            self._value_label.setPos(self._winner, height - gap)
        else:
            self._value_label.setAnchor((0.5, 1.0))  # the label's bottom edge at the point
            self._value_label.setColor(self._colors["text"])
            self._value_label.setPos(self._winner, height + gap)
        self._label_inside = inside

    def label_inside_bar(self) -> bool:
        """True when the winner's label is drawn inside its bar (no room above it)."""
        return self._label_inside

    def _set_text(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self._message.setText(text)
