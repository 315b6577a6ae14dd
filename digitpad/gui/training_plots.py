"""Live training plots (pyqtgraph): loss and accuracy, per batch and per epoch, plus a progress panel.

Plot items are created once and updated with ``setData`` (the pyqtgraph streaming pattern); the
data live in growable numpy buffers so an update costs one ``setData`` per curve, not a list copy.
Per-batch points are redrawn at most every :data:`REDRAW_INTERVAL_MS`: a redraw (curves, auto-range,
axes) costs the GUI thread 10-20 ms of CPU, measured with ``bench/bench_gui_training.py --trace``,
which at every progress delivery (20 per second) stalled a busy 2-core machine's event loop 30-50 ms.
Most of that cost was the axes: with auto-range the x range grew at every update, so every axis
re-laid out its ticks and text. The view range is therefore set by this widget, and changes only
when the data outgrow it: x in whole epochs, the loss axis from 0 to a rounded maximum.
The x axis is in epochs: a batch ``b`` of ``B`` in epoch ``e`` sits at ``e - 1 + b / B``; epoch
markers sit at ``e``.

Zoom is deliberate (see :mod:`digitpad.gui.plot_view`): Ctrl + wheel zooms, dragging pans, and
*Reset view* or a double-click gives the view back to the data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.formatting import format_duration
from digitpad.gui.plot_view import GuardedPlotWidget, nice_ceil

#: Minimum time between two redraws of the per-batch curves (milliseconds; 0 = redraw at once).
REDRAW_INTERVAL_MS = 250

SIDE_BY_SIDE_PX = 440
"""Narrower than this, the two plots are stacked instead of side by side."""
PLOT_MIN_WIDTH = 150
PLOT_MIN_HEIGHT = 120

BATCH_COLOR = QColor(80, 140, 230)
EPOCH_COLOR = QColor(30, 90, 200)
VAL_COLOR = QColor(230, 120, 30)
BATCH_PEN = pg.mkPen(QColor(80, 140, 230, 150), width=1)


class _Series:
    """Append-only float series in an amortised-doubling numpy buffer."""

    def __init__(self, capacity: int = 1024):
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self.n = 0

    def clear(self) -> None:
        self.n = 0

    def extend(self, xs: Iterable[float], ys: Iterable[float]) -> None:
        xs = np.asarray(list(xs), dtype=np.float64)
        ys = np.asarray(list(ys), dtype=np.float64)
        need = self.n + len(xs)
        if need > len(self._x):
            cap = max(need, 2 * len(self._x))
            self._x = np.resize(self._x, cap)
            self._y = np.resize(self._y, cap)
        self._x[self.n:need] = xs
        self._y[self.n:need] = ys
        self.n = need

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.n]


def format_eta(seconds: float | None) -> str:
    """Format a duration as ``m:ss`` (``h:mm:ss`` past an hour); ``"–"`` when unknown."""
    return format_duration(seconds, "–")

class TrainingPlots(QWidget):
    """Two plots (loss, accuracy), each with train per-batch, train per-epoch and validation curves.

    Above them: one legend for both and a *Reset view* button. The view follows the data until
    the user changes it (Ctrl + wheel zooms, dragging pans); from then on that plot keeps the
    user's view until *Reset view* or a double-click on it. Narrower than
    :data:`SIDE_BY_SIDE_PX`, the plots are stacked instead of side by side.
    """

    METRICS = ("loss", "accuracy")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        header = QHBoxLayout()
        self.legend = QLabel(_legend_html(), self)
        self.legend.setWordWrap(True)
        self.legend.setMinimumWidth(1)  # wraps instead of widening the plots (heightForWidth)
        self.legend.setToolTip("Ctrl + mouse wheel zooms a plot, dragging pans it; "
                               "double-click a plot or press Reset view to follow the data again.")
        self.reset_button = QToolButton(self)
        self.reset_button.setText("Reset view")
        self.reset_button.setToolTip("Show all the data again (or double-click the plot)")
        self.reset_button.setEnabled(False)
        self.reset_button.clicked.connect(lambda: self.reset_view())
        header.addWidget(self.legend, 1)
        header.addWidget(self.reset_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(header)
        # The plots' area has one minimum size whatever the direction (stacked, the larger one):
        # a minimum that changed with the direction would stop a window shrinking in one step.
        area = QWidget(self)
        self._plot_box = QBoxLayout(QBoxLayout.Direction.LeftToRight, area)
        self._plot_box.setContentsMargins(0, 0, 0, 0)
        area.setMinimumSize(PLOT_MIN_WIDTH, 2 * PLOT_MIN_HEIGHT + self._plot_box.spacing())
        layout.addWidget(area, 1)
        self.plots: dict[str, pg.PlotWidget] = {}
        self.batch_items: dict[str, pg.PlotDataItem] = {}
        self.epoch_items: dict[str, pg.PlotDataItem] = {}
        self.val_items: dict[str, pg.PlotDataItem] = {}
        self._batch: dict[str, _Series] = {}
        self._epoch: dict[str, _Series] = {}
        self._val: dict[str, _Series] = {}
        self._user_view: dict[str, bool] = {}
        for metric in self.METRICS:
            plot = GuardedPlotWidget(self)
            plot.setBackground(None)  # follow the palette (light/dark)
            plot.setMinimumSize(PLOT_MIN_WIDTH, PLOT_MIN_HEIGHT)
            item = plot.getPlotItem()
            item.setTitle(metric.capitalize(), size="10pt")
            item.setLabel("bottom", "epoch")
            item.showGrid(x=True, y=True, alpha=0.2)
            self.batch_items[metric] = item.plot([], [], pen=BATCH_PEN, name="train (batch)")
            self.epoch_items[metric] = item.plot(
                [], [], pen=None, symbol="o", symbolSize=7, symbolBrush=EPOCH_COLOR,
                name="train (epoch)",
            )
            self.val_items[metric] = item.plot(
                [], [], pen=pg.mkPen(VAL_COLOR, width=2), symbol="s", symbolSize=7,
                symbolBrush=VAL_COLOR, name="validation",
            )
            self.batch_items[metric].setClipToView(True)
            self.batch_items[metric].setDownsampling(auto=True, method="peak")
            view = item.getViewBox()
            view.sigRangeChangedManually.connect(lambda _mask, m=metric: self._on_user_view(m))
            plot.reset_requested.connect(lambda m=metric: self.reset_view(m))
            self.plots[metric] = plot
            self._user_view[metric] = False
            self._batch[metric] = _Series()
            self._epoch[metric] = _Series()
            self._val[metric] = _Series()
            self._plot_box.addWidget(plot)
        self.redraw_interval_ms = REDRAW_INTERVAL_MS
        self.redraws = 0  # number of per-batch redraws (for tests and benchmarks)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self.flush)
        self._batch_dirty = False
        self._x_extent = 1.0
        self._loss_top: float | None = None
        for metric in self.METRICS:
            self._apply_view(metric)

    # ----------------------------------------------------------------- data
    def clear(self) -> None:
        """Remove all points (a new run starts)."""
        for metric in self.METRICS:
            for store in (self._batch, self._epoch, self._val):
                store[metric].clear()
        self._redraw_timer.stop()
        self._refresh(batch=True, epoch=True)

    def flush(self) -> None:
        """Draw per-batch points that are still waiting for the next redraw."""
        self._redraw_timer.stop()
        if self._batch_dirty:
            self._refresh(batch=True)

    def add_batches(self, xs: list[float], logs: list[dict]) -> None:
        """Append per-batch points at fractional epochs ``xs`` with their ``logs``."""
        if not xs:
            return
        for metric in self.METRICS:
            pts = [(x, lg[metric]) for x, lg in zip(xs, logs, strict=True) if metric in lg]
            if pts:
                self._batch[metric].extend((p[0] for p in pts), (p[1] for p in pts))
        self._batch_dirty = True
        if self.redraw_interval_ms <= 0:
            self.flush()
        elif not self._redraw_timer.isActive():
            self._redraw_timer.start(int(self.redraw_interval_ms))

    def add_epoch(self, epoch: float, logs: dict) -> None:
        """Append per-epoch training and validation points at x = ``epoch``."""
        for metric in self.METRICS:
            if metric in logs:
                self._epoch[metric].extend([epoch], [logs[metric]])
            if "val_" + metric in logs:
                self._val[metric].extend([epoch], [logs["val_" + metric]])
        self._redraw_timer.stop()
        self._refresh(batch=self._batch_dirty, epoch=True)

    def point_counts(self) -> dict[str, int]:
        """Number of points held by each curve (for tests and status)."""
        out = {}
        for metric in self.METRICS:
            out[f"batch_{metric}"] = self._batch[metric].n
            out[f"epoch_{metric}"] = self._epoch[metric].n
            out[f"val_{metric}"] = self._val[metric].n
        return out

    # ----------------------------------------------------------------- view
    def user_view(self, metric: str) -> bool:
        """True while the user's zoom/pan, not the data, decides ``metric``'s view."""
        return self._user_view[metric]

    def reset_view(self, metric: str | None = None) -> None:
        """Let the data decide the view again: of ``metric``'s plot, or of both (``None``)."""
        for m in self.METRICS if metric is None else (metric,):
            self._user_view[m] = False
            self._apply_view(m)
        self.reset_button.setEnabled(any(self._user_view.values()))

    def _on_user_view(self, metric: str) -> None:
        self._user_view[metric] = True
        self.reset_button.setEnabled(True)

    def _apply_view(self, metric: str) -> None:
        """Set ``metric``'s view from the data: x in whole epochs, y 0..1 or 0..rounded loss."""
        item = self.plots[metric].getPlotItem()
        item.setXRange(0.0, self._x_extent, padding=0.02)
        top = 1.0 if metric == "accuracy" else (self._loss_top or 1.0)
        item.setYRange(0.0, top, padding=0.02)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        wide = event.size().width() >= SIDE_BY_SIDE_PX
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        if self._plot_box.direction() != direction:
            self._plot_box.setDirection(direction)
        super().resizeEvent(event)

    def _refresh(self, batch: bool = False, epoch: bool = False) -> None:
        if batch:
            self._batch_dirty = False
            self.redraws += 1
        for metric in self.METRICS:
            if batch:
                s = self._batch[metric]
                self.batch_items[metric].setData(s.x, _finite(s.y))
            if epoch:
                s = self._epoch[metric]
                self.epoch_items[metric].setData(s.x, _finite(s.y))
                s = self._val[metric]
                self.val_items[metric].setData(s.x, _finite(s.y))
        self._update_ranges()

    def _update_ranges(self) -> None:
        """Follow the data, changing a view only when the data leave it (see module doc)."""
        changed: set[str] = set()
        xs = [st[m].x[-1] for st in (self._batch, self._epoch, self._val) for m in self.METRICS if st[m].n]
        extent = float(max(1, math.ceil(max(xs) - 1e-9))) if xs else 1.0
        if extent != self._x_extent:
            self._x_extent = extent
            changed.update(self.METRICS)
        ys = [st["loss"].y for st in (self._batch, self._epoch, self._val) if st["loss"].n]
        finite = [float(np.max(y[np.isfinite(y)])) for y in ys if np.isfinite(y).any()]
        top = nice_ceil(max(max(finite), 1e-3) * 1.05) if finite else None
        if top is None or self._loss_top is None or top > self._loss_top or top < self._loss_top / 4:
            if top != self._loss_top:
                self._loss_top = top
                changed.add("loss")
        for metric in changed:
            if not self._user_view[metric]:
                self._apply_view(metric)


def _legend_html() -> str:
    """One legend for both plots (they draw the same three series)."""

    def entry(color: QColor, mark: str, text: str) -> str:
        text = text.replace(" ", "&nbsp;")  # wrap between entries, not inside one
        return f'<span style="color:{color.name()}; font-weight:bold">{mark}</span>&nbsp;{text}'

    return " &nbsp; ".join((
        entry(BATCH_COLOR, "━", "train (batch)"),
        entry(EPOCH_COLOR, "●", "train (epoch)"),
        entry(VAL_COLOR, "■", "validation"),
    ))


def _finite(y: np.ndarray) -> np.ndarray:
    # pyqtgraph's autorange chokes on inf; NaN is drawn as a gap. Copy only when needed.
    if y.size and not np.isfinite(y).all():
        y = np.where(np.isinf(y), np.nan, y)
    return y



class ProgressPanel(QWidget):
    """Progress bar (epoch, batch, time left, samples/s) and a log with a line per epoch."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(True)
        self.bar.setFormat("Idle")
        self.detail = QLabel("", self)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setPlaceholderText("Training log: one line per epoch.")
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addWidget(self.log)

    def reset(self, text: str = "Idle") -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setFormat(text)
        self.detail.setText("")

    def show_progress(self, p) -> None:
        """Show a core ``Progress`` event (any kind)."""
        epochs = max(int(getattr(p, "epochs", 0) or 0), 1)
        batches = max(int(getattr(p, "batches", 0) or 0), 1)
        epoch = max(int(getattr(p, "epoch", 1) or 1), 1)
        batch = int(getattr(p, "batch", 0) or 0)
        total = epochs * batches
        done = min(total, (epoch - 1) * batches + batch)
        if p.kind == "epoch":
            done = min(total, epoch * batches)
            batch = batches
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        eta = format_eta(getattr(p, "eta_s", None))
        self.bar.setFormat(f"Epoch {epoch}/{epochs} · batch {batch}/{batches} · {eta} left")
        sps = float(getattr(p, "samples_per_s", 0.0) or 0.0)
        elapsed = format_eta(getattr(p, "elapsed", None))
        self.detail.setText(f"{sps:,.0f} samples/s · elapsed {elapsed}")

    def append(self, line: str) -> None:
        self.log.appendPlainText(line)
