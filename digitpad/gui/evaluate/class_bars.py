"""Accuracy per true digit as bars (one pyqtgraph BarGraphItem and ten labels, created once)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

CLASSES = 10
#: Bars below this accuracy are drawn in the warning colour.
WEAK = 0.9


class ClassAccuracyBars(pg.PlotWidget):
    """Ten bars: the fraction of each digit's images the model got right ("–": no images)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.setMinimumSize(260, 150)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        self.setBackground(pal.color(QPalette.ColorRole.Base))
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.setXRange(-0.6, 9.6, padding=0)
        item.setYRange(0, 1.15, padding=0)
        item.setTitle("Accuracy per digit", color=text)
        axis_pen = pg.mkPen(text)
        for name in ("bottom", "left"):
            item.getAxis(name).setPen(axis_pen)
            item.getAxis(name).setTextPen(axis_pen)
        item.getAxis("bottom").setTicks([[(d, str(d)) for d in range(CLASSES)]])
        item.getAxis("left").setTicks([[(v, f"{int(v * 100)} %") for v in (0, 0.5, 1.0)]])
        item.getAxis("left").setWidth(58)   # "100 %" fits at a 10 pt font
        item.getAxis("left").setStyle(hideOverlappingLabels=False)   # "100 %" at the top edge
        self._good = pg.mkBrush(pal.color(QPalette.ColorRole.Highlight))
        self._weak = pg.mkBrush(QColor(230, 160, 40))
        self._values: list[float | None] = [None] * CLASSES
        self._bars = pg.BarGraphItem(x=np.arange(CLASSES), height=np.zeros(CLASSES), width=0.7,
                                     brushes=[self._good] * CLASSES, pen=pg.mkPen(None))
        item.addItem(self._bars)
        self._labels = []
        for d in range(CLASSES):
            label = pg.TextItem("", color=text, anchor=(0.5, 1.0))
            label.setPos(d, 0.0)
            item.addItem(label)
            self._labels.append(label)
        self.setToolTip("The share of each digit's test images the model recognised correctly.")

    def values(self) -> list[float | None]:
        """The accuracies shown (None: the digit had no images)."""
        return list(self._values)

    def label_text(self, digit: int) -> str:
        return self._labels[digit].toPlainText()

    def set_accuracies(self, per_class: list[float | None] | None) -> None:
        """Show ten accuracies in [0, 1] (None for a digit without images); None clears."""
        values = list(per_class) if per_class is not None else [None] * CLASSES
        self._values = [None if v is None else float(v) for v in values]
        heights = np.array([0.0 if v is None else v for v in self._values])
        brushes = [self._weak if v is not None and v < WEAK else self._good for v in self._values]
        self._bars.setOpts(height=heights, brushes=brushes)
        for d, v in enumerate(self._values):
            if per_class is None:
                text = ""
            elif v is None:
                text = "–"
            else:
                text = "100" if v >= 1.0 else f"{100 * v:.1f}"  # 99.8 is not "100"
            self._labels[d].setText(text)
            self._labels[d].setPos(d, float(heights[d]) + 0.01)
