"""The drawing pad: white ink on black (like MNIST), mouse, pen and touch, undo/redo.

The pad's content (finished strokes over an optional opened image, see
:mod:`digitpad.gui.pad_history`) changes only through commands on a ``QUndoStack``: one per
stroke, clear or ``set_image``. The pixels the model sees are rendered into a fixed-size
``QImage`` (``CANVAS_SIZE`` × ``CANVAS_SIZE``, 8-bit grey) whatever the size of the widget.
While a stroke is drawn only the new segment is painted (incremental), both into that canvas and
into a display image at the widget's resolution; a full re-render happens only on undo, redo,
clear, ``set_image`` and resize.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPen,
    QTabletEvent,
    QTransform,
    QUndoStack,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

import digitpad.gui.qtcompat  # noqa: F401  (PySide6 emit() refcount work-around)
from digitpad.gui.grey_image import array_to_qimage as array_to_qimage  # re-exported
from digitpad.gui.grey_image import fit_into_square
from digitpad.gui.pad_history import EMPTY, PadContent, PadEdit
from digitpad.gui.strokes import INK as INK  # re-exported
from digitpad.gui.strokes import PAPER, Stroke, paint_piece, paint_strokes, paint_tail

CANVAS_SIZE = 280
"""Side of the internal canvas in pixels (10× MNIST)."""

DEFAULT_PEN_WIDTH = CANVAS_SIZE / 14
"""Default pen width in canvas pixels: about the stroke width of an MNIST digit."""

MIN_PEN_WIDTH = 4
MAX_PEN_WIDTH = 48

HINT_TEXT = "Draw a digit here"
HINT_COLOR = QColor(150, 150, 150)


class DrawPad(QWidget):
    """A square drawing pad with white ink on a black background.

    Signals
    -------
    changed
        Emitted whenever the picture changes: on every pen move while drawing, and after every
        undo, redo, clear and ``set_image`` (when ``can_undo``/``can_redo`` are up to date).
    stroke_finished
        Emitted when the pen is lifted.
    """

    changed = Signal()
    stroke_finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(280, 280)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip(
            "Draw one digit with the mouse, a pen or a finger.\n"
            "Esc/Delete clears, Ctrl+Z undoes a stroke, Ctrl+Shift+Z redoes it."
        )
        self._pen_width = float(DEFAULT_PEN_WIDTH)
        self._content: PadContent = EMPTY
        self._current: Stroke | None = None
        self._stack = QUndoStack(self)
        self._stack.indexChanged.connect(self._on_index_changed)
        self._canvas = QImage(CANVAS_SIZE, CANVAS_SIZE, QImage.Format.Format_Grayscale8)
        self._canvas.fill(PAPER)
        self._display = QImage()
        self._display_rect = QRectF()
        self._tablet_down = False
        self._rebuild_display()

    # ----------------------------------------------------------------- public API
    def pen_width(self) -> float:
        """Pen width in canvas pixels (the canvas is ``CANVAS_SIZE`` wide)."""
        return self._pen_width

    def set_pen_width(self, width: float) -> None:
        """Set the width of the next strokes, in canvas pixels."""
        self._pen_width = float(min(MAX_PEN_WIDTH, max(MIN_PEN_WIDTH, width)))

    def strokes(self) -> list[Stroke]:
        """The finished strokes on the pad (a new list)."""
        return list(self._content.strokes)

    def is_empty(self) -> bool:
        """True when nothing is drawn and no image is shown."""
        return self._content.is_empty() and self._current is None

    def undo_stack(self) -> QUndoStack:
        """The pad's undo stack (for ``createUndoAction`` / ``createRedoAction``, clean state)."""
        return self._stack

    def can_undo(self) -> bool:
        return self._stack.canUndo()

    def can_redo(self) -> bool:
        return self._stack.canRedo()

    def canvas_image(self) -> QImage:
        """The internal canvas (8-bit grey, ink bright). Do not modify it."""
        return self._canvas

    def canvas_array(self) -> np.ndarray:
        """The picture as a uint8 ``(CANVAS_SIZE, CANVAS_SIZE)`` array (a copy), ink bright 0..255.

        This is what the core is given (``recognize`` / ``normalize_canvas`` scale it).
        """
        img = self._canvas
        buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
        return buf.reshape(img.height(), img.bytesPerLine())[:, : img.width()].copy()

    def set_image(self, arr: np.ndarray) -> None:
        """Show an image (2-D, ink bright, float in [0, 1] or uint8) on the pad.

        The image is fitted into the canvas keeping its aspect ratio. Strokes drawn before are
        removed (undo brings them back).
        """
        a = np.asarray(arr)
        if a.ndim != 2 or a.size == 0:
            raise ValueError("set_image needs a non-empty 2-D array")
        self._push("Open Image", PadContent((), fit_into_square(a, CANVAS_SIZE)))

    @Slot()
    def clear(self) -> None:
        """Remove everything (undoable)."""
        if self.is_empty():
            return
        self._end()  # a stroke being drawn is finished first, so that undo brings it back
        self._push("Clear", EMPTY)

    @Slot()
    def undo(self) -> None:
        """Undo the last stroke, clear or image (not while a stroke is drawn)."""
        if self._current is None:
            self._stack.undo()

    @Slot()
    def redo(self) -> None:
        """Redo what was undone (not while a stroke is drawn)."""
        if self._current is None:
            self._stack.redo()

    # ------------------------------------------------------------ content and rendering
    def _push(self, text: str, after: PadContent, *, drawn: bool = False) -> None:
        self._stack.push(PadEdit(text, self._content, after, self._show_content, drawn=drawn))

    def _show_content(self, content: PadContent, drawn: bool) -> None:
        """Apply a command's content; ``drawn``: the pixels already show it (a stroke just drawn)."""
        self._content = content
        if not drawn:
            self._rerender()

    @Slot(int)
    def _on_index_changed(self, _index: int) -> None:
        # emitted by QUndoStack after push/undo/redo, when canUndo/canRedo are up to date
        self.changed.emit()

    def _rerender(self) -> None:
        """Render the canvas and the display from the content (and a stroke being drawn)."""
        base = self._content.base
        if base is not None:
            self._canvas = base.copy()
        else:
            self._canvas.fill(PAPER)
        p = QPainter(self._canvas)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        paint_strokes(p, (*self._content.strokes, self._current))
        p.end()
        self._rebuild_display()
        self.update()

    def _rebuild_display(self) -> None:
        side = max(1, min(self.width(), self.height()))
        ratio = self.devicePixelRatioF()
        px = max(1, round(side * ratio))
        self._display_rect = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        self._display = QImage(px, px, QImage.Format.Format_RGB32)
        self._display.fill(PAPER)
        p = QPainter(self._display)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        if self._content.base is not None:
            p.drawImage(QRectF(0, 0, px, px), self._content.base)
        p.setTransform(QTransform.fromScale(px / CANVAS_SIZE, px / CANVAS_SIZE))
        paint_strokes(p, (*self._content.strokes, self._current))
        p.end()

    def _paint_increment(self, tail: bool = False) -> None:
        """Paint only what the last point (or the stroke's end) adds, into both images."""
        stroke = self._current
        if stroke is None:
            return
        px = self._display.width()
        for image, scale in ((self._canvas, 1.0), (self._display, px / CANVAS_SIZE)):
            p = QPainter(image)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setTransform(QTransform.fromScale(scale, scale))
            if tail:
                paint_tail(p, stroke)
            else:
                paint_piece(p, stroke, len(stroke.points) - 1)
            p.end()
        # repaint only the region around the new piece
        pts = stroke.points[-3:]
        xs = [q[0] for q in pts]
        ys = [q[1] for q in pts]
        r = stroke.width
        k = self._display_rect.width() / CANVAS_SIZE
        rect = QRectF(
            self._display_rect.left() + (min(xs) - r) * k,
            self._display_rect.top() + (min(ys) - r) * k,
            (max(xs) - min(xs) + 2 * r) * k,
            (max(ys) - min(ys) + 2 * r) * k,
        ).toAlignedRect()
        self.update(rect)

    # ------------------------------------------------------------------ drawing
    def _to_canvas(self, pos: QPointF) -> tuple[float, float]:
        rect = self._display_rect
        k = CANVAS_SIZE / rect.width() if rect.width() else 1.0
        return ((pos.x() - rect.left()) * k, (pos.y() - rect.top()) * k)

    def _begin(self, pos: QPointF, pressure: float = 1.0) -> None:
        if self._current is not None:
            self._end()
        hint_shown = self.is_empty()
        x, y = self._to_canvas(pos)
        self._current = Stroke(width=self._pen_width, points=[(x, y, pressure)],
                               times=[time.monotonic()])
        self._paint_increment()
        if hint_shown:
            # The hint is painted over the whole pad, not into the display image: once ink
            # appears it must go everywhere, which the partial repaints of a stroke never do.
            self.update()
        self.changed.emit()

    def _move(self, pos: QPointF, pressure: float = 1.0) -> None:
        if self._current is None:
            return
        x, y = self._to_canvas(pos)
        last = self._current.points[-1]
        if abs(x - last[0]) < 0.25 and abs(y - last[1]) < 0.25:
            return
        self._current.points.append((x, y, pressure))
        self._current.times.append(time.monotonic())
        self._paint_increment()
        self.changed.emit()

    def _end(self) -> None:
        stroke = self._current
        if stroke is None:
            return
        stroke.finished = True
        self._paint_increment(tail=True)
        self._current = None
        self._push("Stroke", self._content.with_stroke(stroke), drawn=True)  # emits changed
        self.stroke_finished.emit()

    # ------------------------------------------------------------------ Qt events
    def sizeHint(self) -> QSize:
        return QSize(420, 420)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    def resizeEvent(self, event) -> None:
        self._rebuild_display()
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        p.drawImage(self._display_rect, self._display)
        pen = QPen(self.palette().mid().color())
        pen.setWidthF(1.0)
        p.setPen(pen)
        p.drawRect(self._display_rect.adjusted(-0.5, -0.5, 0.5, 0.5))
        if self.is_empty():
            p.setPen(HINT_COLOR)
            font = p.font()
            font.setPointSizeF(font.pointSizeF() * 1.3)
            p.setFont(font)
            p.drawText(self._display_rect, Qt.AlignmentFlag.AlignCenter, HINT_TEXT)
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position())
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._current is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._move(event.position())
            event.accept()
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._current is not None:
            self._move(event.position())
            self._end()
            event.accept()
        else:
            super().mouseReleaseEvent(event)

    def tabletEvent(self, event: QTabletEvent) -> None:
        kind = event.type()
        pressure = float(event.pressure()) if event.pressure() > 0 else 1.0
        if kind == QEvent.Type.TabletPress:
            self._tablet_down = True
            self._begin(event.position(), pressure)
        elif kind == QEvent.Type.TabletMove and self._tablet_down:
            self._move(event.position(), pressure)
        elif kind == QEvent.Type.TabletRelease and self._tablet_down:
            self._tablet_down = False
            self._end()
        event.accept()  # no synthesized mouse events for the pen

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd):
            points = event.points()
            if points:
                pos = points[0].position()
                if kind == QEvent.Type.TouchBegin:
                    self._begin(pos)
                elif kind == QEvent.Type.TouchUpdate:
                    self._move(pos)
                else:
                    self._move(pos)
                    self._end()
            elif kind == QEvent.Type.TouchEnd:
                self._end()
            event.accept()
            return True
        if kind == QEvent.Type.TouchCancel:
            self._end()
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        # In the main window the Edit menu's actions own these shortcuts; handling the keys here
        # too makes the pad work on its own (no QShortcut: it would make the keys ambiguous).
        key = event.key()
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if key in (Qt.Key.Key_Escape, Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.clear()
        elif event.matches(QKeySequence.StandardKey.Redo) or (
            ctrl and (key == Qt.Key.Key_Y or (shift and key == Qt.Key.Key_Z))
        ):
            self.redo()
        elif event.matches(QKeySequence.StandardKey.Undo) or (ctrl and key == Qt.Key.Key_Z):
            self.undo()
        else:
            super().keyPressEvent(event)
            return
        event.accept()
