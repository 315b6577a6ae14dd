"""Robustness curves: accuracy against the strength of each perturbation, two models overlaid.

One small plot per perturbation (``digitpad.core.robustness.PERTURBATIONS``); each holds two
curves, created once: the model in use (solid) and a second model for comparison (dashed).
:meth:`RobustnessPlot.set_curves` only calls ``setData``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

TITLES = {
    "rotate": "Rotated",
    "shift": "Shifted",
    "scale": "Scaled",
    "thickness": "Thinned / thickened",
    "noise": "Noise added",
}
WHICH = ("current", "compare")
COLUMNS = 3


class RobustnessPlot(pg.GraphicsLayoutWidget):
    """Accuracy curves per perturbation for the model in use and, optionally, a second model."""

    def __init__(self, parent: QWidget | None = None,
                 perturbations: tuple[str, ...] | None = None) -> None:
        super().__init__(parent=parent)
        if perturbations is None:
            from digitpad.core.robustness import PERTURBATIONS

            perturbations = tuple(PERTURBATIONS)
        self.setMinimumSize(480, 300)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        self.setBackground(pal.color(QPalette.ColorRole.Base))
        colors = {"current": pal.color(QPalette.ColorRole.Highlight),
                  "compare": QColor(230, 130, 30)}
        self._plots: dict[str, pg.PlotItem] = {}
        self._curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._labels: dict[str, str] = {w: "" for w in WHICH}
        self._data: dict[str, dict] = {w: {} for w in WHICH}
        for k, name in enumerate(perturbations):
            plot = self.addPlot(row=k // COLUMNS, col=k % COLUMNS)
            plot.setTitle(TITLES.get(name, name), color=text)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            plot.setYRange(0, 1.02, padding=0)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.getAxis("left").setTicks([[(v, f"{int(v * 100)} %") for v in (0, 0.5, 1.0)]])
            for axis in ("bottom", "left"):
                plot.getAxis(axis).setTextPen(pg.mkPen(text))
            if k == 0:
                plot.addLegend(offset=(4, 4), labelTextColor=text)
            for which in WHICH:
                style = Qt.PenStyle.SolidLine if which == "current" else Qt.PenStyle.DashLine
                pen = pg.mkPen(colors[which], width=2, style=style)
                curve = plot.plot([], [], pen=pen, symbol="o", symbolSize=5,
                                  symbolBrush=colors[which], symbolPen=None, name=None)
                self._curves[(name, which)] = curve
            self._plots[name] = plot
        self._legend = self._plots[perturbations[0]].legend if perturbations else None

    # ---------------------------------------------------------------- public API
    def perturbations(self) -> list[str]:
        return list(self._plots)

    def curve_data(self, perturbation: str, which: str = "current") -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of one curve as drawn (empty arrays when none)."""
        x, y = self._curves[(perturbation, which)].getData()
        return (np.zeros(0) if x is None else np.asarray(x), np.zeros(0) if y is None else np.asarray(y))

    def label(self, which: str) -> str:
        return self._labels[which]

    def set_curves(self, which: str, label: str, curves: dict | None) -> None:
        """Draw ``curves`` (perturbation -> ``Curve``) as the ``which`` model ("current"/"compare")."""
        self._labels[which] = label if curves else ""
        self._data[which] = dict(curves or {})
        for name, plot in self._plots.items():
            curve = (curves or {}).get(name)
            item = self._curves[(name, which)]
            if curve is None:
                item.setData([], [])
                continue
            item.setData(np.asarray(curve.values, dtype=float),
                         np.asarray(curve.accuracies, dtype=float))
            unit = getattr(curve, "unit", "")
            plot.setLabel("bottom", unit)
        self._update_legend()

    def _update_legend(self) -> None:
        if self._legend is None:
            return
        self._legend.clear()
        first = next(iter(self._plots))
        for which in WHICH:
            if self._labels[which]:
                self._legend.addItem(self._curves[(first, which)], self._labels[which])
