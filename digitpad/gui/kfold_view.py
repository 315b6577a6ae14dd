"""k-fold cross-validation from the GUI: per-fold accuracies and a box plot.

The evaluation runs as one low-priority task of the app's TaskRunner (core ``run_kfold``, which
also records every fold in the run history); the status line says which fold is training.

The box plot is :class:`digitpad.gui.box_plot.BoxPlot`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

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

from digitpad.gui.box_plot import BoxPlot, box_stats  # noqa: F401  (box_stats: old import path)
from digitpad.gui.settings import app_settings
from digitpad.gui.tasks import Task, TaskRunner, shared_runner


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
                 show_error: Callable[[str, str], None] | None = None,
                 sources: Callable[[], list] | None = None):
        super().__init__(parent)
        self.setWindowTitle("k-fold cross-validation")
        self._config_factory = config_factory
        self._sources = sources  # the form's data sources (several: loaded together in the task)
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
        from digitpad.core.data.combine import several_sources
        from digitpad.core.training import run_kfold

        sources = list(self._sources()) if self._sources is not None else []
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
            return run_kfold(config, k, dataset=several_sources(sources), on_progress=report,
                             stop_event=stop)

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
    """The status line for the newest report: 'fold 2/5 · epoch 1/3 · batch 40/94' or a note."""
    for p in reversed(reports):
        if p.kind in ("batch", "epoch"):
            return p.where()
        if p.kind == "message" and p.message:
            return p.message
    return ""


def open_kfold(tab: Any) -> KFoldDialog:
    """Show the Train tab's k-fold dialog (made once; runs with the form's current settings).

    The dialog counts as training for the tab (``running_changed``), reloads the tab's run
    history when it finishes, and remembers k in the settings.
    """
    dialog = tab.kfold_dialog
    if dialog is None:
        def config() -> object:
            app_settings().setValue("train/kfold_k", int(dialog.k_spin.value()))
            return tab.build_config()

        dialog = KFoldDialog(config, tab, runner=tab._runner, show_error=tab.show_error,
                             sources=tab.form.data_sources)
        dialog.k_spin.setValue(app_settings().value("train/kfold_k", 5, type=int))
        dialog.running_changed.connect(tab._on_running_changed)
        dialog.status_message.connect(tab.status_message)
        dialog.evaluated.connect(tab._reload_history)
        tab.kfold_dialog = dialog
    dialog.show()
    dialog.raise_()
    return dialog
