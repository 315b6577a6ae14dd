"""The Train tab: a form, Start/Stop/Continue, live plots, results, run history and k-fold.

The core ``Trainer`` runs in a :class:`~digitpad.gui.workers.Job` thread at lowered OS priority.
Its ``on_progress`` callback (worker thread) only hands events to a
:class:`~digitpad.gui.workers.ProgressThrottle`, which forwards them through a queued Qt signal
at most every 50 ms (epoch and end events at once). Everything that touches a widget runs in a
``@Slot`` of this widget, on the GUI thread. Data loading and pixel scaling happen in the worker.

This module imports no TensorFlow at import time.
"""

from __future__ import annotations

import datetime as _dt
import math
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from digitpad.gui.history_table import HistoryTable, run_record
from digitpad.gui.kfold_view import KFoldDialog
from digitpad.gui.settings import app_settings
from digitpad.gui.training_plots import ProgressPanel, TrainingPlots, format_eta
from digitpad.gui.workers import Job, ProgressThrottle, freeze_long_lived_objects, wait_job

OPTIMIZERS = ("sgd", "adam", "adadelta", "rmsprop", "adamw", "nadam")
SCHEDULES = ("constant", "onecycle", "cosine", "step")
NO_GPU_REASON = "No GPU detected by TensorFlow"
BUNDLED = "bundled"


class LogSpinBox(QDoubleSpinBox):
    """A spin box for learning rates: arrows multiply/divide by √10, text in ``%g`` notation."""

    FACTOR = 10 ** 0.5

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(10)
        self.setRange(1e-7, 1e6)
        self.setKeyboardTracking(False)

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt API
        value = self.value() * (self.FACTOR ** steps)
        self.setValue(float(f"{value:.3g}"))

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt API
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt API
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D401 - Qt API
        from PySide6.QtGui import QValidator

        stripped = text.strip()
        if stripped == "":
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            if all(c in "0123456789.eE+-" for c in stripped):
                return QValidator.State.Intermediate, text, pos
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


class _RunControl:
    """Stop flag shared between the GUI thread and one training job (plain Python, thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trainer: Any = None
        self.stop_requested = False

    def attach(self, trainer: Any) -> None:
        with self._lock:
            self._trainer = trainer
            stop = self.stop_requested
        if stop:
            trainer.request_stop()

    def stop(self) -> None:
        with self._lock:
            self.stop_requested = True
            trainer = self._trainer
        if trainer is not None:
            trainer.request_stop()


def _run_failed(result: Any) -> bool:
    """True when a run ended by itself with a problem (NaN loss…), not completed nor stopped."""
    reason = str(getattr(result, "reason", "") or "")
    return not getattr(result, "stopped", False) and reason not in ("", "completed")


class TrainTab(QWidget):
    """Train a model from the registry and watch it learn (see module docstring)."""

    use_model_requested = Signal(object, str, dict)
    status_message = Signal(str)
    training_state_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        from digitpad.core.archs import ARCHS

        self._archs = ARCHS
        self._job: Job | None = None           # the training job (start or continue)
        self._aux_jobs: set[Job] = set()       # param counts, device detection, save, clone
        self._control: _RunControl | None = None
        self._throttle: ProgressThrottle | None = None
        self._trainer: Any = None              # kept for Continue
        self._result: Any = None               # last TrainResult
        self._model_usable = False
        self._unsaved = False
        self._saved_path: str | None = None
        self._data_source: str | None = None   # None = bundled MNIST
        self._base_model: str | None = None    # a saved model to train further; None = a new model
        self._param_counts: dict[str, int | None] = {}
        self._param_job: Job | None = None
        self._gpus: list[str] | None = None
        self._epoch_offset = 0
        self._continue_n = 0
        self._pending_error: tuple[str, str] | None = None
        #: extra TrainConfig fields applied to every run (scripting and tests, e.g. test_limit)
        self.config_overrides: dict[str, Any] = {}
        self.kfold_dialog: KFoldDialog | None = None

        self._build_ui()
        self._restore_form()
        self._update_buttons()
        self._detect_devices()
        self._request_param_count(self.arch_combo.currentData())
        self._reload_history()

    # ================================================================== UI
    def _build_ui(self) -> None:
        # ---- form
        self.arch_combo = QComboBox(self)
        for name, spec in self._archs.items():
            self.arch_combo.addItem(name, name)
            self.arch_combo.setItemData(self.arch_combo.count() - 1, spec.description, Qt.ItemDataRole.ToolTipRole)
        self.arch_info = QLabel("", self)
        self.arch_info.setWordWrap(True)
        self.arch_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.epochs_spin = QSpinBox(self)
        self.epochs_spin.setRange(1, 1000)
        self.batch_spin = QSpinBox(self)
        self.batch_spin.setRange(1, 65536)
        self.optimizer_combo = QComboBox(self)
        self.optimizer_combo.addItems(OPTIMIZERS)
        self.lr_spin = LogSpinBox(self)
        self.lr_spin.setToolTip("Learning rate (arrows step by ×√10).")
        self.schedule_combo = QComboBox(self)
        self.schedule_combo.addItems(SCHEDULES)
        self.val_spin = QDoubleSpinBox(self)
        self.val_spin.setRange(0.0, 0.5)
        self.val_spin.setSingleStep(0.05)
        self.val_spin.setDecimals(2)
        self.val_spin.setToolTip("Fraction of the training images held out for validation (0 = none).")
        self.augment_check = QCheckBox("Augment (small shifts, rotations, zoom)", self)
        self.seed_spin = QSpinBox(self)
        self.seed_spin.setRange(0, 2**31 - 1)
        self.device_combo = QComboBox(self)
        self.device_combo.setToolTip("Where TensorFlow trains the model.")
        self._fill_devices(None)
        self.data_label = QLabel("", self)
        self.data_label.setWordWrap(True)
        self.data_folder_button = QPushButton("Choose folder…", self)
        self.data_npz_button = QPushButton("Choose .npz…", self)
        self.data_bundled_button = QPushButton("Bundled MNIST", self)
        self.data_folder_button.setToolTip("A folder of MNIST IDX files, or of images in 0/ … 9/ sub-folders.")
        self.data_npz_button.setToolTip("A Keras-style mnist.npz (x_train, y_train, x_test, y_test).")
        self.limit_spin = QSpinBox(self)
        self.limit_spin.setRange(0, 10_000_000)
        self.limit_spin.setSingleStep(1000)
        self.limit_spin.setSpecialValueText("all images")
        self.limit_spin.setToolTip("Train on a random subset of N training images (quick demos); 0 = all.")

        self.base_label = QLabel("a new model", self)
        self.base_label.setWordWrap(True)
        self.base_file_button = QPushButton("Model file…", self)
        self.base_file_button.setToolTip(
            "Train a saved model further (.keras continues with its saved optimizer state; "
            ".h5 with a fresh optimizer). The architecture above then only gives the defaults."
        )
        self.base_new_button = QPushButton("New model", self)
        self.base_new_button.setToolTip("Train a new model of the architecture above.")

        form = QFormLayout()
        base_buttons = QHBoxLayout()
        base_buttons.addWidget(self.base_new_button)
        base_buttons.addWidget(self.base_file_button)
        base_buttons.addStretch(1)
        form.addRow("Start from:", self.base_label)
        form.addRow("", base_buttons)
        form.addRow("Architecture:", self.arch_combo)
        form.addRow("", self.arch_info)
        form.addRow("Epochs:", self.epochs_spin)
        form.addRow("Batch size:", self.batch_spin)
        form.addRow("Optimizer:", self.optimizer_combo)
        form.addRow("Learning rate:", self.lr_spin)
        form.addRow("LR schedule:", self.schedule_combo)
        form.addRow("Validation split:", self.val_spin)
        form.addRow("", self.augment_check)
        form.addRow("Seed:", self.seed_spin)
        form.addRow("Device:", self.device_combo)
        data_buttons = QHBoxLayout()
        data_buttons.addWidget(self.data_bundled_button)
        data_buttons.addWidget(self.data_folder_button)
        data_buttons.addWidget(self.data_npz_button)
        form.addRow("Data:", self.data_label)
        form.addRow("", data_buttons)
        form.addRow("Train on first:", self.limit_spin)
        form_box = QGroupBox("Settings", self)
        form_box.setLayout(form)

        # ---- actions
        self.start_button = QPushButton("Start", self)
        self.start_button.setToolTip("Train a new model with these settings (Ctrl+Return).")
        self.start_button.setShortcut("Ctrl+Return")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop after the current batch; the weights trained so far are kept.")
        self.continue_spin = QSpinBox(self)
        self.continue_spin.setRange(1, 1000)
        self.continue_spin.setValue(1)
        self.continue_spin.setPrefix("+")
        self.continue_spin.setSuffix(" epochs")
        self.continue_button = QPushButton("Continue", self)
        self.continue_button.setToolTip("Train the current model for more epochs (same optimizer state).")
        run_row = QHBoxLayout()
        run_row.addWidget(self.start_button)
        run_row.addWidget(self.stop_button)
        run_row.addWidget(self.continue_button)
        run_row.addWidget(self.continue_spin)
        self.result_label = QLabel("No model trained yet.", self)
        self.result_label.setWordWrap(True)
        self.use_button = QPushButton("Use in Recognize", self)
        self.use_button.setToolTip("Switch the Recognize tab to this model.")
        self.save_button = QPushButton("Save Model…", self)
        self.save_button.setToolTip("Save as .keras (keeps optimizer state) or legacy .h5.")
        self.kfold_button = QPushButton("Evaluate k-fold…", self)
        self.kfold_button.setToolTip("Cross-validate these settings: per-fold accuracy and a box plot.")
        result_row = QHBoxLayout()
        result_row.addWidget(self.use_button)
        result_row.addWidget(self.save_button)
        result_row.addWidget(self.kfold_button)

        left = QVBoxLayout()
        left.addWidget(form_box)
        left.addLayout(run_row)
        left.addWidget(self.result_label)
        left.addLayout(result_row)
        left.addStretch(1)
        left_widget = QWidget(self)
        left_widget.setLayout(left)

        # ---- right: plots, progress/log, history
        self.plots = TrainingPlots(self)
        self.progress = ProgressPanel(self)
        self.history_table = HistoryTable(self)
        self.lower_tabs = QTabWidget(self)
        self.lower_tabs.addTab(self.progress, "Progress && log")
        self.lower_tabs.addTab(self.history_table, "Run history")
        right = QSplitter(Qt.Orientation.Vertical, self)
        right.addWidget(self.plots)
        right.addWidget(self.lower_tabs)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setSizes([600, 300])  # stretch factors only share out growth: start plots-first

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left_widget)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        # ---- connections (all to slots of this GUI-thread object)
        self.arch_combo.currentIndexChanged.connect(self._on_arch_changed)
        self.start_button.clicked.connect(self.start_training)
        self.stop_button.clicked.connect(self.request_stop)
        self.continue_button.clicked.connect(self.continue_training)
        self.use_button.clicked.connect(self.use_in_recognize)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.kfold_button.clicked.connect(self.open_kfold)
        self.data_folder_button.clicked.connect(self._choose_data_folder)
        self.data_npz_button.clicked.connect(self._choose_data_npz)
        self.data_bundled_button.clicked.connect(self._use_bundled_data)
        self.base_file_button.clicked.connect(self._choose_base_model)
        self.base_new_button.clicked.connect(self._use_new_model)

    # ============================================================ public API
    def is_training(self) -> bool:
        """True while a training run or a k-fold evaluation is in progress."""
        return self._job is not None or (self.kfold_dialog is not None and self.kfold_dialog.is_running())

    def has_unsaved_model(self) -> bool:
        """True when a trained model (or one being trained) has not been saved since it changed."""
        return self._job is not None or (self._unsaved and self._model_usable)

    @Slot()
    def request_stop(self) -> None:
        """Ask the running training (and k-fold) to stop after the current batch. Idempotent."""
        if self._control is not None and self._job is not None:
            if not self._control.stop_requested:
                self.progress.append("Stop requested: finishing the current batch…")
                self.status_message.emit("Stopping training…")
            self._control.stop()
        if self.kfold_dialog is not None and self.kfold_dialog.is_running():
            self.kfold_dialog.request_stop()

    def wait_finished(self, timeout_ms: int = 30000) -> bool:
        """Pump the Qt event loop until the training (and k-fold) worker has finished."""
        import time

        deadline = time.monotonic() + timeout_ms / 1000.0
        if not wait_job(self._job, timeout_ms):
            return False
        if self.kfold_dialog is not None and self.kfold_dialog.is_running():
            left = int(max(0.0, deadline - time.monotonic()) * 1000)
            if not self.kfold_dialog.wait_finished(left):
                return False
        # deliver the queued result/finished slots
        from PySide6.QtCore import QCoreApplication

        while self._job is not None and time.monotonic() < deadline:
            QCoreApplication.processEvents()
        return self._job is None

    def shutdown(self) -> None:
        """Stop everything and wait for every worker of this tab (no dialogs). Saves the form."""
        self._save_form()
        self.request_stop()
        self.wait_finished(60000)
        if self.kfold_dialog is not None:
            self.kfold_dialog.wait_finished(60000)
        for job in list(self._aux_jobs):
            wait_job(job, 60000)
        self._aux_jobs.clear()

    def set_data_source(self, path: str | None) -> None:
        """Use ``path`` (IDX folder, image folder or .npz) as training data; empty = bundled MNIST."""
        text = str(path or "").strip()
        if text.lower() in ("", BUNDLED, "mnist", "none"):
            self._data_source = None
            self.data_label.setText("Bundled MNIST (60,000 train / 10,000 test)")
            self.data_label.setToolTip("The MNIST set shipped with digitpad.")
        else:
            self._data_source = text
            self.data_label.setText(text)
            self.data_label.setToolTip(text)
        app_settings().setValue("train/data", self._data_source or BUNDLED)

    def set_base_model(self, path: str | None) -> None:
        """Start the next run from the saved model at ``path`` (None: a new model)."""
        self._base_model = str(path) if path else None
        if self._base_model is None:
            self.base_label.setText("a new model")
            self.base_label.setToolTip("")
        else:
            kind = ("its saved optimizer state" if self._base_model.lower().endswith(".keras")
                    else "a fresh optimizer (.h5 files keep none)")
            self.base_label.setText(f"{Path(self._base_model).name} — continues with {kind}")
            self.base_label.setToolTip(self._base_model)

    def base_model(self) -> str | None:
        """The saved model the next run starts from (None: a new model)."""
        return self._base_model

    def data_source(self) -> str | None:
        """The data source a run will use (None = bundled MNIST)."""
        return self._data_source

    def current_result(self) -> Any:
        """The last run's ``TrainResult`` (None before the first run)."""
        return self._result

    def current_model(self) -> Any:
        """The last trained Keras model, or None."""
        return getattr(self._result, "model", None) if self._model_usable else None

    def build_config(self, **extra: Any) -> Any:
        """The ``TrainConfig`` described by the form (plus :attr:`config_overrides` and ``extra``)."""
        from digitpad.core.training import TrainConfig

        values = dict(
            arch=self.arch_combo.currentData(),
            epochs=int(self.epochs_spin.value()),
            batch_size=int(self.batch_spin.value()),
            optimizer=self.optimizer_combo.currentText(),
            learning_rate=float(self.lr_spin.value()),
            schedule=self.schedule_combo.currentText(),
            val_split=float(self.val_spin.value()),
            augment=bool(self.augment_check.isChecked()),
            seed=int(self.seed_spin.value()),
            device=str(self.device_combo.currentData() or "auto"),
            data=self._data_source,
            train_limit=int(self.limit_spin.value()) or None,
        )
        values.update(self.config_overrides)
        values.update(extra)
        return TrainConfig(**values)

    # ============================================================== actions
    @Slot()
    def start_training(self) -> None:
        """Start a new run from the form (ignored while a run is in progress)."""
        if self.is_training():
            return
        try:
            config = self.build_config()
        except Exception as exc:
            self._report_error("Cannot start training", str(exc))
            return
        self._save_form()
        base = self._base_model
        self.plots.clear()
        self.progress.reset("Loading data…")
        self.progress.append(
            f"— {_dt.datetime.now():%H:%M:%S} start: {config.arch}, {config.epochs} epoch(s), "
            f"batch {config.batch_size}, {config.optimizer} lr {config.learning_rate:g}, "
            f"data {config.data or 'bundled MNIST'}"
            + (f", first {config.train_limit} images" if config.train_limit else "")
            + (f", from {Path(base).name}" if base else "")
        )
        self._epoch_offset = 0
        self._continue_n = 0
        control = _RunControl()
        throttle = ProgressThrottle()

        def work(report):
            from digitpad.core.training import Trainer

            freeze_long_lived_objects()  # full GC passes over TF's objects stalled the GUI 200+ ms
            throttle.sink = report
            model = None
            if base is not None:  # ModelFileError -> the job fails with its one-sentence reason
                from digitpad.core.modelfile import load_model

                model = load_model(base).model
            trainer = Trainer(config, model=model, on_progress=throttle)
            control.attach(trainer)
            result = trainer.run()
            throttle.flush()
            return trainer, result, _append_history(result, "train")

        self._launch(work, control, throttle, "Training started.")

    @Slot()
    def continue_training(self) -> None:
        """Train the last model for ``continue_spin`` more epochs (same optimizer state)."""
        if self.is_training() or self._trainer is None or not self._model_usable:
            return
        n = int(self.continue_spin.value())
        trainer = self._trainer
        self._epoch_offset = int(getattr(self._result, "epochs_done", 0) or 0)
        self._continue_n = n
        control = _RunControl()
        throttle = self._throttle or ProgressThrottle()
        self.progress.reset("Continuing…")
        self.progress.append(f"— {_dt.datetime.now():%H:%M:%S} continue: +{n} epoch(s)")

        def work(report):
            def sink(items):
                # continue_training() starts by clearing the trainer's stop flag; the run's first
                # report comes after that, so a Stop pressed before the run began still counts
                control.attach(trainer)
                report(items)

            throttle.sink = sink
            control.attach(trainer)
            result = trainer.continue_training(n)
            throttle.flush()
            return trainer, result, _append_history(result, "continue")

        self._launch(work, control, throttle, f"Continuing training for {n} epoch(s).")

    def _launch(self, work, control: _RunControl, throttle: ProgressThrottle, message: str) -> None:
        job = Job(work, name="digitpad-train")
        job.progress.connect(self._on_progress)
        job.succeeded.connect(self._on_run_succeeded)
        job.failed.connect(self._on_run_failed)
        job.finished.connect(self._on_run_finished)
        self._job = job
        self._control = control
        self._throttle = throttle
        self._update_buttons()
        self.training_state_changed.emit(True)
        self.status_message.emit(message)
        job.start()

    @Slot()
    def use_in_recognize(self) -> None:
        """Emit ``use_model_requested`` with a copy of the trained model (made off the GUI thread)."""
        model = self.current_model()
        if model is None or self._job is not None:
            return
        result = self._result
        metadata = _metadata(result)
        acc = getattr(result, "test_accuracy", None)
        arch = metadata.get("arch") or getattr(getattr(result, "config", None), "arch", "model")
        name = f"{arch} (trained {_dt.datetime.now():%H:%M}" + (
            f", test {100 * acc:.2f} %)" if acc is not None and math.isfinite(acc) else ")"
        )

        def work(_report):
            return _inference_copy(model)

        job = self._aux_job(work, "digitpad-clone")
        job.succeeded.connect(self._on_clone_ready)
        job.failed.connect(self._on_aux_failed)
        self._pending_use = (name, metadata)
        self.use_button.setEnabled(False)
        job.start()

    @Slot(object)
    def _on_clone_ready(self, model) -> None:
        name, metadata = getattr(self, "_pending_use", ("trained model", {}))
        self._update_buttons()
        self.use_model_requested.emit(model, name, dict(metadata))
        self.status_message.emit(f"Using {name} in Recognize.")

    @Slot()
    def _on_save_clicked(self) -> None:
        self.save_model_interactive()

    def save_model_interactive(self) -> bool:
        """Ask for a file name and save the trained model (.keras or .h5). True if saved.

        While a run is in progress it is stopped first and the weights trained so far are saved.
        Returns True as well when there is nothing to save.
        """
        if self._job is not None:
            self.request_stop()
            self.wait_finished(120000)
        model = self.current_model()
        if model is None:
            return True
        settings = app_settings()
        start_dir = str(settings.value("train/save_dir", str(Path.home())))
        arch = getattr(getattr(self._result, "config", None), "arch", "model")
        suggested = str(Path(start_dir) / f"digitpad-{arch}-{_dt.datetime.now():%Y%m%d-%H%M}.keras")
        path, selected = QFileDialog.getSaveFileName(
            self, "Save Model", suggested, "Keras model (*.keras);;Legacy HDF5 model (*.h5)"
        )
        if not path:
            return False
        p = Path(path)
        if p.suffix.lower() not in (".keras", ".h5"):
            p = p.with_name(p.name + (".h5" if "h5" in (selected or "") else ".keras"))
        metadata = _metadata(self._result)

        def work(_report):
            from digitpad.core.modelfile import save_model

            return str(save_model(model, p, metadata=metadata))

        job = self._aux_job(work, "digitpad-save")
        outcome: dict[str, Any] = {}
        job.succeeded.connect(self._on_save_done)
        job.failed.connect(self._on_save_failed)
        self._save_outcome = outcome
        job.start()
        wait_job(job, 300000)
        # deliver the queued slot
        from PySide6.QtCore import QCoreApplication

        QCoreApplication.processEvents()
        if "path" in outcome:
            settings.setValue("train/save_dir", str(Path(outcome["path"]).parent))
            return True
        return False

    @Slot(object)
    def _on_save_done(self, path) -> None:
        self._save_outcome["path"] = path
        self._unsaved = False
        self._saved_path = path
        self.progress.append(f"Saved model to {path}")
        self.status_message.emit(f"Model saved to {path}.")
        try:
            from digitpad.gui.settings import add_recent_file

            add_recent_file(path)
        except Exception:
            pass

    @Slot(str, str)
    def _on_save_failed(self, reason: str, details: str) -> None:
        self._save_outcome["error"] = reason
        self._report_error("Cannot save the model", reason + " The model is still in memory.")

    @Slot()
    def open_kfold(self) -> None:
        """Show the k-fold dialog (runs with the form's current settings)."""
        if self.kfold_dialog is None:
            self.kfold_dialog = KFoldDialog(self._kfold_config, self)
            self.kfold_dialog.k_spin.setValue(int(app_settings().value("train/kfold_k", 5)))
            self.kfold_dialog.running_changed.connect(self._on_kfold_running)
            self.kfold_dialog.status_message.connect(self.status_message)
        self.kfold_dialog.show()
        self.kfold_dialog.raise_()

    def _kfold_config(self):
        app_settings().setValue("train/kfold_k", int(self.kfold_dialog.k_spin.value()) if self.kfold_dialog else 5)
        return self.build_config()

    @Slot(bool)
    def _on_kfold_running(self, running: bool) -> None:
        self._update_buttons()
        self.training_state_changed.emit(running)

    # ============================================================ job slots
    @Slot(object)
    def _on_progress(self, events: list) -> None:
        xs: list[float] = []
        logs: list[dict] = []
        last = None
        for p in events:
            kind = getattr(p, "kind", "")
            if kind == "batch":
                epoch = self._global_epoch(p)
                xs.append(epoch - 1 + p.batch / max(p.batches, 1))
                logs.append(p.logs)
                last = p
            elif kind == "epoch":
                if xs:
                    self.plots.add_batches(xs, logs)
                    xs, logs = [], []
                epoch = self._global_epoch(p)
                self.plots.add_epoch(epoch, p.logs)
                total = self._epoch_offset + self._continue_n if self._continue_n else p.epochs
                self.progress.append(_epoch_line(epoch, total, p))
                last = p
            elif kind == "start":
                last = p
                if p.message:
                    self.progress.append(p.message)
            elif kind == "message":
                if p.message:
                    self.progress.append(p.message)
            elif kind == "end":
                last = p
        if xs:
            self.plots.add_batches(xs, logs)
        if last is not None:
            self.progress.show_progress(last)

    def _global_epoch(self, p) -> int:
        if self._continue_n and p.epochs == self._epoch_offset + self._continue_n and p.epoch > self._epoch_offset:
            return int(p.epoch)  # the trainer already counts from the first run
        return int(p.epoch) + self._epoch_offset

    @Slot(object)
    def _on_run_succeeded(self, payload) -> None:
        trainer, result, record = payload
        self._trainer = trainer
        self._result = result
        failed = _run_failed(result)
        best = getattr(result, "best_epoch", None)
        epochs_done = int(getattr(result, "epochs_done", 0) or 0)
        self._model_usable = getattr(result, "model", None) is not None and (not failed or best is not None)
        self._unsaved = self._model_usable
        acc = getattr(result, "test_accuracy", None)
        reason = str(getattr(result, "reason", ""))
        acc_text = f"test accuracy {100 * acc:.2f} %" if acc is not None and math.isfinite(acc) else "no test accuracy"
        where = f"{epochs_done} epoch(s) in {format_eta(getattr(result, 'elapsed', None))} on " \
                f"{getattr(result, 'device', '?')}"
        if failed:
            summary = f"Training stopped: {reason} ({where}; {acc_text})."
        else:
            summary = f"{reason[:1].upper()}{reason[1:]} after {where}: {acc_text}."

        self.result_label.setText(summary)
        self.progress.append(summary)
        bar = self.progress.bar
        if failed:
            bar.setFormat(f"Failed · {reason}")
        elif getattr(result, "stopped", False):
            bar.setFormat(f"Stopped · {acc_text}")
        else:
            bar.setValue(bar.maximum())  # the last throttled batch update may be short of the end
            bar.setFormat(f"Done · {acc_text}")
        if record is not None:
            self.history_table.add_record(record)
        if isinstance(record, dict) and record.get("_history_error"):
            self.progress.append(f"Run history not updated: {record['_history_error']}")
        self.status_message.emit(summary)
        if failed:
            self._pending_error = ("Training stopped", f"Training stopped: {reason}.")

    @Slot(str, str)
    def _on_run_failed(self, reason: str, details: str) -> None:
        self.progress.append(f"Training failed: {reason}")
        self.progress.reset("Failed")
        self.result_label.setText(f"Training failed: {reason}")
        self.status_message.emit(f"Training failed: {reason}")
        self._pending_error = ("Training failed", reason)

    @Slot()
    def _on_run_finished(self) -> None:
        self.plots.flush()  # per-batch points waiting for the next (rate-limited) redraw
        self._job = None
        self._control = None
        self._update_buttons()
        self.training_state_changed.emit(False)
        if self._pending_error is not None:
            title, text = self._pending_error
            self._pending_error = None
            self._show_error(title, text)

    # ================================================= devices, param counts
    def _fill_devices(self, gpus: list[str] | None) -> None:
        wanted = self.device_combo.currentData() or str(app_settings().value("train/device", "auto"))
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        self.device_combo.addItem("Auto (GPU if available)", "auto")
        self.device_combo.addItem("CPU", "cpu")
        model = self.device_combo.model()
        if gpus is None:
            self.device_combo.addItem("GPU (detecting…)", "gpu")
            _disable_item(model, self.device_combo.count() - 1, "Looking for GPUs…")
        elif not gpus:
            self.device_combo.addItem("GPU", "gpu")
            _disable_item(model, self.device_combo.count() - 1, NO_GPU_REASON)
        else:
            for i, gpu in enumerate(gpus):
                self.device_combo.addItem(f"GPU:{i} ({gpu})", f"gpu:{i}")
        index = self.device_combo.findData(wanted)
        if index < 0 or not _item_enabled(model, index):
            index = 0
        self.device_combo.setCurrentIndex(index)
        self.device_combo.blockSignals(False)

    def _detect_devices(self) -> None:
        def work(_report):
            from digitpad.core.tfsetup import list_gpus

            return list_gpus()

        job = self._aux_job(work, "digitpad-gpus")
        job.succeeded.connect(self._on_gpus)
        job.start()

    @Slot(object)
    def _on_gpus(self, gpus) -> None:
        self._gpus = list(gpus)
        self._fill_devices(self._gpus)

    def _request_param_count(self, name: str | None) -> None:
        if not name or name in self._param_counts or self._param_job is not None:
            self._show_arch_info()
            return
        self._param_counts[name] = None  # pending

        def work(_report):
            from digitpad.core.archs import param_count

            return name, int(param_count(name))

        job = self._aux_job(work, "digitpad-params")
        job.succeeded.connect(self._on_param_count)
        job.failed.connect(self._on_param_failed)
        job.finished.connect(self._on_param_job_finished)
        self._param_job = job
        self._show_arch_info()
        job.start()

    @Slot(object)
    def _on_param_count(self, payload) -> None:
        name, count = payload
        self._param_counts[name] = count
        self._show_arch_info()

    @Slot(str, str)
    def _on_param_failed(self, reason: str, details: str) -> None:
        for k, v in list(self._param_counts.items()):
            if v is None:
                self._param_counts[k] = -1
        self._show_arch_info()

    @Slot()
    def _on_param_job_finished(self) -> None:
        self._param_job = None
        current = self.arch_combo.currentData()
        if current and current not in self._param_counts:
            self._request_param_count(current)

    def _show_arch_info(self) -> None:
        name = self.arch_combo.currentData()
        spec = self._archs.get(name)
        if spec is None:
            self.arch_info.setText("")
            return
        count = self._param_counts.get(name)
        if count is None:
            params = "… parameters"
        elif count < 0:
            params = "parameter count unavailable"
        else:
            params = f"{count:,} parameters"
        self.arch_info.setText(f"{spec.description} — {params}")

    # ================================================================ form
    @Slot(int)
    def _on_arch_changed(self, _index: int) -> None:
        self._apply_arch_defaults(self.arch_combo.currentData())
        self._request_param_count(self.arch_combo.currentData())

    def _apply_arch_defaults(self, name: str | None) -> None:
        spec = self._archs.get(name)
        if spec is None:
            return
        self.epochs_spin.setValue(int(spec.epochs))
        self.batch_spin.setValue(int(spec.batch_size))
        _set_combo_text(self.optimizer_combo, spec.optimizer)
        self.lr_spin.setValue(float(spec.learning_rate))
        _set_combo_text(self.schedule_combo, spec.schedule)
        self.augment_check.setChecked(bool(spec.augment))
        self._show_arch_info()

    def _restore_form(self) -> None:
        s = app_settings()
        arch = str(s.value("train/arch", "fast"))
        index = self.arch_combo.findData(arch)
        if index < 0:
            index = max(0, self.arch_combo.findData("fast"))
        self.arch_combo.blockSignals(True)
        self.arch_combo.setCurrentIndex(index)
        self.arch_combo.blockSignals(False)
        self._apply_arch_defaults(self.arch_combo.currentData())
        if s.contains("train/epochs"):
            self.epochs_spin.setValue(_int(s.value("train/epochs"), self.epochs_spin.value()))
            self.batch_spin.setValue(_int(s.value("train/batch_size"), self.batch_spin.value()))
            _set_combo_text(self.optimizer_combo, str(s.value("train/optimizer", self.optimizer_combo.currentText())))
            self.lr_spin.setValue(_float(s.value("train/learning_rate"), self.lr_spin.value()))
            _set_combo_text(self.schedule_combo, str(s.value("train/schedule", self.schedule_combo.currentText())))
            self.augment_check.setChecked(_bool(s.value("train/augment"), self.augment_check.isChecked()))
        self.val_spin.setValue(_float(s.value("train/val_split"), 0.1))
        self.seed_spin.setValue(_int(s.value("train/seed"), 0))
        self.limit_spin.setValue(_int(s.value("train/limit"), 0))
        self.continue_spin.setValue(_int(s.value("train/continue_epochs"), 1))
        data = str(s.value("train/data", BUNDLED))
        self.set_data_source(data)

    def _save_form(self) -> None:
        s = app_settings()
        s.setValue("train/arch", self.arch_combo.currentData())
        s.setValue("train/epochs", int(self.epochs_spin.value()))
        s.setValue("train/batch_size", int(self.batch_spin.value()))
        s.setValue("train/optimizer", self.optimizer_combo.currentText())
        s.setValue("train/learning_rate", float(self.lr_spin.value()))
        s.setValue("train/schedule", self.schedule_combo.currentText())
        s.setValue("train/val_split", float(self.val_spin.value()))
        s.setValue("train/augment", bool(self.augment_check.isChecked()))
        s.setValue("train/seed", int(self.seed_spin.value()))
        s.setValue("train/device", str(self.device_combo.currentData() or "auto"))
        s.setValue("train/limit", int(self.limit_spin.value()))
        s.setValue("train/continue_epochs", int(self.continue_spin.value()))
        s.setValue("train/data", self._data_source or BUNDLED)
        s.sync()

    @Slot()
    def _choose_data_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a data folder", self._data_source or str(Path.home()))
        if path:
            self.set_data_source(path)

    @Slot()
    def _choose_data_npz(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose an .npz data file", self._data_source or str(Path.home()), "NumPy archive (*.npz)"
        )
        if path:
            self.set_data_source(path)

    @Slot()
    def _choose_base_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Train a saved model further", self._base_model or str(Path.home()),
            "Keras models (*.keras *.h5 *.hdf5)",
        )
        if path:
            self.set_base_model(path)

    @Slot()
    def _use_new_model(self) -> None:
        self.set_base_model(None)

    @Slot()
    def _use_bundled_data(self) -> None:
        self.set_data_source(None)

    def _update_buttons(self) -> None:
        training = self._job is not None
        kfold = self.kfold_dialog is not None and self.kfold_dialog.is_running()
        busy = training or kfold
        has_model = self._model_usable and self._result is not None
        self.start_button.setEnabled(not busy)
        self.stop_button.setEnabled(training)
        self.continue_button.setEnabled(not busy and has_model and self._trainer is not None)
        self.continue_spin.setEnabled(not busy)
        self.use_button.setEnabled(not training and has_model)
        self.save_button.setEnabled(not training and has_model)
        self.kfold_button.setEnabled(not training)
        for w in (self.arch_combo, self.epochs_spin, self.batch_spin, self.optimizer_combo, self.lr_spin,
                  self.schedule_combo, self.val_spin, self.augment_check, self.seed_spin, self.device_combo,
                  self.data_folder_button, self.data_npz_button, self.data_bundled_button, self.limit_spin,
                  self.base_file_button, self.base_new_button):
            w.setEnabled(not busy)

    # ============================================================= helpers
    def _aux_job(self, work, name: str) -> Job:
        job = Job(work, name=name)
        self._aux_jobs.add(job)
        job.finished.connect(self._on_aux_finished)
        return job

    @Slot()
    def _on_aux_finished(self) -> None:
        self._aux_jobs = {j for j in self._aux_jobs if _alive(j)}

    @Slot(str, str)
    def _on_aux_failed(self, reason: str, details: str) -> None:
        self._update_buttons()
        self._report_error("digitpad", reason)

    def _reload_history(self) -> None:
        try:
            self.history_table.reload()
        except Exception as exc:  # never block the tab on a history problem
            self.progress.append(f"Run history unavailable: {exc}")

    def _report_error(self, title: str, text: str) -> None:
        self.progress.append(f"{title}: {text}")
        self.status_message.emit(f"{title}: {text}")
        self._show_error(title, text)

    def _show_error(self, title: str, text: str) -> None:
        """Show a warning box (tests monkeypatch this)."""
        QMessageBox.warning(self, title, text)


# ================================================================ functions
def _append_history(result: Any, kind: str) -> dict:
    """Build the run's history record and append it to the history file (worker thread)."""
    record = run_record(result, kind=kind)
    try:
        from digitpad.core.history import append_run

        append_run(record)
    except Exception as exc:  # a full disk must not lose the trained model
        record = dict(record, _history_error=str(exc))
    return record


def _metadata(result: Any) -> dict:
    try:
        meta = result.metadata()
        return dict(meta) if isinstance(meta, dict) else {}
    except Exception:
        return {}


def _inference_copy(model: Any) -> Any:
    """A copy of ``model`` for the Recognize tab: same weights, input (28, 28, 1) (worker thread)."""
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


def _epoch_line(epoch: int, epochs: int, p: Any) -> str:
    logs = p.logs or {}

    def f(key: str, pct: bool = False) -> str:
        v = logs.get(key)
        if v is None:
            return ""
        return f"{key} {100 * v:.2f} %" if pct else f"{key} {v:.4f}"

    parts = [f("loss"), f("accuracy", True), f("val_loss"), f("val_accuracy", True)]
    text = ", ".join(x for x in parts if x)
    return (f"Epoch {epoch}/{epochs}: {text} ({format_eta(p.elapsed)} elapsed, "
            f"{p.samples_per_s:,.0f} samples/s)")


def _disable_item(model: Any, row: int, reason: str) -> None:
    if isinstance(model, QStandardItemModel):
        item = model.item(row)
        if item is not None:
            item.setEnabled(False)
            item.setToolTip(reason)


def _item_enabled(model: Any, row: int) -> bool:
    if isinstance(model, QStandardItemModel):
        item = model.item(row)
        return item is None or item.isEnabled()
    return True


def _set_combo_text(combo: QComboBox, text: str) -> None:
    index = combo.findText(text)
    if index >= 0:
        combo.setCurrentIndex(index)


def _alive(job: Job) -> bool:
    try:
        return job.isRunning() or not job.isFinished()
    except RuntimeError:
        return False


def _int(value: Any, default: int) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def _float(value: Any, default: float) -> float:
    try:
        v = float(value)
        return v if math.isfinite(v) else default
    except (TypeError, ValueError):
        return default


def _bool(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if value is None:
        return default
    return bool(value)
