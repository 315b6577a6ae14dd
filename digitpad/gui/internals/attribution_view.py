"""Attribution drawn twice: over the model's 28×28 input, and mapped back onto the pad.

:class:`AttributionView` shows the 28×28 input the model saw, dimmed, with the heatmap of
``Attributor`` over it (nearest-neighbour, so single pixels are visible). :class:`PadHeatOverlay`
is a translucent child of the :class:`~digitpad.gui.draw_pad.DrawPad` that paints the heatmap as
mapped onto the picture by ``heat_to_canvas``; it lets every mouse event through to the pad. Both
only draw arrays they are given.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from digitpad.gui.internals.heat import heat_rgba, overlay_qimage, rgba_qimage
from digitpad.gui.preview import PREVIEW_SIZE, array_to_pixmap

#: Opacity of the overlay on the pad (the heat image carries its own per-pixel alpha too).
PAD_OPACITY = 0.85


class AttributionView(QWidget):
    """The heatmap over the 28×28 input, with a caption naming the digit explained."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("Attribution")
        self.title.setStyleSheet("font-weight: bold")
        layout.addWidget(self.title)
        self.image_label = QLabel()
        self.image_label.setFixedSize(PREVIEW_SIZE, PREVIEW_SIZE)
        self.image_label.setFrameShape(QFrame.Shape.Box)
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setToolTip(
            "Which pixels of the model's input pushed it towards the digit explained (bright = "
            "much). Click a bar to explain another digit.")
        self.image_label.setPixmap(array_to_pixmap(None, PREVIEW_SIZE))
        layout.addWidget(self.image_label, 0, Qt.AlignmentFlag.AlignLeft)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        self._heatmap: np.ndarray | None = None

    def heatmap(self) -> np.ndarray | None:
        """The 28×28 heatmap shown (None when cleared)."""
        return None if self._heatmap is None else self._heatmap.copy()

    def show_heatmap(self, image28: np.ndarray, heatmap28: np.ndarray, caption: str) -> None:
        """Draw ``heatmap28`` over ``image28`` (both 28×28) and set the caption."""
        self._heatmap = np.asarray(heatmap28, dtype=np.float32)
        qimage = overlay_qimage(image28, self._heatmap, PREVIEW_SIZE // 28)
        self.image_label.setPixmap(QPixmap.fromImage(qimage))
        self.caption.setText(caption)

    def clear_heatmap(self, caption: str = "") -> None:
        """Show nothing (blank pad, no model)."""
        self._heatmap = None
        self.image_label.setPixmap(array_to_pixmap(None, PREVIEW_SIZE))
        self.caption.setText(caption)


class PadHeatOverlay(QWidget):
    """A translucent heatmap over the pad's picture (a child of the pad, mouse-transparent).

    The pad draws its picture in a centred square of side ``min(width, height)``; an opened
    image fills that square with its aspect kept (as ``DrawPad.set_image`` places it). The
    overlay follows the pad's size through an event filter.
    """

    def __init__(self, pad: QWidget) -> None:
        super().__init__(pad)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._image: QImage | None = None
        self._scaled: QPixmap | None = None   # _image at the size it is drawn
        self._heat: np.ndarray | None = None
        self.setGeometry(pad.rect())
        pad.installEventFilter(self)

    def heat(self) -> np.ndarray | None:
        """The canvas-sized heatmap shown (None when nothing is shown)."""
        return None if self._heat is None else self._heat.copy()

    def show_heat(self, canvas_heat: np.ndarray, rgba: np.ndarray | None = None) -> None:
        """Paint a heatmap of the picture's shape (``heatmap_to_canvas`` output) over the pad.

        ``rgba``: its colours from :func:`~digitpad.gui.internals.heat.heat_rgba`, when computed
        already (in the worker); else they are computed here.
        """
        self._heat = np.asarray(canvas_heat, dtype=np.float32)
        self._image = rgba_qimage(heat_rgba(self._heat) if rgba is None else rgba)
        self._scaled = None
        self.raise_()
        self.update()

    def clear_heat(self) -> None:
        """Remove the overlay."""
        if self._image is not None:
            self._image = None
            self._scaled = None
            self._heat = None
            self.update()

    def target_rect(self) -> QRectF:
        """Where the picture of the heatmap's shape lies in the pad (widget coordinates)."""
        pad = self.parentWidget()
        side = float(max(1, min(pad.width(), pad.height())))
        left, top = (pad.width() - side) / 2, (pad.height() - side) / 2
        if self._heat is None:
            return QRectF(left, top, side, side)
        h, w = self._heat.shape[:2]
        scale = side / max(h, w)
        width, height = max(1.0, round(w * scale)), max(1.0, round(h * scale))
        return QRectF(left + (side - width) // 2, top + (side - height) // 2, width, height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(watched.rect())
        return False

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self._image is None:
            return
        target = self.target_rect().toAlignedRect()
        if self._scaled is None or self._scaled.size() != target.size():
            # scaled once per heatmap and size: the pad repaints under it on every pen move
            self._scaled = QPixmap.fromImage(self._image.scaled(
                target.size(), Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
        p = QPainter(self)
        p.setOpacity(PAD_OPACITY)
        p.drawPixmap(target.topLeft(), self._scaled)
        p.end()
