"""The Train tab: the settings form, Start/Stop/Continue, live results, Save and Use in Recognize.

The tab composes three parts and owns no thread code:

* :class:`~digitpad.gui.train_form.TrainForm` – the settings of the next run;
* :class:`~digitpad.gui.train_runner.SessionRunner` – drives the core ``TrainingSession`` as
  low-priority tasks of the app's :class:`~digitpad.gui.tasks.TaskRunner`;
* :class:`~digitpad.gui.train_results.TrainResults` – plots, progress and log, summary, history.

The trained model stays in the session. *Use in Recognize* hands a copy to the app's
:class:`~digitpad.gui.current_model.CurrentModel`; *Save* saves through it. Each finished run
gets a new key, so a copy in use and the tab share the saved state of the same weights.
Stop keeps the weights trained so far; a run that completes with a validation split keeps its best
epoch's weights (the log says so). This module imports no TensorFlow at import time.
"""

from __future__ import annotations

import datetime as _dt
import math
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
from digitpad.gui.kfold_view import KFoldDialog
from digitpad.gui.settings import add_recent_file, app_settings
from digitpad.gui.tasks import TaskRunner, shared_runner
from digitpad.gui.train_form import NO_GPU_REASON, TrainForm
from digitpad.gui.train_results import STOP_KEEPS, TrainResults, run_status
from digitpad.gui.train_runner import SessionRunner

__all__ = ["NO_GPU_REASON", "TrainTab"]

SAVE_FILTERS = "Keras model (*.keras);;Legacy HDF5 model (*.h5)"


class TrainTab(QWidget):
    """Train a model from the registry and watch it learn (see module docstring).

    Parameters
    ----------
    runner, current
        The app's task runner and model in use (defaults: ``shared_runner()``, a new CurrentModel).
    show_error
        ``show_error(title, text)`` tells the user something failed (default: a warning box).
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
        self._show_error = show_error or (lambda title, text: QMessageBox.warning(self, title, text))
        self._ask_save_path = ask_save_path or self._save_dialog
        self._run_key: object | None = None      # identity of the weights of the last finished run
        self._usable = False                     # the last run left a model worth using/saving
        self._saved_path: str | None = None      # where the weights of _run_key are saved
        self._saving: str | None = None          # path of the save in flight
        self._save_after_run: str | None = None  # path chosen while a run was stopping
        self._shown_records = 0
        self.kfold_dialog: KFoldDialog | None = None

        self.form = TrainForm(self._runner, self)
        self.session = SessionRunner(self._runner, self)
        self.results = TrainResults(self)
        self._build_ui()
        self.session.running_changed.connect(self._on_running_changed)
        self.session.progress.connect(self.results.add_reports)
        self.session.finished.connect(self._on_run_finished)
        self.session.failed.connect(self._on_run_failed)
        self.current.saved.connect(self._on_saved)
        self.current.failed.connect(self._on_current_failed)
        self.current.changed.connect(self._on_current_changed)
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
        run_rows = QGridLayout()  # two rows: the column stays narrow enough for the plots
        run_rows.addWidget(self.start_button, 0, 0)
        run_rows.addWidget(self.stop_button, 0, 1)
        run_rows.addWidget(self.continue_button, 1, 0)
        run_rows.addWidget(self.continue_spin, 1, 1)
        run_rows.addWidget(self.kfold_button, 2, 0, 1, 2)
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

    # ============================================================ public API
    def is_training(self) -> bool:
        """True while a training run or a k-fold evaluation is in progress."""
        return self.session.is_running() or (self.kfold_dialog is not None and self.kfold_dialog.is_running())

    def has_model(self) -> bool:
        """True when the last run left a trained model (to use, save or train further)."""
        return self._usable and self.session.result is not None

    def has_unsaved_model(self) -> bool:
        """True when a trained model (or one being trained) has not been saved since it changed."""
        return self.session.is_running() or (self.has_model() and self._saved_path is None)

    def current_result(self) -> Any:
        """The last run's ``TrainResult`` (None before the first run)."""
        return self.session.result

    def current_model(self) -> Any:
        """The last trained Keras model, or None."""
        return self.session.result.model if self.has_model() else None

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
        """Ask the running training (and k-fold) to stop after the current batch. Idempotent."""
        if self.session.request_stop():
            self.results.progress.append("Stop requested: finishing the current batch…")
            self.status_message.emit("Stopping training…")
        if self.kfold_dialog is not None and self.kfold_dialog.is_running():
            self.kfold_dialog.request_stop()

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
            started = self.session.start(config, base)
        except Exception as exc:  # a bad form value: say it
            self._report_error("Cannot start training", str(exc))
            return
        if not started:
            return
        self.form.save()
        self._usable, self._run_key, self._saved_path = False, None, None
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
        """Make a copy of the trained model (in a worker) the current model, then ask for Recognize."""
        model = self.current_model()
        if model is None or self.is_training():
            return
        result, key, path = self.session.result, self._run_key, self._saved_path
        metadata = _metadata(result)
        acc = result.test_accuracy
        name = f"{result.config.arch} (trained {_dt.datetime.now():%H:%M}" + (
            f", test {100 * acc:.2f} %)" if acc is not None and math.isfinite(acc) else ")"
        )

        def use(copy: Any) -> None:
            self.current.use(copy, name, metadata, path=path, saved=path is not None, key=key)
            self._update_buttons()
            self.use_model_requested.emit(name)
            self.status_message.emit(f"Using {name} in Recognize.")

        self.use_button.setEnabled(False)
        self._runner.start(_inference_copy, model, name="digitpad-clone", on_done=use,
                           on_error=lambda reason: self._report_error("Cannot use the model", reason),
                           on_finished=self._update_buttons)

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
            self._start_save(str(p))
        return True

    @Slot()
    def open_kfold(self) -> None:
        """Show the k-fold dialog (runs with the form's current settings)."""
        if self.kfold_dialog is None:
            self.kfold_dialog = KFoldDialog(self._kfold_config, self, runner=self._runner,
                                            show_error=self._show_error)
            self.kfold_dialog.k_spin.setValue(app_settings().value("train/kfold_k", 5, type=int))
            self.kfold_dialog.running_changed.connect(self._on_running_changed)
            self.kfold_dialog.status_message.connect(self.status_message)
            self.kfold_dialog.evaluated.connect(self._reload_history)
        self.kfold_dialog.show()
        self.kfold_dialog.raise_()

    # ============================================================ callbacks
    def _kfold_config(self) -> Any:
        app_settings().setValue("train/kfold_k", int(self.kfold_dialog.k_spin.value()))
        return self.build_config()

    @Slot(bool)
    def _on_running_changed(self, running: bool) -> None:
        self._update_buttons()
        self.training_state_changed.emit(self.is_training())

    @Slot(object)
    def _on_run_finished(self, result: Any) -> None:
        status = run_status(result)
        self._usable = result.model is not None and (
            status in ("completed", "stopped") or int(result.epochs_done or 0) > 0)
        self._run_key = object() if self._usable else None  # new weights: not saved anywhere yet
        self._saved_path = None
        summary = self.results.show_result(result)
        self._show_new_records()
        self.status_message.emit(summary)
        if status not in ("completed", "stopped"):
            self._show_error("Training stopped", f"Training stopped: {result.reason}.")
        path, self._save_after_run = self._save_after_run, None
        if path is not None and self._usable:
            self._start_save(path)

    @Slot(str)
    def _on_run_failed(self, reason: str) -> None:
        self._usable, self._save_after_run = False, None
        self.results.show_failure(reason)
        self._show_new_records()
        self.status_message.emit(f"Training failed: {reason}")
        self._show_error("Training failed", reason)

    def _start_save(self, path: str) -> None:
        self._saving = path
        self.results.progress.append(f"Saving the model to {path}…")
        self.current.save(path, self.current_model(), _metadata(self.session.result), key=self._run_key)
        self._update_buttons()

    def _on_saved(self, path: str) -> None:
        if self._saving is None or Path(path).resolve() != Path(self._saving).resolve():
            return  # another model's save
        self._saving = None
        self._saved_path = path
        settings = app_settings()
        settings.setValue("train/save_dir", str(Path(path).parent))
        add_recent_file(path, settings)
        self.results.progress.append(f"Saved model to {path}")
        self.status_message.emit(f"Model saved to {path}.")
        self._update_buttons()
        self.model_saved.emit(path)

    def _on_current_failed(self, title: str, reason: str) -> None:
        if self._saving is None or title != "Save failed":
            return
        self._saving = None
        text = f"Cannot save the model: {reason} The model is still in memory."
        self.results.progress.append(text)
        self.status_message.emit(text)
        self._update_buttons()

    def _on_current_changed(self) -> None:
        entry = self.current.entry  # a copy of this run saved from elsewhere shares its saved state
        if entry is not None and self._run_key is not None and entry.key is self._run_key and entry.saved:
            self._saved_path = entry.path

    def _update_buttons(self) -> None:
        training = self.session.is_running()
        busy = self.is_training()
        model = self.has_model()
        self.start_button.setEnabled(not busy)
        self.stop_button.setEnabled(training)
        self.continue_button.setEnabled(not busy and model)
        self.continue_spin.setEnabled(not busy)
        self.use_button.setEnabled(not training and model)
        self.save_button.setEnabled(not training and model and self._saving is None)
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
        self._show_error(title, text)

    def _save_dialog(self, suggested: str) -> tuple[str, str]:
        return QFileDialog.getSaveFileName(self, "Save Model", suggested, SAVE_FILTERS)


def _metadata(result: Any) -> dict:
    meta = result.metadata() if result is not None else {}
    return dict(meta) if isinstance(meta, dict) else {}


def _inference_copy(model: Any) -> Any:
    """Worker: a copy of ``model`` for Recognize, same weights, input (28, 28, 1)."""
    from digitpad.core.tfsetup import keras

    k = keras()
    clone = k.models.clone_model(model)
    clone.set_weights(model.get_weights())
    shape = tuple(clone.input_shape[1:])
    if shape != (28, 28, 1):
        inputs = k.Input(shape=(28, 28, 1), name="image")
        x = k.layers.Reshape(shape)(inputs)
        clone = k.Model(inputs, clone(x), name=f"{model.name}_28x28")
    return clone
