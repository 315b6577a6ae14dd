"""The sweep's plots: live loss curves of every run overlaid (one colour per value) and, as runs
finish, their accuracies against the swept value."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from digitpad.core.training.sweep import format_value
from digitpad.gui.plot_view import GuardedPlotWidget

#: Numeric parameters whose values are plotted on a number axis (the rest: one slot per value).
NUMERIC = ("dropout", "learning_rate", "batch_size", "epochs")
#: (row attribute, legend name, colour) of the accuracy-against-value series.
ACCURACY_SERIES = (
    ("train_accuracy", "train", (80, 140, 230)),
    ("val_accuracy", "validation", (230, 120, 30)),
    ("test_accuracy", "test", (40, 160, 80)),
)


def value_colour(index: int, count: int) -> Any:
    """The colour of the ``index``-th value of ``count`` (evenly spaced hues)."""
    return pg.intColor(index, hues=max(count, 2), values=1, maxValue=220, minValue=150)


class SweepPlots(QWidget):
    """Loss per batch of every run (x in epochs) and accuracy against the swept value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = GuardedPlotWidget(self)
        self.loss_plot.setLabel("bottom", "epoch")
        self.loss_plot.setLabel("left", "training loss")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        self.value_plot = GuardedPlotWidget(self)
        self.value_plot.setLabel("left", "accuracy (%)")
        self.value_plot.addLegend(offset=(-10, -10))
        self.value_plot.showGrid(x=True, y=True, alpha=0.2)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.value_plot, 2)
        self.param = ""
        self.values: list[Any] = []
        self.curves: list[pg.PlotDataItem] = []
        self._points: list[tuple[list[float], list[float]]] = []
        self.accuracy_items: dict[str, pg.PlotDataItem] = {}

    def start(self, param: str, values: list[Any]) -> None:
        """Clear both plots and make one (empty) loss curve per value."""
        self.param, self.values = param, list(values)
        self.loss_plot.clear()
        self.value_plot.clear()
        self.curves, self._points = [], []
        for n, value in enumerate(self.values):
            pen = pg.mkPen(value_colour(n, len(self.values)), width=2)
            curve = self.loss_plot.plot([], [], pen=pen, name=f"{param}={format_value(value)}")
            self.curves.append(curve)
            self._points.append(([], []))
        self.value_plot.setLabel("bottom", param)
        numeric = param in NUMERIC
        self.value_plot.setLogMode(x=param == "learning_rate", y=False)
        axis = self.value_plot.getAxis("bottom")
        axis.setTicks(None if numeric else [[(n, format_value(v)) for n, v in
                                             enumerate(self.values)]])
        self.accuracy_items = {
            key: self.value_plot.plot([], [], pen=pg.mkPen(colour, width=1),
                                      symbol="o", symbolBrush=colour, symbolSize=7, name=name)
            for key, name, colour in ACCURACY_SERIES
        }

    def add_loss(self, index: int, xs: list[float], ys: list[float]) -> None:
        """Append loss points to run ``index``'s curve."""
        if not 0 <= index < len(self.curves):
            return
        px, py = self._points[index]
        for x, y in zip(xs, ys, strict=True):
            if y is not None and math.isfinite(y):
                px.append(float(x))
                py.append(float(y))
        self.curves[index].setData(np.asarray(px), np.asarray(py))

    def x_of(self, index: int) -> float:
        """Where value ``index`` sits on the accuracy plot's x axis."""
        value = self.values[index]
        return float(value) if self.param in NUMERIC else float(index)

    def set_rows(self, rows: list[Any]) -> None:
        """Plot the finished runs' accuracies (percent) against their values."""
        for key, item in self.accuracy_items.items():
            xs, ys = [], []
            for row in rows:
                acc = getattr(row, key)
                if acc is not None and math.isfinite(acc):
                    xs.append(self.x_of(row.index))
                    ys.append(100.0 * acc)
            item.setData(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
