"""The confusion matrix as a clickable pyqtgraph heatmap with the numbers in its cells.

Rows are the true digits (0 at the top), columns the predicted ones. The image item, the hundred
text items and the selection frame are created once; :meth:`ConfusionMatrixView.set_matrix`
only calls ``setImage`` / ``setText``. Counts are coloured on a logarithmic scale (the diagonal
would otherwise hide every mistake), row-normalised fractions linearly.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPalette, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QWidget

import digitpad.gui.qtcompat  # noqa: F401  (PySide6 emit() refcount work-around)

CLASSES = 10
COLOR_MAP = "CET-L3"   # black - red - yellow - white
#: Above this colour level (0..1) a cell's number is drawn black, below it white.
DARK_TEXT_LEVEL = 0.62


class ConfusionMatrixView(pg.PlotWidget):
    """A 10×10 heatmap of a confusion matrix; a left click on a cell emits ``cell_clicked``.

    Signals
    -------
    cell_clicked(int, int)
        (true digit, predicted digit) of the cell clicked.
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.setMinimumSize(320, 320)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        self.setBackground(pal.color(QPalette.ColorRole.Base))   # as the per-digit bars
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.setAspectLocked(True)
        axis_pen = pg.mkPen(text)
        for name in ("bottom", "left"):
            item.getAxis(name).setPen(axis_pen)
            item.getAxis(name).setTextPen(axis_pen)
        item.invertY(True)
        item.setLabel("bottom", "predicted digit")
        item.setLabel("left", "true digit")
        ticks = [[(d + 0.5, str(d)) for d in range(CLASSES)]]
        for name in ("bottom", "left"):
            item.getAxis(name).setTicks(ticks)
        item.setXRange(0, CLASSES, padding=0.02)
        item.setYRange(0, CLASSES, padding=0.02)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setColorMap(pg.colormap.get(COLOR_MAP))
        # the image first: setRect scales by the image's size (before it, one pixel filled all)
        self._image.setImage(np.zeros((CLASSES, CLASSES), np.float32), levels=(0.0, 1.0),
                             autoLevels=False)
        self._image.setRect(QRectF(0, 0, CLASSES, CLASSES))
        item.addItem(self._image)
        self._texts: list[list[pg.TextItem]] = []
        for t in range(CLASSES):
            row = []
            for p in range(CLASSES):
                text = pg.TextItem("", anchor=(0.5, 0.5))
                text.setPos(p + 0.5, t + 0.5)
                item.addItem(text)
                row.append(text)
            self._texts.append(row)
        self._frame = QGraphicsRectItem(0, 0, 1, 1)
        pen = QPen(QColor(40, 140, 255))
        pen.setWidthF(3.0)
        pen.setCosmetic(True)
        self._frame.setPen(pen)
        self._frame.setVisible(False)
        item.addItem(self._frame)
        self._counts = np.zeros((CLASSES, CLASSES), dtype=np.int64)
        self._normalized = False
        self._selected: tuple[int, int] | None = None
        self.setToolTip("Rows: the true digit; columns: what the model predicted. "
                        "Click a cell to see its images.")
        self.set_matrix(None)

    # ---------------------------------------------------------------- public API
    def set_matrix(self, counts: np.ndarray | None, *, normalized: bool | None = None) -> None:
        """Show ``counts`` (int (10, 10), rows = true digit; None: empty), as counts or fractions."""
        if normalized is not None:
            self._normalized = bool(normalized)
        self._counts = (np.zeros((CLASSES, CLASSES), np.int64) if counts is None
                        else np.asarray(counts, dtype=np.int64).reshape(CLASSES, CLASSES))
        totals = self._counts.sum(axis=1, keepdims=True)
        fractions = np.divide(self._counts, totals, out=np.zeros((CLASSES, CLASSES)),
                              where=totals > 0)
        if self._normalized:
            level = fractions
        else:
            peak = float(self._counts.max())
            level = np.log1p(self._counts) / np.log1p(peak) if peak > 0 else fractions
        self._image.setImage(level.astype(np.float32), levels=(0.0, 1.0), autoLevels=False)
        for t in range(CLASSES):
            for p in range(CLASSES):
                self._texts[t][p].setText(self._cell_text(t, p, fractions))
                dark = level[t, p] > DARK_TEXT_LEVEL
                self._texts[t][p].setColor(QColor(0, 0, 0) if dark else QColor(255, 255, 255))

    def set_normalized(self, normalized: bool) -> None:
        """Switch between counts and row-normalised percentages."""
        self.set_matrix(self._counts, normalized=normalized)

    def normalized(self) -> bool:
        return self._normalized

    def cell_text(self, true: int, pred: int) -> str:
        """The number shown in a cell."""
        return self._texts[true][pred].toPlainText()

    def select(self, cell: tuple[int, int] | None) -> None:
        """Frame the cell (true, predicted), or none."""
        self._selected = cell
        self._frame.setVisible(cell is not None)
        if cell is not None:
            self._frame.setRect(cell[1], cell[0], 1, 1)

    def selected(self) -> tuple[int, int] | None:
        return self._selected

    def cell_center(self, true: int, pred: int):
        """Widget coordinates (QPoint) of a cell's centre (to click it in tests)."""
        box = self.getPlotItem().getViewBox()
        return self.mapFromScene(box.mapViewToScene(pg.Point(pred + 0.5, true + 0.5)))

    # ------------------------------------------------------------------ events
    def mousePressEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().mousePressEvent(ev)
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        box = self.getPlotItem().getViewBox()
        point = box.mapSceneToView(self.mapToScene(ev.position().toPoint()))
        pred, true = int(np.floor(point.x())), int(np.floor(point.y()))
        if 0 <= true < CLASSES and 0 <= pred < CLASSES:
            self.select((true, pred))
            self.cell_clicked.emit(true, pred)

    # ------------------------------------------------------------------ helpers
    def _cell_text(self, t: int, p: int, fractions: np.ndarray) -> str:
        count = int(self._counts[t, p])
        if self._normalized:
            if not self._counts[t].any():
                return ""
            f = 100.0 * fractions[t, p]
            return "0" if count == 0 else (f"{f:.0f}" if f >= 10 else f"{f:.1f}")
        return str(count) if count or self._counts.any() else ""
