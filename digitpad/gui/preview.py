"""What the model sees: the 28×28 input, and on request the normalisation steps before it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.gui.grey_image import array_to_qimage

PREVIEW_SIZE = 140
STEP_SIZE = 84


def array_to_pixmap(arr: np.ndarray | None, box: int, *, smooth: bool = False) -> QPixmap:
    """A pixmap of a 2-D ink-bright array fitted into a ``box``×``box`` square (aspect kept).

    Nearest-neighbour scaling (``smooth=False``) shows the real pixels, as the model sees them.
    """
    pix = QPixmap(box, box)
    pix.fill(Qt.GlobalColor.black)
    if arr is None or np.asarray(arr).size == 0:
        return pix
    img = array_to_qimage(np.asarray(arr))
    mode = (
        Qt.TransformationMode.SmoothTransformation if smooth else Qt.TransformationMode.FastTransformation
    )
    scaled = img.scaled(box, box, Qt.AspectRatioMode.KeepAspectRatio, mode)
    p = QPainter(pix)
    p.drawImage((box - scaled.width()) // 2, (box - scaled.height()) // 2, scaled)
    p.end()
    return pix


def _image_label(size: int, tip: str) -> QLabel:
    label = QLabel()
    label.setFixedSize(size, size)
    label.setFrameShape(QFrame.Shape.Box)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setToolTip(tip)
    label.setPixmap(array_to_pixmap(None, size))
    return label


class NormalizationPreview(QWidget):
    """The model's 28×28 input (nearest-neighbour upscaled) and an expander with the steps.

    ``show_normalized(normalized)`` takes a :class:`digitpad.core.normalize.Normalized`.
    """

    steps_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("What the model sees (28×28)")
        title.setStyleSheet("font-weight: bold")
        layout.addWidget(title)
        self._main = _image_label(
            PREVIEW_SIZE,
            "The 28×28 image given to the network: the drawing cropped to its ink, scaled so its "
            "longest side is 20 px and centred by its centre of mass, as MNIST was made.",
        )
        layout.addWidget(self._main, 0, Qt.AlignmentFlag.AlignLeft)
        self._toggle = QToolButton()
        self._toggle.setText("Show normalisation steps")
        self._toggle.setCheckable(True)
        self._toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._toggle.setArrowType(Qt.ArrowType.RightArrow)
        self._toggle.setAutoRaise(True)
        self._toggle.setToolTip("Show how the drawing becomes the model's input, step by step.")
        self._toggle.toggled.connect(self.set_steps_visible)
        layout.addWidget(self._toggle, 0, Qt.AlignmentFlag.AlignLeft)

        self._steps = QWidget()
        grid = QGridLayout(self._steps)
        grid.setContentsMargins(0, 0, 0, 0)
        self._step_labels: dict[str, QLabel] = {}
        captions = (
            ("cropped", "1. Cropped to the ink", "The ink's bounding box at the pad's resolution."),
            ("scaled", "2. Scaled (20 px)", "Longest side 20 px, aspect kept, anti-aliased."),
            ("image", "3. Centred 28×28", "Placed so its centre of mass is at the centre."),
        )
        for col, (key, caption, tip) in enumerate(captions):
            img = _image_label(STEP_SIZE, tip)
            text = QLabel(caption)
            text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text.setWordWrap(True)
            grid.addWidget(img, 0, col, Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(text, 1, col)
            self._step_labels[key] = img
        self._steps.setVisible(False)
        self._steps.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        layout.addWidget(self._steps)
        self._normalized = None

    def steps_visible(self) -> bool:
        return self._toggle.isChecked()

    def set_steps_visible(self, visible: bool) -> None:
        """Show or hide the intermediate steps."""
        if self._toggle.isChecked() != visible:
            self._toggle.setChecked(visible)  # re-enters through toggled
            return
        self._toggle.setArrowType(Qt.ArrowType.DownArrow if visible else Qt.ArrowType.RightArrow)
        self._toggle.setText("Hide normalisation steps" if visible else "Show normalisation steps")
        self._steps.setVisible(visible)
        if visible:
            self._update_steps()
        self.steps_toggled.emit(visible)

    def show_normalized(self, normalized) -> None:
        """Show a ``Normalized`` result (``None`` or blank clears the preview)."""
        self._normalized = normalized
        image = None if normalized is None or normalized.blank else normalized.image
        self._main.setPixmap(array_to_pixmap(image, PREVIEW_SIZE))
        if self._steps.isVisible():
            self._update_steps()

    def _update_steps(self) -> None:
        n = self._normalized
        blank = n is None or n.blank
        for key, label in self._step_labels.items():
            arr = None if blank else getattr(n, key)
            label.setPixmap(array_to_pixmap(arr, STEP_SIZE, smooth=(key == "cropped")))
