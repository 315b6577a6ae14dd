"""Probability bars for the digits 0–9 (one pyqtgraph BarGraphItem, created once).

The winner's percentage sits just above its bar. The top of the view is set from the widget's
height in pixels so that even a 100 % bar leaves room for its label at any size: the label is
never clipped.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

import digitpad.gui.qtcompat  # noqa: F401  (PySide6 emit() refcount work-around)

BLANK_TEXT = "Draw a digit"

MIN_TOP = 1.08
"""Least top of the view in probability units (headroom above 100 % even on a tall widget)."""

LABEL_GAP_PX = 3
"""Pixels between a bar's top and its percentage label."""


def _palette_colors(widget: QWidget) -> dict[str, QColor]:
    pal = widget.palette()
    base = pal.color(QPalette.ColorRole.Base)
    text = pal.color(QPalette.ColorRole.Text)
    highlight = pal.color(QPalette.ColorRole.Highlight)
    dark = base.lightness() < 128
    bar = QColor(text)
    bar.setAlpha(90 if dark else 70)
    low = QColor(230, 160, 40)
    return {"base": base, "text": text, "highlight": highlight, "bar": bar, "low": low}


class ProbabilityBars(pg.PlotWidget):
    """Bars of the ten class probabilities, the winner highlighted and labelled.

    The bar item and the text items are created once; updates only call ``setOpts`` /
    ``setText`` so that an update costs well under a millisecond.

    Signals
    -------
    digit_clicked(int)
        The user clicked (the column of) a digit's bar with the left button.
    """

    digit_clicked = Signal(int)

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
        self._value_label = pg.TextItem("100 %", color=self._colors["text"], anchor=(0.5, 1.0))
        self._label_px = float(self._value_label.textItem.boundingRect().height())
        self._value_label.setText("")
        item.addItem(self._value_label)
        self._message = pg.TextItem(BLANK_TEXT, color=self._colors["text"], anchor=(0.5, 0.5))
        font = self._message.textItem.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self._message.setFont(font)
        self._message.setPos(4.5, 0.93)
        item.addItem(self._message)
        self._text = BLANK_TEXT
        self._winner: int | None = None
        self._top = 0.0
        self._fit_headroom()
        item.getViewBox().sigResized.connect(self._fit_headroom)
        self.setToolTip("What the model thinks: the probability of each digit 0–9.")

    # ----------------------------------------------------------------- public API
    def heights(self) -> np.ndarray:
        """Current bar heights (a copy)."""
        return self._heights.copy()

    def winner(self) -> int | None:
        """The highlighted digit, or None when nothing is shown."""
        return self._winner

    def value_label(self) -> pg.TextItem:
        """The winner's percentage label (empty text when nothing is shown)."""
        return self._value_label

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

    def set_probabilities(self, probs: np.ndarray, *, low_confidence: bool = False,
                          message: bool = True) -> None:
        """Show ten probabilities; the largest is highlighted and labelled with its percentage.

        ``low_confidence`` colours the winner as unsure and, with ``message``, says so over the
        bars (the Recognize tab passes ``message=False``: its headline carries the verdict).
        """
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
        if low_confidence and message:
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

    def mousePressEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().mousePressEvent(ev)
        if ev.button() == Qt.MouseButton.LeftButton:
            box = self.getPlotItem().getViewBox()
            x = box.mapSceneToView(self.mapToScene(ev.position().toPoint())).x()
            if -0.5 <= x < 9.5:
                self.digit_clicked.emit(int(round(x)))

    # ----------------------------------------------------------------- layout
    def _fit_headroom(self) -> None:
        """Set the view's top so that the label of a 100 % bar fits under it.

        With ``H`` pixels for a view ``top`` units high, the label and its gap take
        ``(label + gap) * top / H`` units above the bar: ``1 + that <= top`` gives the bound.
        """
        pixels = float(self.getPlotItem().getViewBox().height())
        room = (self._label_px + 2 * LABEL_GAP_PX) / pixels if pixels > 0 else 1.0
        top = MIN_TOP if room >= 0.5 else max(MIN_TOP, 1.0 / (1.0 - room))
        if top != self._top:
            self._top = top
            self.getPlotItem().setYRange(0, top, padding=0)
            self._place_label()

    def _place_label(self) -> None:
        if self._winner is None:
            return
        gap = LABEL_GAP_PX * self._top / max(1.0, self.getPlotItem().getViewBox().height())
        self._value_label.setPos(self._winner, float(self._heights[self._winner]) + gap)

    def _set_text(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self._message.setText(text)
