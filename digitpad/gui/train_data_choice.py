"""The Train form's data choice and augmentation combo.

:class:`DataChoice` picks the training data: the bundled MNIST, a folder or an ``.npz`` file, and
optionally **adds the personal drawings** (the labelled-drawing store of
:mod:`digitpad.core.personal`). Its :meth:`DataChoice.sources` list is what the run loads, through
the same multi-source path as ``digitpad train --data mnist --data FOLDER``
(:func:`digitpad.core.data.combine.load_datasets`).

:class:`AugmentCombo` chooses one of the core's augmentation modes
(:data:`digitpad.core.training.config.AUGMENT_MODES`); it reads the old on/off setting too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.gui.settings import app_settings

__all__ = ["AUGMENT_LABELS", "BUNDLED", "AugmentCombo", "DataChoice"]

BUNDLED = "bundled"

#: augmentation mode -> what the combo shows
AUGMENT_LABELS = {
    "none": "none",
    "mnist": "MNIST (shift, rotate, zoom)",
    "drawn": "drawn (pad-like strokes)",
}


class AugmentCombo(QComboBox):
    """One of the core's augmentation modes (``none`` / ``mnist`` / ``drawn``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from digitpad.core.training.config import AUGMENT_MODES

        for mode in AUGMENT_MODES:
            self.addItem(AUGMENT_LABELS.get(mode, mode), mode)
        self.setToolTip(
            "How training images are varied: none; MNIST-style shifts, rotations and zoom; or "
            "pad-like strokes (stroke width, rotation, slant, stretch, elastic) for drawn input."
        )

    def mode(self) -> str:
        """The chosen mode, a name of ``AUGMENT_MODES``."""
        return str(self.currentData())

    def set_mode(self, value: Any) -> bool:
        """Choose ``value`` (a mode name, an old on/off bool or its text); False if it names none."""
        from digitpad.core.errors import TrainingError
        from digitpad.core.training.config import augment_mode

        try:
            index = self.findData(augment_mode(value))
        except TrainingError:
            return False
        if index >= 0:
            self.setCurrentIndex(index)
        return index >= 0


class DataChoice(QWidget):
    """Where the training images come from (see module docstring).

    Parameters
    ----------
    personal_root
        The personal data set's folder (default: the store's, ``user_data_dir()/drawings``).

    Signals
    -------
    changed()
        The source or the "add my drawings" choice changed.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, personal_root: str | Path | None = None):
        super().__init__(parent)
        from digitpad.core.personal import DrawingStore

        self.store = DrawingStore(personal_root)
        self._source: str | None = None   # None = bundled MNIST
        self.label = QLabel("", self)
        self.label.setWordWrap(True)
        self.bundled_button = QPushButton("Bundled MNIST", self)
        self.folder_button = QPushButton("Folder…", self)
        self.folder_button.setToolTip("A folder of MNIST IDX files, or of images in 0/ … 9/ sub-folders.")
        self.npz_button = QPushButton(".npz…", self)
        self.npz_button.setToolTip("A Keras-style mnist.npz (x_train, y_train, x_test, y_test).")
        self.personal_check = QCheckBox("Add my drawings", self)
        self.personal_check.setToolTip(
            "Also train on your labelled drawings (keys 0–9 on the Recognize tab), as "
            "`digitpad train --data mnist --data FOLDER` does. A few drawings among 60,000 images "
            "change little: to teach a model your hand, use Fine-tune on the My drawings tab. "
            f"Folder: {self.store.root}"
        )
        buttons = QGridLayout()  # two rows: the form stays narrow enough for the plots
        buttons.addWidget(self.bundled_button, 0, 0, 1, 2)
        buttons.addWidget(self.folder_button, 1, 0)
        buttons.addWidget(self.npz_button, 1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addLayout(buttons)
        layout.addWidget(self.personal_check)
        self.bundled_button.clicked.connect(lambda: self.set_source(None))
        self.folder_button.clicked.connect(self._choose_folder)
        self.npz_button.clicked.connect(self._choose_npz)
        self.personal_check.toggled.connect(self._on_personal_toggled)
        self.refresh_count()

    # ------------------------------------------------------------ public API
    def source(self) -> str | None:
        """The main data source (None = bundled MNIST)."""
        return self._source

    def set_source(self, path: str | None) -> None:
        """Use ``path`` (IDX folder, image folder or .npz) as main data; empty = bundled MNIST."""
        text = str(path or "").strip()
        if text.lower() in ("", BUNDLED, "mnist", "none"):
            self._source = None
            self.label.setText("Bundled MNIST (60,000 train / 10,000 test)")
            self.label.setToolTip("The MNIST set shipped with digitpad.")
        else:
            self._source = text
            self.label.setText(text)
            self.label.setToolTip(text)
        app_settings().setValue("train/data", self._source or BUNDLED)
        self.changed.emit()

    def adds_personal(self) -> bool:
        """Whether the personal drawings are added to the main source."""
        return self.personal_check.isChecked()

    def set_adds_personal(self, on: bool) -> None:
        """Add (or stop adding) the personal drawings."""
        self.personal_check.setChecked(bool(on))

    def personal_count(self) -> int:
        """How many labelled drawings the personal data set holds now."""
        return sum(self.store.counts())

    def sources(self) -> list[str | None]:
        """The sources a run loads, in order (``None`` = bundled MNIST)."""
        main = [self._source]
        return main + [str(self.store.root)] if self.adds_personal() else main

    def config_data(self) -> str | None:
        """``TrainConfig.data``: the main source, or all sources joined as the CLI joins them."""
        if not self.adds_personal():
            return self._source
        return " + ".join(s or "mnist" for s in self.sources())

    def check(self) -> None:
        """Raise a one-sentence ``DataError`` when the personal drawings are added but there are none."""
        from digitpad.core.errors import DataError

        if self.adds_personal() and self.refresh_count() == 0:
            raise DataError(
                f"you have no labelled drawings yet in {self.store.root}: draw a digit on the "
                "Recognize tab and press its key (0–9), or untick \"Add my drawings\"."
            )

    def refresh_count(self) -> int:
        """Show how many drawings would be added; returns the count."""
        n = self.personal_count()
        self.personal_check.setText(f"Add my drawings ({n:,})")
        return n

    def set_busy(self, busy: bool) -> None:
        """Lock the choice while a run uses it."""
        for w in (self.bundled_button, self.folder_button, self.npz_button, self.personal_check):
            w.setEnabled(not busy)

    def restore(self) -> None:
        """Fill the choice from the settings file."""
        s = app_settings()
        self.set_adds_personal(s.value("train/add_drawings", False, type=bool))
        self.set_source(s.value("train/data", BUNDLED, type=str))

    def save(self) -> None:
        """Write the choice to the settings file (without syncing it)."""
        s = app_settings()
        s.setValue("train/data", self._source or BUNDLED)
        s.setValue("train/add_drawings", self.adds_personal())

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        self.refresh_count()  # drawings labelled on another tab since
        super().showEvent(event)

    # -------------------------------------------------------------- internals
    @Slot(bool)
    def _on_personal_toggled(self, on: bool) -> None:
        app_settings().setValue("train/add_drawings", bool(on))
        self.refresh_count()
        self.changed.emit()

    @Slot()
    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a data folder",
                                                self._source or str(Path.home()))
        if path:
            self.set_source(path)

    @Slot()
    def _choose_npz(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose an .npz data file", self._source or str(Path.home()), "NumPy archive (*.npz)"
        )
        if path:
            self.set_source(path)
