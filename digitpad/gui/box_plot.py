"""A box-and-whisker plot of k-fold accuracies, in percent.

pyqtgraph has no box plot; :class:`BoxPlot` draws one from ``PlotDataItem``s created once (box,
median, whiskers at 1.5 IQR, outliers, and every fold as a point) and updated with ``setData``.
Empty, it shows the whole 0–100 % scale; zoom is deliberate (:mod:`digitpad.gui.plot_view`).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from digitpad.gui.plot_view import GuardedPlotWidget

EMPTY_RANGE = (0.0, 100.0)
"""The y range (percent) shown while there are no folds."""


def box_stats(values: list[float] | np.ndarray) -> dict:
    """Quartiles, median, whisker ends (1.5 IQR rule) and outliers of ``values``."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("no finite values")
    q1, median, q3 = np.percentile(v, [25, 50, 75])
    iqr = q3 - q1
    lo_lim, hi_lim = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    inside = v[(v >= lo_lim) & (v <= hi_lim)]
    return {
        "q1": float(q1),
        "median": float(median),
        "q3": float(q3),
        "low": float(inside.min()) if inside.size else float(q1),
        "high": float(inside.max()) if inside.size else float(q3),
        "outliers": [float(x) for x in v[(v < lo_lim) | (v > hi_lim)]],
        "mean": float(v.mean()),
    }


class BoxPlot(GuardedPlotWidget):
    """A single box-and-whisker plot of fold accuracies (in %), with the folds as points."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackground(None)
        item = self.getPlotItem()
        item.setTitle("Fold accuracy")
        item.setLabel("left", "accuracy (%)")
        item.showGrid(y=True, alpha=0.2)
        item.getAxis("bottom").setTicks([[(1.0, "k-fold")]])
        pen = pg.mkPen((30, 90, 200), width=2)
        self.box_item = item.plot([], [], pen=pen)
        self.median_item = item.plot([], [], pen=pg.mkPen((230, 120, 30), width=3))
        self.whisker_item = item.plot([], [], pen=pen, connect="pairs")
        self.points_item = item.plot([], [], pen=None, symbol="o", symbolSize=7,
                                     symbolBrush=pg.mkBrush(30, 90, 200, 160))
        self.outlier_item = item.plot([], [], pen=None, symbol="x", symbolSize=10,
                                      symbolPen=pg.mkPen((200, 40, 40), width=2))
        self.stats: dict | None = None
        self._y_range = EMPTY_RANGE
        self.reset_requested.connect(self.reset_view)
        self.reset_view()

    def reset_view(self) -> None:
        """Show the folds' range again (the whole percent scale when there are none)."""
        item = self.getPlotItem()
        item.setXRange(0.4, 1.6)
        item.setYRange(*self._y_range)

    def clear_values(self) -> None:
        """Remove the folds; the axis shows the whole percent scale again."""
        for it in (self.box_item, self.median_item, self.whisker_item, self.points_item,
                   self.outlier_item):
            it.setData([], [])
        self.stats = None
        self._y_range = EMPTY_RANGE
        self.reset_view()

    def set_values(self, accuracies: list[float]) -> None:
        """Draw the box plot of ``accuracies`` (fractions 0..1, shown in %)."""
        values = 100.0 * np.asarray(accuracies, dtype=np.float64)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            self.clear_values()
            return
        st = box_stats(finite)
        self.stats = st
        x0, x1, cx = 0.75, 1.25, 1.0
        self.box_item.setData([x0, x1, x1, x0, x0], [st["q1"], st["q1"], st["q3"], st["q3"], st["q1"]])
        self.median_item.setData([x0, x1], [st["median"], st["median"]])
        cap0, cap1 = 0.9, 1.1
        self.whisker_item.setData(
            [cx, cx, cx, cx, cap0, cap1, cap0, cap1],
            [st["q1"], st["low"], st["q3"], st["high"], st["low"], st["low"], st["high"], st["high"]],
        )
        rng = np.random.default_rng(0)
        jitter = cx + rng.uniform(-0.08, 0.08, size=finite.size)
        self.points_item.setData(jitter, finite)
        outl = st["outliers"]
        self.outlier_item.setData([cx] * len(outl), outl)
        low, high = float(finite.min()), float(finite.max())
        span = max(high - low, 0.2)
        self._y_range = (max(EMPTY_RANGE[0], low - 0.2 * span), min(EMPTY_RANGE[1], high + 0.2 * span))
        self.reset_view()
