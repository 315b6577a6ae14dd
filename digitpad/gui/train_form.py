"""The Train tab's settings form: architecture, hyper-parameters, data, device and start-from.

The form knows nothing about running: it turns its widgets into a core ``TrainConfig``
(:meth:`TrainForm.build_config`), remembers them in the settings file, and fills in what it
learns in the background through the app's :class:`~digitpad.gui.tasks.TaskRunner`: parameter
counts here, the GPUs in :mod:`digitpad.gui.device_combo`. This module imports no TensorFlow at import time.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from digitpad.gui.device_combo import NO_GPU_REASON, DeviceCombo
from digitpad.gui.settings import app_settings
from digitpad.gui.train_data_choice import BUNDLED, AugmentCombo, DataChoice

__all__ = ["BUNDLED", "NO_GPU_REASON", "LogSpinBox", "TrainForm"]


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


class TrainForm(QWidget):
    """The settings of the next run (see module docstring).

    Parameters
    ----------
    runner
        The task runner that counts parameters and looks for GPUs in the background.
    """

    def __init__(self, runner: Any, parent: QWidget | None = None):
        super().__init__(parent)
        from digitpad.core.archs import ARCHS
        from digitpad.core.training import OPTIMIZERS, SCHEDULES

        self._archs = ARCHS
        self._runner = runner
        self._base_model: str | None = None    # a saved model to train further; None = a new model
        self._param_counts: dict[str, int | None] = {}
        self._counting = False
        #: extra TrainConfig fields applied to every run (scripting and tests, e.g. test_limit)
        self.config_overrides: dict[str, Any] = {}

        self.arch_combo = QComboBox(self)
        for name, spec in ARCHS.items():
            self.arch_combo.addItem(name, name)
            self.arch_combo.setItemData(self.arch_combo.count() - 1, spec.description,
                                        Qt.ItemDataRole.ToolTipRole)
        self.arch_info = QLabel("", self)
        self.arch_info.setWordWrap(True)
        self.arch_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.epochs_spin = QSpinBox(self)
        self.epochs_spin.setRange(1, 1000)
        self.batch_spin = QSpinBox(self)
        self.batch_spin.setRange(1, 65536)
        self.optimizer_combo = QComboBox(self)
        self.optimizer_combo.addItems(list(OPTIMIZERS))
        self.lr_spin = LogSpinBox(self)
        self.lr_spin.setToolTip("Learning rate (arrows step by ×√10).")
        self.schedule_combo = QComboBox(self)
        self.schedule_combo.addItems(list(SCHEDULES))
        self.val_spin = QDoubleSpinBox(self)
        self.val_spin.setRange(0.0, 0.5)
        self.val_spin.setSingleStep(0.05)
        self.val_spin.setDecimals(2)
        self.val_spin.setToolTip(
            "Fraction of the training images held out for validation (0 = none). With validation, "
            "a completed run keeps the weights of its best epoch."
        )
        self.augment_combo = AugmentCombo(self)
        self.seed_spin = QSpinBox(self)
        self.seed_spin.setRange(0, 2**31 - 1)
        self.device_combo = DeviceCombo(runner, app_settings().value("train/device", "auto", type=str), self)
        self.data_choice = DataChoice(self)
        self.limit_spin = QSpinBox(self)
        self.limit_spin.setRange(0, 10_000_000)
        self.limit_spin.setSingleStep(1000)
        self.limit_spin.setSpecialValueText("all images")
        self.limit_spin.setToolTip("Train on a random subset of N training images (quick demos); 0 = all.")
        self.base_label = QLabel("a new model", self)
        self.base_label.setWordWrap(True)
        self.base_new_button = QPushButton("New model", self)
        self.base_new_button.setToolTip("Train a new model of the architecture below.")
        self.base_file_button = QPushButton("Model file…", self)
        self.base_file_button.setToolTip(
            "Train a saved model further (.keras continues with its saved optimizer state; "
            ".h5 with a fresh optimizer). The architecture below then only gives the defaults."
        )
        self._layout()

        self.arch_combo.currentIndexChanged.connect(self._on_arch_changed)
        self.base_file_button.clicked.connect(self._choose_base_model)
        self.base_new_button.clicked.connect(lambda: self.set_base_model(None))

        self.restore()
        self._request_param_count(self.arch_combo.currentData())

    def _layout(self) -> None:
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        base_buttons = QHBoxLayout()
        base_buttons.addWidget(self.base_new_button)
        base_buttons.addWidget(self.base_file_button)
        base_buttons.addStretch(1)
        form.addRow("Start from:", self.base_label)
        form.addRow("", base_buttons)
        form.addRow("Architecture:", self.arch_combo)
        form.addRow(self.arch_info)
        form.addRow("Epochs:", self.epochs_spin)
        form.addRow("Batch size:", self.batch_spin)
        form.addRow("Optimizer:", self.optimizer_combo)
        form.addRow("Learning rate:", self.lr_spin)
        form.addRow("LR schedule:", self.schedule_combo)
        form.addRow("Validation:", self.val_spin)
        form.addRow("Augmentation:", self.augment_combo)
        form.addRow("Seed:", self.seed_spin)
        form.addRow("Device:", self.device_combo)
        form.addRow("Data:", self.data_choice)
        form.addRow("Train on first:", self.limit_spin)

    # ============================================================ public API
    def build_config(self, **extra: Any) -> Any:
        """The ``TrainConfig`` described by the form (plus :attr:`config_overrides` and ``extra``).

        Raises ``DataError`` when the personal drawings are to be added but there are none.
        """
        from digitpad.core.training import TrainConfig

        self.data_choice.check()
        values = dict(
            arch=self.arch_combo.currentData(),
            epochs=int(self.epochs_spin.value()),
            batch_size=int(self.batch_spin.value()),
            optimizer=self.optimizer_combo.currentText(),
            learning_rate=float(self.lr_spin.value()),
            schedule=self.schedule_combo.currentText(),
            val_split=float(self.val_spin.value()),
            augment=self.augment_combo.mode(),
            seed=int(self.seed_spin.value()),
            device=self.device_combo.device(),
            data=self.data_choice.config_data(),
            train_limit=int(self.limit_spin.value()) or None,
        )
        values.update(self.config_overrides)
        values.update(extra)
        return TrainConfig(**values)

    def data_source(self) -> str | None:
        """The main data source a run will use (None = bundled MNIST)."""
        return self.data_choice.source()

    def set_data_source(self, path: str | None) -> None:
        """Use ``path`` (IDX folder, image folder or .npz) as training data; empty = bundled MNIST."""
        self.data_choice.set_source(path)

    def data_sources(self) -> list[str | None]:
        """Every source the next run loads (``None`` = bundled MNIST), personal drawings included."""
        return self.data_choice.sources()

    def base_model(self) -> str | None:
        """The saved model the next run starts from (None: a new model)."""
        return self._base_model

    def set_base_model(self, path: str | None) -> None:
        """Start the next run from the saved model at ``path`` (None: a new model)."""
        self._base_model = str(path) if path else None
        if self._base_model is None:
            self.base_label.setText("a new model")
            self.base_label.setToolTip("")
            return
        kind = ("its saved optimizer state" if self._base_model.lower().endswith(".keras")
                else "a fresh optimizer (.h5 files keep none)")
        self.base_label.setText(f"{Path(self._base_model).name} — continues with {kind}")
        self.base_label.setToolTip(self._base_model)

    def set_busy(self, busy: bool) -> None:
        """Lock the form while a run uses its settings."""
        for w in (self.arch_combo, self.epochs_spin, self.batch_spin, self.optimizer_combo, self.lr_spin,
                  self.schedule_combo, self.val_spin, self.augment_combo, self.seed_spin,
                  self.device_combo, self.limit_spin, self.base_new_button, self.base_file_button):
            w.setEnabled(not busy)
        self.data_choice.set_busy(busy)

    def restore(self) -> None:
        """Fill the form from the settings file (architecture defaults where nothing is saved)."""
        s = app_settings()
        index = self.arch_combo.findData(s.value("train/arch", "fast", type=str))
        self.arch_combo.blockSignals(True)
        self.arch_combo.setCurrentIndex(index if index >= 0 else max(0, self.arch_combo.findData("fast")))
        self.arch_combo.blockSignals(False)
        self._apply_arch_defaults(self.arch_combo.currentData())
        if s.contains("train/epochs"):
            self.epochs_spin.setValue(s.value("train/epochs", self.epochs_spin.value(), type=int))
            self.batch_spin.setValue(s.value("train/batch_size", self.batch_spin.value(), type=int))
            _set_combo_text(self.optimizer_combo, s.value("train/optimizer", "", type=str))
            self.lr_spin.setValue(s.value("train/learning_rate", self.lr_spin.value(), type=float))
            _set_combo_text(self.schedule_combo, s.value("train/schedule", "", type=str))
            self.augment_combo.set_mode(s.value("train/augment", self.augment_combo.mode(), type=str))
        self.val_spin.setValue(s.value("train/val_split", 0.1, type=float))
        self.seed_spin.setValue(s.value("train/seed", 0, type=int))
        self.limit_spin.setValue(s.value("train/limit", 0, type=int))
        self.data_choice.restore()

    def save(self) -> None:
        """Write the form to the settings file."""
        s = app_settings()
        s.setValue("train/arch", self.arch_combo.currentData())
        s.setValue("train/epochs", int(self.epochs_spin.value()))
        s.setValue("train/batch_size", int(self.batch_spin.value()))
        s.setValue("train/optimizer", self.optimizer_combo.currentText())
        s.setValue("train/learning_rate", float(self.lr_spin.value()))
        s.setValue("train/schedule", self.schedule_combo.currentText())
        s.setValue("train/val_split", float(self.val_spin.value()))
        s.setValue("train/augment", self.augment_combo.mode())
        s.setValue("train/seed", int(self.seed_spin.value()))
        s.setValue("train/device", self.device_combo.device())
        s.setValue("train/limit", int(self.limit_spin.value()))
        self.data_choice.save()
        s.sync()

    # ========================================================== architecture
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
        self.augment_combo.set_mode(spec.augment)
        self._show_arch_info()

    def _request_param_count(self, name: str | None) -> None:
        """Count ``name``'s parameters in the background (one count at a time)."""
        if not name or name in self._param_counts or self._counting:
            self._show_arch_info()
            return
        from digitpad.core.archs import param_count

        self._param_counts[name] = None  # pending
        self._counting = True
        self._runner.start(
            param_count, name, name="digitpad-params",
            on_done=partial(self._set_param_count, name),
            on_error=partial(self._param_count_failed, name),
            on_finished=self._on_count_finished,
        )
        self._show_arch_info()

    def _set_param_count(self, name: str, count: int) -> None:
        self._param_counts[name] = int(count)
        self._show_arch_info()

    def _param_count_failed(self, name: str, _reason: str) -> None:
        self._set_param_count(name, -1)

    def _on_count_finished(self) -> None:
        self._counting = False
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

    # ============================================================ file dialogs
    @Slot()
    def _choose_base_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Train a saved model further", self._base_model or str(Path.home()),
            "Keras models (*.keras *.h5 *.hdf5)",
        )
        if path:
            self.set_base_model(path)


def _set_combo_text(combo: QComboBox, text: str) -> None:
    index = combo.findText(text)
    if index >= 0:
        combo.setCurrentIndex(index)
