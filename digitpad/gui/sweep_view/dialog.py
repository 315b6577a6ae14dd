"""The sweep dialog: pick a parameter and its values, watch the runs, keep the best one.

The sweep is the core's :class:`~digitpad.core.training.sweep.Sweep`, run as one low-priority
task of the app's :class:`~digitpad.gui.tasks.TaskRunner` (its stop is the sweep's
``request_stop``). Its reports arrive on the GUI thread: loss curves grow live, one colour per
value; the overall progress bar and time left follow the whole sweep; each finished run adds a
table row and a point per accuracy to the accuracy-against-value plot. The best run can be used
in Recognize (``CurrentModel.use``) or saved (``CurrentModel.save``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.errors import DigitpadError, TrainingError
from digitpad.core.formatting import format_duration
from digitpad.core.training.sweep import SWEEP_PARAMS, Sweep, format_value
from digitpad.gui.current_model import CurrentModel
from digitpad.gui.sweep_view.plots import SweepPlots
from digitpad.gui.tasks import Task, TaskRunner, shared_runner

#: Values offered when a parameter is chosen (the notebook's dropout rates, ...).
DEFAULT_VALUES = {
    "dropout": "0.0,0.1,0.2,0.3,0.4,0.5,0.6,0.7",
    "learning_rate": "0.0005,0.001,0.002,0.004",
    "batch_size": "32,64,128,256",
    "epochs": "1,2,4",
    "optimizer": "adam,sgd,rmsprop",
    "augment": "off,on",
    "arch": "fast,conv3,mnist_cnn",
}
HEADERS = ("Value", "Result", "Train acc", "Val acc", "Test acc", "Time", "Params")
PROGRESS_STEPS = 1000


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100.0 * value:.2f} %"


def _work(sweep: Sweep, sources: list, report: Callable[[Any], None]) -> Any:
    """Worker thread: run the sweep, its reports going to the task runner.

    Several data sources (e.g. MNIST + my drawings) are loaded here, together, as ``train
    --data A --data B`` does.
    """
    from digitpad.core.data.combine import several_sources

    joined = several_sources(sources)
    if joined is not None:
        sweep.dataset = joined
    sweep.on_progress = report
    return sweep.run()


class SweepDialog(QDialog):
    """Non-modal dialog running a hyper-parameter sweep (see the module docstring).

    ``config_factory`` returns the fixed part of the configuration (the Train tab's form).
    ``show_error(title, text)`` and ``ask_save_path(suggested) -> path | None`` are the dialog
    seams (defaults: a warning box, a file dialog); tests pass their own.

    Signals
    -------
    running_changed(bool)
    finished_sweep(object)
        The :class:`~digitpad.core.training.sweep.SweepResult` (its runs are in the history).
    use_model_requested(str)
        The best run is now the current model; its display name.
    """

    running_changed = Signal(bool)
    finished_sweep = Signal(object)
    use_model_requested = Signal(str)

    def __init__(self, config_factory: Callable[[], Any], parent: QWidget | None = None, *,
                 runner: TaskRunner | None = None, current: CurrentModel | None = None,
                 show_error: Callable[[str, str], None] | None = None,
                 ask_save_path: Callable[[str], str | None] | None = None,
                 sources: Callable[[], list] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hyper-parameter sweep")
        self._config_factory = config_factory
        self._sources = sources
        self._runner = runner if runner is not None else shared_runner()
        self.current = current if current is not None else CurrentModel(self._runner, self)
        self._show_error = show_error or (lambda t, x: QMessageBox.warning(self, t, x))
        self._ask_save_path = ask_save_path or self._file_dialog
        self._task: Task | None = None
        self.sweep: Sweep | None = None
        self.result: Any = None
        self.rows: list[Any] = []  # the finished runs' rows, as they arrive
        self._saving: str | None = None

        self.param_combo = QComboBox(self)
        self.param_combo.addItems(SWEEP_PARAMS)
        self.values_edit = QLineEdit(DEFAULT_VALUES[SWEEP_PARAMS[0]], self)
        self.values_edit.setToolTip("Comma-separated values; everything else is the Train form's.")
        self.param_combo.currentTextChanged.connect(
            lambda p: self.values_edit.setText(DEFAULT_VALUES.get(p, "")))
        self.start_button = QPushButton("Start", self)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setEnabled(False)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.request_stop)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, PROGRESS_STEPS)
        self.time_label = QLabel("", self)
        self.status_label = QLabel("Choose a parameter and its values, then Start.", self)
        self.status_label.setWordWrap(True)
        self.plots = SweepPlots(self)
        self.table = QTableWidget(0, len(HEADERS), self)
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.use_button = QPushButton("Use Best in Recognize", self)
        self.save_button = QPushButton("Save Best…", self)
        for button in (self.use_button, self.save_button):
            button.setEnabled(False)
        self.use_button.clicked.connect(self.use_best)
        self.save_button.clicked.connect(self.save_best)
        self.current.saved.connect(self._on_saved)

        controls = QHBoxLayout()
        for widget in (QLabel("Vary", self), self.param_combo, QLabel("over", self)):
            controls.addWidget(widget)
        controls.addWidget(self.values_edit, 1)
        controls.addWidget(self.start_button)
        controls.addWidget(self.stop_button)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.time_label)
        best_row = QHBoxLayout()
        best_row.addStretch(1)
        best_row.addWidget(self.use_button)
        best_row.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(progress_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.plots, 3)
        layout.addWidget(self.table, 2)
        layout.addLayout(best_row)
        self.resize(900, 640)

    # ------------------------------------------------------------------ public API
    def is_running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        """Check the values (one sentence when they do not fit) and start the sweep task."""
        if self._task is not None:
            return
        try:
            sweep = Sweep(self._config_factory(), self.param_combo.currentText(),
                          self.values_edit.text())
        except DigitpadError as exc:
            self.status_label.setText(str(exc))
            self._show_error("Cannot start the sweep", str(exc))
            return
        self.sweep, self.result, self.rows = sweep, None, []
        self.plots.start(sweep.param, sweep.values)
        self.table.setRowCount(0)
        self.progress.setValue(0)
        self.time_label.setText("")
        self.status_label.setText(f"Starting {len(sweep.values)} run(s) over {sweep.param}…")
        for button in (self.use_button, self.save_button):
            button.setEnabled(False)
        sources = list(self._sources()) if self._sources is not None else []
        self._task = self._runner.start(
            _work, sweep, sources, name="sweep", on_progress=self._on_reports, on_done=self._on_done,
            on_error=self._on_error, on_finished=self._on_finished, stop=sweep.request_stop,
            low_priority=True)
        self._set_running(True)

    def request_stop(self) -> None:
        """Stop the run in progress (it is kept) and skip the rest."""
        if self._task is not None:
            self._task.request_stop()
            self.status_label.setText("Stopping after the current batch; finished runs are kept…")

    def use_best(self) -> None:
        """Make the best run's model the current model (Recognize shows it)."""
        best = self._best()
        if best is None:
            return
        name = self._best_name()
        self.current.use(self.result.best_model, name, self.result.best_metadata,
                         key=self._best_key())
        self.use_model_requested.emit(name)

    def save_best(self) -> None:
        """Ask for a path and save the best run's model there (in a worker)."""
        best = self._best()
        if best is None:
            return
        arch = best.config.get("arch", "model")
        suggested = f"digitpad-{arch}-{self.result.param}-{format_value(best.value)}.keras"
        path = self._ask_save_path(suggested)
        if not path:
            return
        self._saving = str(path)
        self.status_label.setText(f"Saving {Path(path).name}…")
        self.current.save(self._saving, self.result.best_model, self.result.best_metadata,
                          key=self._best_key())

    # ----------------------------------------------------------------- task callbacks
    def _on_reports(self, reports: list) -> None:
        losses: dict[int, tuple[list[float], list[float]]] = {}
        last = None
        for p in reports:
            last = p
            if p.kind == "batch" and p.progress is not None:
                xs, ys = losses.setdefault(p.index, ([], []))
                xs.append(p.progress.epoch_float)
                ys.append(p.progress.logs.get("loss"))
            elif p.kind == "run_start":
                self.status_label.setText(
                    f"Run {p.index + 1}/{p.runs}: {p.param} = {format_value(p.value)}")
            elif p.kind == "run_end" and p.row is not None:
                self._add_row(p.row)
        for index, (xs, ys) in losses.items():
            self.plots.add_loss(index, xs, ys)
        if last is not None:
            self.progress.setValue(round(PROGRESS_STEPS * last.fraction))
            left = format_duration(last.eta_s, "?") if last.eta_s is not None else "…"
            self.time_label.setText(f"time left {left}")

    def _add_row(self, row: Any) -> None:
        n = self.table.rowCount()
        self.table.insertRow(n)
        cells = (format_value(row.value), row.status.value, _pct(row.train_accuracy),
                 _pct(row.val_accuracy), _pct(row.test_accuracy), format_duration(row.seconds),
                 f"{row.params:,}")
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if col >= 2:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if col == 1:
                item.setToolTip(row.reason)
            self.table.setItem(n, col, item)
        self.rows.append(row)
        self.plots.set_rows(self.rows)

    def _on_done(self, result: Any) -> None:
        self.result = result
        self.rows = list(result.rows)
        self.plots.set_rows(self.rows)
        self.progress.setValue(PROGRESS_STEPS if not result.stopped else self.progress.value())
        self.time_label.setText("")
        best = result.best
        if result.stopped:
            text = (f"Stopped after {len(result.rows)} of {len(result.values)} run(s); the "
                    "finished runs are kept in the run history.")
        else:
            text = f"Finished {len(result.rows)} run(s)."
        if best is not None:
            text += (f" Best: {result.param} = {format_value(best.value)} (validation "
                     f"{_pct(best.val_accuracy)}, test {_pct(best.test_accuracy)}).")
        self.status_label.setText(text)
        for button in (self.use_button, self.save_button):
            button.setEnabled(best is not None)
        self.finished_sweep.emit(result)

    def _on_error(self, reason: str) -> None:
        self.status_label.setText(f"The sweep failed: {reason}")
        self._show_error("Sweep failed", reason)

    def _on_finished(self) -> None:
        self._task = None
        self._set_running(False)

    def _on_saved(self, path: str) -> None:
        if self._saving is not None and Path(path).resolve() == Path(self._saving).resolve():
            self._saving = None
            self.status_label.setText(f"Saved the best run to {path}.")

    # ------------------------------------------------------------------ helpers
    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.param_combo.setEnabled(not running)
        self.values_edit.setEnabled(not running)
        self.running_changed.emit(running)

    def _best(self) -> Any:
        if self.result is None or self.result.best_model is None:
            return None
        return self.result.best

    def _best_key(self) -> tuple:
        return ("sweep", self.result.sweep_id, self.result.best_index)

    def _best_name(self) -> str:
        best = self.result.best
        acc = f", test {_pct(best.test_accuracy)}" if best.test_accuracy is not None else ""
        return (f"{best.config.get('arch', '?')} ({self.result.param} = "
                f"{format_value(best.value)}, best of sweep{acc})")

    def _file_dialog(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Save Best Model", suggested,
                                              "Keras model (*.keras);;HDF5 model (*.h5)")
        return path or None

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.request_stop()  # the task ends by itself; its callbacks to a closed dialog are skipped
        super().closeEvent(event)


def open_sweep(tab: Any) -> SweepDialog:
    """The Train tab's *Sweep…* button: show its sweep dialog (made once, kept as
    ``tab.sweep_dialog``) over the tab's current settings.

    The tab counts the sweep as training (its Start is disabled, Stop and quitting stop the
    sweep); a sweep cannot start while the tab trains. Finished sweeps reload the tab's run
    history; the best run used in Recognize is announced through the tab's
    ``use_model_requested``.
    """
    dialog = tab.sweep_dialog
    if dialog is None:
        def config() -> Any:
            if tab.is_training():
                raise TrainingError("the Train tab is training; stop it before starting a sweep.")
            return tab.build_config()

        dialog = SweepDialog(config, tab, runner=tab._runner, current=tab.current,
                             show_error=lambda title, text: tab.show_error(title, text),
                             sources=tab.form.data_sources)
        dialog.running_changed.connect(tab._on_running_changed)
        dialog.finished_sweep.connect(tab._reload_history)
        dialog.use_model_requested.connect(tab.use_model_requested)
        tab.sweep_dialog = dialog
    dialog.show()
    dialog.raise_()
    return dialog
