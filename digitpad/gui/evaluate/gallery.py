"""A gallery of test images with true digit, prediction and confidence; a click opens one.

The images are given as indices into the evaluated set (an ``Evaluation.cell`` or
``Evaluation.mistakes``, most confident first); at most :data:`MAX_SHOWN` are shown.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from digitpad.gui.preview import array_to_pixmap

#: Images shown at most (the most confident first).
MAX_SHOWN = 200
#: Side of a thumbnail in pixels (3× the 28×28 image).
THUMB = 84
INDEX_ROLE = Qt.ItemDataRole.UserRole


class Gallery(QWidget):
    """Thumbnails of test images; clicking one emits ``image_clicked(index)``.

    Signals
    -------
    image_clicked(int)
        The index (into the evaluated images) of the image clicked.
    """

    image_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("Click a cell of the confusion matrix to see its images.")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 26, THUMB + 40))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(True)
        self.list.setToolTip("Click an image to open it in the Recognize tab.")
        self.list.itemClicked.connect(self._on_clicked)
        layout.addWidget(self.list, 1)
        self._indices = np.zeros(0, dtype=np.int64)

    def indices(self) -> np.ndarray:
        """The indices of the images shown, in order."""
        return self._indices.copy()

    def show_images(self, title: str, indices: np.ndarray, images: np.ndarray,
                    y_true: np.ndarray, y_pred: np.ndarray, confidence: np.ndarray) -> None:
        """Show ``images[indices]`` (first MAX_SHOWN) with their true/predicted digit and confidence."""
        indices = np.asarray(indices, dtype=np.int64)
        shown = indices[:MAX_SHOWN]
        more = f" (the {len(shown)} most confident shown)" if len(indices) > len(shown) else ""
        self.title.setText(f"{title}: {len(indices)} image{'s' if len(indices) != 1 else ''}{more}"
                           + (" — click one to open it in Recognize" if len(indices) else ""))
        self.list.setUpdatesEnabled(False)
        self.list.clear()
        wrong = QColor(220, 70, 60)
        for i in shown:
            t, p, c = int(y_true[i]), int(y_pred[i]), float(confidence[i])
            item = QListWidgetItem(QIcon(array_to_pixmap(images[i], THUMB)),
                                   f"{t} → {p}\n{100 * c:.1f} %")
            item.setData(INDEX_ROLE, int(i))
            item.setToolTip(f"test image #{int(i)}: true {t}, predicted {p} "
                            f"with {100 * c:.1f} % confidence")
            if t != p:
                item.setForeground(wrong)
            self.list.addItem(item)
        self.list.setUpdatesEnabled(True)
        self._indices = shown

    def clear_images(self, title: str = "") -> None:
        self.list.clear()
        self._indices = np.zeros(0, dtype=np.int64)
        self.title.setText(title)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        self.image_clicked.emit(int(item.data(INDEX_ROLE)))
