"""k-fold cross-validation from the GUI: per-fold accuracies and a box plot.

The evaluation runs as one low-priority task of the app's TaskRunner (core ``run_kfold``, which
also records every fold in the run history); the status line says which fold is training.

pyqtgraph has no box plot; :class:`BoxPlot` draws one from ``PlotDataItem``s (box, median,
whiskers at 1.5 IQR, outliers, and every fold as a point).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from digitpad.gui.tasks import Task, TaskRunner, shared_runner


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


class BoxPlot(pg.PlotWidget):
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
        item.setXRange(0.4, 1.6)
        self.clear_values()

    def clear_values(self) -> None:
        """Remove the box and points; the empty axis spans 0–100 %."""
        for it in (self.box_item, self.median_item, self.whisker_item, self.points_item, self.outlier_item):
            it.setData([], [])
        self.stats = None
        self.getPlotItem().setYRange(0.0, 100.0)

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
        span = max(st["high"] - st["low"], 0.2)
        self.getPlotItem().setYRange(min(finite.min(), st["low"]) - 0.2 * span,
                                     max(finite.max(), st["high"]) + 0.2 * span)


class KFoldDialog(QDialog):
    """Non-modal dialog that runs the core's ``run_kfold`` as a task and shows the result.

    ``config_factory`` returns the ``TrainConfig`` to evaluate (the Train tab's current form).
    The core records each fold's run in the run history; :attr:`evaluated` tells the tab to show
    the new records. ``show_error(title, text)`` tells the user something failed (default: a
    warning box; tests pass their own).
    """

    running_changed = Signal(bool)
    status_message = Signal(str)
    evaluated = Signal(object)  # the KFoldResult

    def __init__(self, config_factory: Callable[[], object], parent: QWidget | None = None, *,
                 runner: TaskRunner | None = None,
                 show_error: Callable[[str, str], None] | None = None):
        super().__init__(parent)
        self.setWindowTitle("k-fold cross-validation")
        self._config_factory = config_factory
        self._runner = runner if runner is not None else shared_runner()
        self._show_error = show_error or (lambda title, text: QMessageBox.warning(self, title, text))
        self._task: Task | None = None
        self._stop = threading.Event()
        self.result = None
        self.error: str | None = None

        self.k_spin = QSpinBox(self)
        self.k_spin.setRange(2, 20)
        self.k_spin.setValue(5)
        self.k_spin.setToolTip("Number of folds: each fold is held out once while the rest train.")
        self.run_button = QPushButton("Run", self)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop after the current batch; completed folds are kept.")
        self.stop_button.setEnabled(False)
        self.run_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.request_stop)
        self.status = QLabel("Uses the Train tab's settings (architecture, epochs, data, limit).", self)
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Fold", "Accuracy"])
        self.table.verticalHeader().setVisible(False)
        self.summary = QLabel("", self)
        self.box = BoxPlot(self)

        top = QHBoxLayout()
        top.addWidget(QLabel("k:", self))
        top.addWidget(self.k_spin)
        top.addWidget(self.run_button)
        top.addWidget(self.stop_button)
        top.addStretch(1)
        body = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self.table)
        left.addWidget(self.summary)
        body.addLayout(left, 1)
        body.addWidget(self.box, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(body)
        self.resize(720, 420)

    # ----------------------------------------------------------------- API
    def is_running(self) -> bool:
        return self._task is not None

    @Slot()
    def start(self) -> None:
        """Start the k-fold evaluation (ignored while one runs)."""
        if self._task is not None:
            return
        try:
            config = self._config_factory()
        except Exception as exc:  # a bad form value: say it
            self._show_error("k-fold", str(exc))
            return
        from digitpad.core.training import run_kfold

        k = int(self.k_spin.value())
        self._stop = threading.Event()
        self.result = None
        self.error = None
        self.table.setRowCount(0)
        self.summary.setText("")
        self.box.clear_values()
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.k_spin.setEnabled(False)
        self.status.setText(f"Running {k}-fold cross-validation…")
        stop = self._stop

        def work(report):
            return run_kfold(config, k, on_progress=report, stop_event=stop)

        self._task = self._runner.start(
            work, name="digitpad-kfold", low_priority=True, stop=stop.set,
            on_progress=self._on_progress, on_done=self._on_done, on_error=self._on_failed,
            on_finished=self._on_finished,
        )
        self.running_changed.emit(True)

    @Slot()
    def request_stop(self) -> None:
        """Ask the evaluation to stop after the current batch (idempotent)."""
        self._stop.set()
        if self._task is not None:
            self.status.setText("Stopping…")

    # ------------------------------------------------------------ callbacks
    def _on_progress(self, reports: list) -> None:
        if self._stop.is_set():
            return
        line = fold_line(reports)
        if line:
            self.status.setText(line)

    def _on_done(self, result) -> None:
        self.result = result
        accs = list(getattr(result, "accuracies", []) or [])
        self.table.setRowCount(len(accs))
        for i, acc in enumerate(accs):
            self.table.setItem(i, 0, QTableWidgetItem(str(i + 1)))
            self.table.setItem(i, 1, QTableWidgetItem(f"{100 * acc:.2f} %"))
        if accs:
            self.summary.setText(f"mean {100 * result.mean:.2f} % ± {100 * result.std:.2f} % (n = {len(accs)})")
            self.box.set_values(accs)
            self.status.setText("Stopped: partial result." if getattr(result, "stopped", False) else "Done.")
        else:
            self.status.setText("Stopped before any fold finished.")
        self.status_message.emit(f"k-fold: {self.summary.text() or self.status.text()}")
        self.evaluated.emit(result)

    def _on_failed(self, reason: str) -> None:
        self.error = reason
        self.status.setText(f"k-fold failed: {reason}")
        self._show_error("k-fold failed", reason)

    def _on_finished(self) -> None:
        self._task = None
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.k_spin.setEnabled(True)
        self.running_changed.emit(False)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        # closing the dialog stops a running evaluation; the dialog is only hidden
        self.request_stop()
        super().closeEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.key() == Qt.Key.Key_Escape and self._task is not None:
            self.request_stop()
        super().keyPressEvent(event)


def fold_line(reports: list) -> str:
    """The status line for the newest report: 'fold 2/5 · epoch 1/3 · batch 40/94' (or its message)."""
    for p in reversed(reports):
        fold = f"fold {p.fold}/{p.folds} · " if getattr(p, "folds", 0) else ""
        if p.kind in ("batch", "epoch"):
            return f"{fold}epoch {p.epoch}/{p.epochs} · batch {p.batch}/{p.batches}"
        if p.message:
            return f"{fold}{p.message}" if not p.message.startswith("fold") else p.message
    return ""
