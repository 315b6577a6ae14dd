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
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.formatting import format_duration

#: Minimum time between two redraws of the per-batch curves (milliseconds; 0 = redraw at once).
REDRAW_INTERVAL_MS = 250


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
    """Two plots (loss, accuracy), each with train per-batch, train per-epoch and validation curves."""

    METRICS = ("loss", "accuracy")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plots: dict[str, pg.PlotWidget] = {}
        self.batch_items: dict[str, pg.PlotDataItem] = {}
        self.epoch_items: dict[str, pg.PlotDataItem] = {}
        self.val_items: dict[str, pg.PlotDataItem] = {}
        self._batch: dict[str, _Series] = {}
        self._epoch: dict[str, _Series] = {}
        self._val: dict[str, _Series] = {}
        batch_pen = pg.mkPen((80, 140, 230, 150), width=1)
        epoch_brush = pg.mkBrush(30, 90, 200)
        val_pen = pg.mkPen((230, 120, 30), width=2)
        for metric in self.METRICS:
            plot = pg.PlotWidget(self)
            plot.setBackground(None)  # follow the palette (light/dark)
            item = plot.getPlotItem()
            item.setTitle(metric.capitalize())
            item.setLabel("bottom", "epoch")
            item.showGrid(x=True, y=True, alpha=0.2)
            item.addLegend(offset=(-10, 10) if metric == "loss" else (-10, -10))
            self.batch_items[metric] = item.plot([], [], pen=batch_pen, name="train (batch)")
            self.epoch_items[metric] = item.plot(
                [], [], pen=None, symbol="o", symbolSize=7, symbolBrush=epoch_brush, name="train (epoch)"
            )
            self.val_items[metric] = item.plot(
                [], [], pen=val_pen, symbol="s", symbolSize=7, symbolBrush=pg.mkBrush(230, 120, 30),
                name="validation",
            )
            self.batch_items[metric].setClipToView(True)
            self.batch_items[metric].setDownsampling(auto=True, method="peak")
            if metric == "accuracy":
                item.setYRange(0.0, 1.0, padding=0.02)
            self.plots[metric] = plot
            self._batch[metric] = _Series()
            self._epoch[metric] = _Series()
            self._val[metric] = _Series()
            layout.addWidget(plot)
        self.redraw_interval_ms = REDRAW_INTERVAL_MS
        self.redraws = 0  # number of per-batch redraws (for tests and benchmarks)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self.flush)
        self._batch_dirty = False
        self._x_extent: float | None = None
        self._loss_top: float | None = None

    def clear(self) -> None:
        """Remove all points (a new run starts)."""
        for metric in self.METRICS:
            for store in (self._batch, self._epoch, self._val):
                store[metric].clear()
        self._redraw_timer.stop()
        self._x_extent = None
        self._loss_top = None
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
        """Set the view ranges, changing them only when the data leave them (see module doc)."""
        xs = [st[m].x[-1] for st in (self._batch, self._epoch, self._val) for m in self.METRICS if st[m].n]
        if not xs:
            return
        extent = float(max(1, math.ceil(max(xs) - 1e-9)))
        if extent != self._x_extent:
            self._x_extent = extent
            for plot in self.plots.values():
                plot.getPlotItem().setXRange(0.0, extent, padding=0.02)
        ys = [st["loss"].y for st in (self._batch, self._epoch, self._val) if st["loss"].n]
        finite = [float(np.max(y[np.isfinite(y)])) for y in ys if np.isfinite(y).any()]
        if not finite:
            return
        top = _nice_ceil(max(max(finite), 1e-3) * 1.05)
        if self._loss_top is None or top > self._loss_top or top < self._loss_top / 4:
            self._loss_top = top
            self.plots["loss"].getPlotItem().setYRange(0.0, top, padding=0.02)


def _nice_ceil(value: float) -> float:
    """Smallest of 1, 2, 2.5, 5 × 10^k that is at least ``value`` (> 0)."""
    exp = math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * 10.0 ** exp >= value:
            return step * 10.0 ** exp
    return 10.0 ** (exp + 1)


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
