"""The gallery of the personal data set: thumbnails by digit, relabel, delete, import, export,
and the model in use's accuracy on the drawings with the misread ones marked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.errors import DigitpadError
from digitpad.core.personal import (
    DrawingStore,
    export_zip,
    import_folder,
    import_zip,
    load_drawings,
)
from digitpad.gui.current_model import CurrentModel
from digitpad.gui.grey_image import array_to_qimage
from digitpad.gui.my_drawings.finetune_panel import FinetunePanel
from digitpad.gui.tasks import TaskRunner, shared_runner

THUMB = 56
MISREAD = QColor(220, 60, 60)


class MyDrawingsView(QWidget):
    """The personal data set (``store``) as a gallery, with fine-tuning below it."""

    def __init__(self, parent: QWidget | None = None, *, store: DrawingStore | None = None,
                 runner: TaskRunner | None = None, current: CurrentModel | None = None) -> None:
        super().__init__(parent)
        self.store = store if store is not None else DrawingStore()
        self.runner = runner if runner is not None else shared_runner()
        self.current = current if current is not None else CurrentModel(self.runner, self)
        self.drawings = None
        self.misread: list[int] = []
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.relabel_combo = QComboBox()
        self.relabel_combo.addItems([str(d) for d in range(10)])
        self.relabel_button = QPushButton("Relabel as")
        self.relabel_button.clicked.connect(lambda: self.relabel_selected(
            self.relabel_combo.currentIndex()))
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_selected)
        self.import_button = QPushButton("Import…")
        self.import_button.clicked.connect(self._ask_import)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self._ask_export)
        row = QHBoxLayout()
        for w in (self.relabel_button, self.relabel_combo, self.delete_button,
                  self.import_button, self.export_button):
            row.addWidget(w)
        row.addStretch(1)
        self.finetune = FinetunePanel(lambda: self.store.root, self.runner, self.current)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 2)
        layout.addLayout(row)
        layout.addWidget(self.finetune, 1)
        self.current.changed.connect(self.refresh)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Re-read the folder, re-measure the model in use and rebuild the gallery."""
        self.list.clear()
        self.misread = []
        try:
            self.drawings = load_drawings(self.store.root) if self.store.root.is_dir() else None
        except DigitpadError as exc:
            self.drawings = None
            self.summary.setText(str(exc))
            return
        if self.drawings is None or len(self.drawings) == 0:
            self.summary.setText("No drawings yet: draw on the Recognize tab and press a digit key "
                                 "(or Enter when the model is right) to keep a drawing here.")
            self.drawings = None
            return
        d = self.drawings
        predicted = self._predict(d.x)
        order = np.lexsort((np.arange(len(d)), d.y))
        for i in order:
            item = QListWidgetItem(QIcon(QPixmap.fromImage(array_to_qimage(d.x[i]))), "")
            item.setData(Qt.ItemDataRole.UserRole, int(i))
            text = str(d.y[i])
            if predicted is not None and predicted[i] != d.y[i]:
                self.misread.append(int(i))
                text += f" (read {predicted[i]})"
                item.setForeground(MISREAD)
                item.setBackground(QColor(255, 220, 220))
            item.setText(text)
            item.setToolTip(str(d.files[i].image))
            self.list.addItem(item)
        counts = ", ".join(f"{digit}: {n}" for digit, n in enumerate(d.counts()))
        text = f"{len(d)} drawings ({counts})."
        if predicted is not None:
            acc = float(np.mean(predicted == d.y))
            text += (f" {self.current.name} reads {100 * acc:.1f} % of them; "
                     f"{len(self.misread)} misread (marked red).")
        if d.message():
            text += " " + d.message()
        self.summary.setText(text)

    def _predict(self, x: np.ndarray) -> np.ndarray | None:
        predictor = self.current.predictor
        if predictor is None:
            return None
        return np.asarray(predictor.predict_batch(x.astype(np.float32) / 255.0)).argmax(axis=1)

    def selected(self) -> list[int]:
        """Indices (into ``drawings``) of the selected thumbnails."""
        return [int(item.data(Qt.ItemDataRole.UserRole)) for item in self.list.selectedItems()]

    def relabel_selected(self, digit: int) -> None:
        """Move the selected drawings to ``digit``."""
        if self.drawings is None:
            return
        for i in self.selected():
            self.store.relabel(self.drawings.files[i], digit)
        self.refresh()

    def delete_selected(self) -> None:
        """Delete the selected drawings' files."""
        if self.drawings is None:
            return
        for i in self.selected():
            self.store.delete(self.drawings.files[i])
        self.refresh()

    def import_path(self, path: str) -> str:
        """Import a folder or a zip file; the one-sentence report (also shown)."""
        try:
            report = (import_zip if Path(path).suffix.lower() == ".zip" else import_folder)(
                self.store, path)
            text = report.message()
        except (DigitpadError, OSError) as exc:
            text = f"Import failed: {exc}"
        self.refresh()
        self.summary.setText(text.capitalize() + " " + self.summary.text())
        return text

    def export_path(self, path: str) -> int:
        """Export every drawing into the zip ``path``; the number exported."""
        return export_zip(self.store, path)

    @Slot()
    def _ask_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import drawings (zip)", "", "Zip (*.zip)")
        if not path:
            path = QFileDialog.getExistingDirectory(self, "Import drawings (folder with 0 … 9)")
        if path:
            self.import_path(path)

    @Slot()
    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export drawings", "my-drawings.zip",
                                              "Zip (*.zip)")
        if path:
            n = self.export_path(path)
            self.summary.setText(f"Exported {n} drawings to {path}.")
