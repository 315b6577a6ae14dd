"""pyqtgraph pieces shared by digitpad's plots: deliberate zoom and ticks that never crowd.

* :class:`GuardedViewBox` zooms with the mouse wheel only while Ctrl is held (a plain wheel turn
  scrolls whatever holds the plot); :class:`GuardedPlotWidget` asks for its view to be reset on
  a double-click.
* :class:`SparseTickAxis` keeps at least :data:`MIN_LABEL_PX` pixels between labelled ticks, so
  a narrow or short plot shows fewer ticks instead of overlapping labels.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

MIN_LABEL_PX = {"bottom": 40.0, "top": 40.0, "left": 18.0, "right": 18.0}
"""Least distance in pixels between two labelled ticks, per axis orientation."""

ZOOM_MODIFIER = Qt.KeyboardModifier.ControlModifier
"""Held with the mouse wheel, it zooms a plot; without it the wheel does not change the view."""


def nice_ceil(value: float, steps: tuple[float, ...] = (1.0, 2.0, 2.5, 5.0)) -> float:
    """Smallest of ``steps`` × 10^k (default 1, 2, 2.5, 5) that is at least ``value`` (> 0)."""
    exp = math.floor(math.log10(value))
    for step in (*steps, 10.0):
        if step * 10.0 ** exp >= value:
            return step * 10.0 ** exp
    return 10.0 ** (exp + 1)


class GuardedViewBox(pg.ViewBox):
    """A ViewBox whose wheel zoom needs Ctrl (dragging pans as usual)."""

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802 - pyqtgraph API
        if ev.modifiers() & ZOOM_MODIFIER:
            super().wheelEvent(ev, axis)
        else:
            ev.ignore()


class SparseTickAxis(pg.AxisItem):
    """An AxisItem that labels only major ticks, spaced for their labels to fit."""

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.setStyle(maxTickLevel=1, maxTextLevel=0)

    def tickSpacing(self, minVal: float, maxVal: float, size: float):  # noqa: N802
        levels = super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if not levels or span == 0 or size <= 0:
            return levels
        most = max(1.0, size / MIN_LABEL_PX[self.orientation])  # labelled intervals that fit
        major = levels[0][0]
        if span / major <= most:
            return levels
        major = nice_ceil(span / most, steps=(1.0, 2.0, 5.0))  # 2.5 would need more digits
        return [(major, 0), (major / 5 if major / 5 >= 2 * span / size else major, 0)]


class GuardedPlotWidget(pg.PlotWidget):
    """A PlotWidget with a :class:`GuardedViewBox`, sparse ticks and no context menu or buttons.

    Signals
    -------
    reset_requested
        The user double-clicked the plot with the left button.
    """

    reset_requested = Signal()

    def __init__(self, parent=None, **kwargs) -> None:
        super().__init__(
            parent, viewBox=GuardedViewBox(),
            axisItems={name: SparseTickAxis(name) for name in ("bottom", "left")}, **kwargs,
        )
        item = self.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)

    def mouseDoubleClickEvent(self, ev) -> None:  # noqa: N802 - Qt API
        # handled on the widget, not in the ViewBox: with Qt 6 pyqtgraph's scene handed the
        # ViewBox single clicks only
        super().mouseDoubleClickEvent(ev)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.reset_requested.emit()
