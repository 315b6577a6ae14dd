"""The Train tab: the settings form, Start/Stop/Continue, live results, Save and Use in Recognize.

The tab composes four parts and owns no thread code:

* :class:`~digitpad.gui.train_form.TrainForm` – the settings of the next run;
* :class:`~digitpad.gui.train_runner.SessionRunner` – drives the core ``TrainingSession`` as
  low-priority tasks of the app's :class:`~digitpad.gui.tasks.TaskRunner`;
* :class:`~digitpad.gui.train_results.TrainResults` – plots, progress and log, summary, history;
* :class:`~digitpad.gui.trained_model.TrainedModel` – the last run's model, its saved state,
  Save and Use in Recognize through the app's ``CurrentModel``.

Stop keeps the weights trained so far; a run that completes with a validation split keeps its best
epoch's weights (the log says so). This module imports no TensorFlow at import time.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from digitpad.gui.current_model import CurrentModel
from digitpad.gui.kfold_view import KFoldDialog, open_kfold
from digitpad.gui.settings import add_recent_file, app_settings
from digitpad.gui.sweep_view import open_sweep
from digitpad.gui.tasks import TaskRunner, shared_runner
from digitpad.gui.train_form import NO_GPU_REASON, TrainForm
from digitpad.gui.train_results import STOP_KEEPS, TrainResults, run_status
from digitpad.gui.train_runner import SessionRunner
from digitpad.gui.trained_model import TrainedModel

__all__ = ["NO_GPU_REASON", "TrainTab"]

SAVE_FILTERS = "Keras model (*.keras);;Legacy HDF5 model (*.h5)"


class TrainTab(QWidget):
    """Train a model from the registry and watch it learn (see module docstring).

    Parameters
    ----------
    runner, current
        The app's task runner and model in use (defaults: ``shared_runner()``, a new CurrentModel).
    show_error
        ``show_error(title, text)`` tells the user something failed (default: a warning box);
        kept as the public attribute :attr:`show_error`.
    ask_save_path
        ``ask_save_path(suggested) -> (path, selected filter)``; an empty path cancels
        (default: the Save Model file dialog).
    """

    use_model_requested = Signal(str)    # a copy is now the current model: show Recognize
    status_message = Signal(str)
    training_state_changed = Signal(bool)
    model_saved = Signal(str)            # the tab's model was saved to this path

    def __init__(self, parent: QWidget | None = None, *, runner: TaskRunner | None = None,
                 current: CurrentModel | None = None,
                 show_error: Callable[[str, str], None] | None = None,
                 ask_save_path: Callable[[str], tuple[str, str]] | None = None):
        super().__init__(parent)
        self._runner = runner if runner is not None else shared_runner()
        self.current = current if current is not None else CurrentModel(self._runner, self)
        self.show_error = show_error or (lambda title, text: QMessageBox.warning(self, title, text))
        self._ask_save_path = ask_save_path or self._save_dialog
        self._save_after_run: str | None = None  # path chosen while a run was stopping
        self._shown_records = 0
        self.kfold_dialog: KFoldDialog | None = None
        self.sweep_dialog = None  # the SweepDialog, made by digitpad.gui.sweep_view.open_sweep

        self.form = TrainForm(self._runner, self)
        self.session = SessionRunner(self._runner, self)
        self.results = TrainResults(self)
        self.trained = TrainedModel(self._runner, self.current, self)
        self._build_ui()
        self.session.running_changed.connect(self._on_running_changed)
        self.session.progress.connect(self.results.add_reports)
        self.session.finished.connect(self._on_run_finished)
        self.session.failed.connect(self._on_run_failed)
        self.trained.changed.connect(self._update_buttons)
        self.trained.saved.connect(self._on_saved)
        self.trained.save_failed.connect(self._on_save_failed)
        self.trained.used.connect(self._on_used)
        self.trained.use_failed.connect(lambda reason: self._report_error("Cannot use the model", reason))
        self.continue_spin.setValue(app_settings().value("train/continue_epochs", 1, type=int))
        self._reload_history()
        self._update_buttons()

    def _build_ui(self) -> None:
        form_box = QGroupBox("Settings", self)
        QVBoxLayout(form_box).addWidget(self.form)
        self.start_button = QPushButton("Start", self)
        self.start_button.setToolTip("Train a new model with these settings (Ctrl+Return).")
        self.start_button.setShortcut("Ctrl+Return")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip(
            f"Stop after the current batch; {STOP_KEEPS} (a run that completes with a validation "
            "split keeps the weights of its best epoch instead)."
        )
        self.continue_button = QPushButton("Continue", self)
        self.continue_button.setToolTip("Train the current model for more epochs (same optimizer state).")
        self.continue_spin = QSpinBox(self)
        self.continue_spin.setRange(1, 1000)
        self.continue_spin.setPrefix("+")
        self.continue_spin.setSuffix(" epochs")
        self.kfold_button = QPushButton("k-fold…", self)
        self.kfold_button.setToolTip("Cross-validate these settings: per-fold accuracy and a box plot.")
        self.sweep_button = QPushButton("Sweep…", self, toolTip="Vary one setting: a run per value, compared.")
        run_rows = QGridLayout()  # two rows: the column stays narrow enough for the plots
        run_rows.addWidget(self.start_button, 0, 0)
        run_rows.addWidget(self.stop_button, 0, 1)
        run_rows.addWidget(self.continue_button, 1, 0)
        run_rows.addWidget(self.continue_spin, 1, 1)
        run_rows.addWidget(self.kfold_button, 2, 0, 1, 2)
        run_rows.addWidget(self.sweep_button, 3, 0, 1, 2)
        self.result_label = self.results.result_label
        self.use_button = self.results.use_button
        self.save_button = self.results.save_button

        left = QWidget(self)
        column = QVBoxLayout(left)
        column.addWidget(form_box)
        column.addLayout(run_rows)
        column.addStretch(1)
        # the form scrolls when the window is small, so the plots keep their width
        self.form_scroll = QScrollArea(self)
        self.form_scroll.setWidget(left)
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_scroll.setMinimumWidth(left.minimumSizeHint().width()
                                         + self.form_scroll.verticalScrollBar().sizeHint().width())
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.form_scroll)
        self.splitter.addWidget(self.results)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([self.form_scroll.minimumWidth(), 4 * self.form_scroll.minimumWidth()])
        QVBoxLayout(self).addWidget(self.splitter)

        self.start_button.clicked.connect(self.start_training)
        self.stop_button.clicked.connect(self.request_stop)
        self.continue_button.clicked.connect(self.continue_training)
        self.use_button.clicked.connect(self.use_in_recognize)
        self.save_button.clicked.connect(self.save_model_interactive)
        self.kfold_button.clicked.connect(self.open_kfold)
        self.sweep_button.clicked.connect(lambda: open_sweep(self))

    # ============================================================ public API
    def is_training(self) -> bool:
        """True while a training run, a k-fold evaluation or a sweep is in progress."""
        dialogs = (self.kfold_dialog, self.sweep_dialog)
        return self.session.is_running() or any(d is not None and d.is_running() for d in dialogs)

    def has_model(self) -> bool:
        """True when the last run left a trained model (to use, save or train further)."""
        return self.trained.model is not None

    def has_unsaved_model(self) -> bool:
        """True when a trained model (or one being trained) has not been saved since it changed."""
        return self.session.is_running() or (self.has_model() and not self.trained.is_saved)

    def current_result(self) -> Any:
        """The last run's ``TrainResult`` (None before the first run)."""
        return self.session.result

    def current_model(self) -> Any:
        """The last trained Keras model, or None."""
        return self.trained.model

    def build_config(self, **extra: Any) -> Any:
        """The ``TrainConfig`` described by the form (plus its ``config_overrides`` and ``extra``)."""
        return self.form.build_config(**extra)

    @property
    def config_overrides(self) -> dict[str, Any]:
        """Extra ``TrainConfig`` fields applied to every run (scripting and tests)."""
        return self.form.config_overrides

    def data_source(self) -> str | None:
        """The data source a run will use (None = bundled MNIST)."""
        return self.form.data_source()

    def set_data_source(self, path: str | None) -> None:
        """Use ``path`` (IDX folder, image folder or .npz) as training data; empty = bundled MNIST."""
        self.form.set_data_source(path)

    def base_model(self) -> str | None:
        """The saved model the next run starts from (None: a new model)."""
        return self.form.base_model()

    def set_base_model(self, path: str | None) -> None:
        """Start the next run from the saved model at ``path`` (None: a new model)."""
        self.form.set_base_model(path)

    @Slot()
    def request_stop(self) -> None:
        """Ask the running training (k-fold, sweep) to stop after the current batch. Idempotent."""
        if self.session.request_stop():
            self.results.progress.append("Stop requested: finishing the current batch…")
            self.status_message.emit("Stopping training…")
        for dialog in (self.kfold_dialog, self.sweep_dialog):
            if dialog is not None and dialog.is_running():
                dialog.request_stop()

    def shutdown(self) -> None:
        """Save the form and ask every run of this tab to stop (the app waits for the tasks)."""
        self.form.save()
        app_settings().setValue("train/continue_epochs", int(self.continue_spin.value()))
        self.request_stop()

    # ============================================================== actions
    @Slot()
    def start_training(self) -> None:
        """Start a new run from the form (ignored while a run is in progress)."""
        if self.is_training():
            return
        try:
            config = self.build_config()
            base = self.form.base_model()
            started = self.session.start(config, base, self.form.data_sources())
        except Exception as exc:  # a bad form value: say it
            self._report_error("Cannot start training", str(exc))
            return
        if not started:
            return
        self.form.save()
        self.trained.set_result(None)
        self._shown_records = 0
        self.results.begin(
            f"— {_dt.datetime.now():%H:%M:%S} start: {config.arch}, {config.epochs} epoch(s), "
            f"batch {config.batch_size}, {config.optimizer} lr {config.learning_rate:g}, "
            f"data {config.data or 'bundled MNIST'}"
            + (f", first {config.train_limit} images" if config.train_limit else "")
            + (f", from {Path(base).name}" if base else ""),
            "Loading data…", fresh=True,
        )
        self.status_message.emit("Training started.")

    @Slot()
    def continue_training(self) -> None:
        """Train the last model for ``continue_spin`` more epochs (same optimizer state)."""
        if self.is_training() or not self.has_model():
            return
        n = int(self.continue_spin.value())
        app_settings().setValue("train/continue_epochs", n)
        if not self.session.continue_training(n):
            return
        self.results.begin(f"— {_dt.datetime.now():%H:%M:%S} continue: +{n} epoch(s)",
                           "Continuing…", fresh=False)
        self.status_message.emit(f"Continuing training for {n} epoch(s).")

    @Slot()
    def use_in_recognize(self) -> None:
        """Make a copy of the trained model the current model (then ``use_model_requested``)."""
        if not self.is_training():
            self.trained.use()

    @Slot()
    def save_model_interactive(self) -> bool:
        """Ask for a file name and start saving the trained model (.keras or .h5).

        Returns False when the user cancelled, True otherwise (also when there is nothing to
        save). The save runs in a worker; :attr:`model_saved` reports it. While a run is in
        progress it is stopped and the weights trained so far are saved when it has ended.
        """
        training = self.session.is_running()
        if not training and not self.has_model():
            return True
        settings = app_settings()
        start_dir = settings.value("train/save_dir", str(Path.home()), type=str)
        arch = self.form.arch_combo.currentData() if training else self.session.result.config.arch
        suggested = str(Path(start_dir) / f"digitpad-{arch}-{_dt.datetime.now():%Y%m%d-%H%M}.keras")
        path, selected = self._ask_save_path(suggested)
        if not path:
            return False
        p = Path(path)
        if p.suffix.lower() not in (".keras", ".h5"):
            p = p.with_name(p.name + (".h5" if "h5" in (selected or "") else ".keras"))
        if self.session.is_running():
            self._save_after_run = str(p)
            self.request_stop()
        else:
            self.trained.save(str(p))
        return True

    @Slot()
    def open_kfold(self) -> None:
        """Show the k-fold dialog (runs with the form's current settings)."""
        open_kfold(self)

    @Slot(bool)
    def _on_running_changed(self, running: bool) -> None:
        self._update_buttons()
        self.training_state_changed.emit(self.is_training())

    @Slot(object)
    def _on_run_finished(self, result: Any) -> None:
        status = run_status(result)
        self.trained.set_result(result)
        summary = self.results.show_result(result)
        self._show_new_records()
        self.status_message.emit(summary)
        if status == "failed":
            self.show_error("Training failed", str(result.reason))
        elif status != "completed" and status != "stopped":
            self.show_error("Training stopped", f"Training stopped: {result.reason}.")
        path, self._save_after_run = self._save_after_run, None
        if path is not None:
            self.trained.save(path)

    @Slot(str)
    def _on_run_failed(self, reason: str) -> None:
        self._save_after_run = None
        self.trained.set_result(None)
        self.results.show_failure(reason)
        self._show_new_records()
        self.status_message.emit(f"Training failed: {reason}")
        self.show_error("Training failed", reason)

    def _on_saved(self, path: str) -> None:
        settings = app_settings()
        settings.setValue("train/save_dir", str(Path(path).parent))
        add_recent_file(path, settings)
        self.results.progress.append(f"Saved model to {path}")
        self.status_message.emit(f"Model saved to {path}.")
        self.model_saved.emit(path)

    def _on_save_failed(self, text: str) -> None:
        self.results.progress.append(f"Cannot save the model: {text}")
        self.status_message.emit(f"Cannot save the model: {text}")

    def _on_used(self, name: str) -> None:
        self.use_model_requested.emit(name)
        self.status_message.emit(f"Using {name} in Recognize.")

    def _update_buttons(self) -> None:
        training = self.session.is_running()
        busy = self.is_training()
        model = self.has_model()
        self.start_button.setEnabled(not busy)
        self.stop_button.setEnabled(training)
        self.continue_button.setEnabled(not busy and model)
        self.continue_spin.setEnabled(not busy)
        self.use_button.setEnabled(not training and model and not self.trained.copying)
        self.save_button.setEnabled(not training and model and self.trained.saving is None)
        self.kfold_button.setEnabled(not training)
        self.form.set_busy(busy)

    def _reload_history(self, *_args: Any) -> None:
        from digitpad.core.history import load_history

        try:
            self.results.set_records(load_history())
        except Exception as exc:  # never block the tab on a history problem
            self.results.progress.append(f"Run history unavailable: {exc}")

    def _show_new_records(self) -> None:
        """Put the records the session has written since last time at the top of the table."""
        records = list(self.session.session.records) if self.session.session is not None else []
        for record in records[self._shown_records:]:
            self.results.history_table.add_record(record)
        self._shown_records = len(records)

    def _report_error(self, title: str, text: str) -> None:
        self.results.progress.append(f"{title}: {text}")
        self.status_message.emit(f"{title}: {text}")
        self.show_error(title, text)

    def _save_dialog(self, suggested: str) -> tuple[str, str]:
        return QFileDialog.getSaveFileName(self, "Save Model", suggested, SAVE_FILTERS)
