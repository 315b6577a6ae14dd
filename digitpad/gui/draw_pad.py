"""The drawing pad: white ink on black (like MNIST), mouse, pen and touch, undo/redo.

Strokes are kept as a list of points so that undo/redo works; the pixels the model sees are
rendered into a fixed-size ``QImage`` (``CANVAS_SIZE`` × ``CANVAS_SIZE``, 8-bit grey) whatever the
size of the widget. While a stroke is drawn only the new segment is painted (incremental), both
into that canvas and into a display image at the widget's resolution; a full re-render happens
only on undo, redo, clear, ``set_image`` and resize.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QTabletEvent,
    QTransform,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

import digitpad.gui.qtcompat  # noqa: F401  (PySide6 emit() refcount work-around)

CANVAS_SIZE = 280
"""Side of the internal canvas in pixels (10× MNIST)."""

DEFAULT_PEN_WIDTH = CANVAS_SIZE / 14
"""Default pen width in canvas pixels: about the stroke width of an MNIST digit."""

MIN_PEN_WIDTH = 4
MAX_PEN_WIDTH = 48

INK = QColor(255, 255, 255)
PAPER = QColor(0, 0, 0)


@dataclass
class Stroke:
    """One pen-down … pen-up stroke in canvas coordinates."""

    width: float
    points: list[tuple[float, float, float]] = field(default_factory=list)  # (x, y, pressure)
    finished: bool = False


def _mid(a: tuple[float, float, float], b: tuple[float, float, float]) -> tuple[float, float, float]:
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2)


def _pen(width: float, pressure: float) -> QPen:
    pen = QPen(INK)
    pen.setWidthF(max(0.5, width * (0.35 + 0.65 * pressure)))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _paint_piece(painter: QPainter, stroke: Stroke, index: int) -> None:
    """Paint the piece of ``stroke`` that point ``index`` adds (quadratic smoothing).

    Point ``i`` (i ≥ 1) adds the curve from ``mid(p[i-2], p[i-1])`` (or ``p[0]``) to
    ``mid(p[i-1], p[i])`` with ``p[i-1]`` as control point. When the stroke is finished, the
    tail from the last midpoint to the last point is added. Point 0 is a round dot.
    """
    pts = stroke.points
    if index == 0:
        p = pts[0]
        r = _pen(stroke.width, p[2]).widthF() / 2
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(INK)
        painter.drawEllipse(QPointF(p[0], p[1]), r, r)
        return
    prev = pts[index - 1]
    cur = pts[index]
    start = pts[0] if index == 1 else _mid(pts[index - 2], prev)
    end = _mid(prev, cur)
    path = QPainterPath(QPointF(start[0], start[1]))
    path.quadTo(QPointF(prev[0], prev[1]), QPointF(end[0], end[1]))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(_pen(stroke.width, prev[2]))
    painter.drawPath(path)


def _paint_tail(painter: QPainter, stroke: Stroke) -> None:
    pts = stroke.points
    if len(pts) < 2:
        return
    a = _mid(pts[-2], pts[-1])
    b = pts[-1]
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(_pen(stroke.width, b[2]))
    painter.drawLine(QPointF(a[0], a[1]), QPointF(b[0], b[1]))


def _paint_stroke(painter: QPainter, stroke: Stroke) -> None:
    for i in range(len(stroke.points)):
        _paint_piece(painter, stroke, i)
    if stroke.finished:
        _paint_tail(painter, stroke)


def array_to_qimage(arr: np.ndarray) -> QImage:
    """Convert a 2-D float array in [0, 1] (or uint8) into an independent 8-bit grey QImage."""
    a = np.asarray(arr)
    if a.dtype != np.uint8:
        a = np.clip(np.nan_to_num(a.astype(np.float32)), 0.0, 1.0)
        a = (a * 255.0 + 0.5).astype(np.uint8)
    a = np.ascontiguousarray(a)
    h, w = a.shape
    image = QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8)
    return image.copy()  # own the pixels: ``a`` may go away


class DrawPad(QWidget):
    """A square drawing pad with white ink on a black background.

    Signals
    -------
    changed
        Emitted whenever the picture changes: on every pen move while drawing, and on undo,
        redo, clear and ``set_image``.
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
        self._strokes: list[Stroke] = []
        self._base: QImage | None = None  # an opened/dropped image under the strokes
        self._undo: list[tuple] = []
        self._redo: list[tuple] = []
        self._current: Stroke | None = None
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
        """The strokes on the pad (a copy of the list)."""
        return list(self._strokes)

    def is_empty(self) -> bool:
        """True when nothing is drawn and no image is shown."""
        return not self._strokes and self._base is None and self._current is None

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def canvas_image(self) -> QImage:
        """The internal canvas (8-bit grey, ink bright). Do not modify it."""
        return self._canvas

    def canvas_array(self) -> np.ndarray:
        """The picture as a float32 ``(CANVAS_SIZE, CANVAS_SIZE)`` array in [0, 1], ink bright."""
        img = self._canvas
        buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
        a = buf.reshape(img.height(), img.bytesPerLine())[:, : img.width()]
        return a.astype(np.float32) * np.float32(1.0 / 255.0)

    def set_image(self, arr: np.ndarray) -> None:
        """Show an image (2-D, ink bright, float in [0, 1] or uint8) on the pad.

        The image is fitted into the canvas keeping its aspect ratio. Strokes drawn before are
        removed (undo brings them back).
        """
        a = np.asarray(arr)
        if a.ndim != 2 or a.size == 0:
            raise ValueError("set_image needs a non-empty 2-D array")
        src = array_to_qimage(a)
        base = QImage(CANVAS_SIZE, CANVAS_SIZE, QImage.Format.Format_Grayscale8)
        base.fill(PAPER)
        scale = CANVAS_SIZE / max(src.width(), src.height())
        w = max(1, round(src.width() * scale))
        h = max(1, round(src.height() * scale))
        scaled = src.scaled(
            w, h, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        p = QPainter(base)
        p.drawImage((CANVAS_SIZE - w) // 2, (CANVAS_SIZE - h) // 2, scaled)
        p.end()
        self._apply(("replace", list(self._strokes), self._base, [], base))

    def clear(self) -> None:
        """Remove everything (undoable)."""
        if self.is_empty():
            return
        self._apply(("replace", list(self._strokes), self._base, [], None))

    def undo(self) -> None:
        """Undo the last stroke, clear or image."""
        if self._current is not None or not self._undo:
            return
        action = self._undo.pop()
        if action[0] == "stroke":
            self._strokes.pop()
        else:
            _, old_strokes, old_base, _new_strokes, _new_base = action
            self._strokes = list(old_strokes)
            self._base = old_base
        self._redo.append(action)
        self._rerender()

    def redo(self) -> None:
        """Redo what was undone."""
        if self._current is not None or not self._redo:
            return
        action = self._redo.pop()
        if action[0] == "stroke":
            self._strokes.append(action[1])
        else:
            self._strokes = list(action[3])
            self._base = action[4]
        self._undo.append(action)
        self._rerender()

    # ------------------------------------------------------------ drawing core
    def _apply(self, action: tuple) -> None:
        self._undo.append(action)
        self._redo.clear()
        if action[0] == "stroke":
            self._strokes.append(action[1])
        else:
            self._strokes = list(action[3])
            self._base = action[4]
        self._rerender()

    def _rerender(self) -> None:
        if self._base is not None:
            self._canvas = self._base.copy()
        else:
            self._canvas.fill(PAPER)
        p = QPainter(self._canvas)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for s in self._strokes:
            _paint_stroke(p, s)
        if self._current is not None:
            _paint_stroke(p, self._current)
        p.end()
        self._rebuild_display()
        self.update()
        self.changed.emit()

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
        if self._base is not None:
            p.drawImage(QRectF(0, 0, px, px), self._base)
        p.setTransform(QTransform.fromScale(px / CANVAS_SIZE, px / CANVAS_SIZE))
        for s in self._strokes:
            _paint_stroke(p, s)
        if self._current is not None:
            _paint_stroke(p, self._current)
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
                _paint_tail(p, stroke)
            else:
                _paint_piece(p, stroke, len(stroke.points) - 1)
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

    def _to_canvas(self, pos: QPointF) -> tuple[float, float]:
        rect = self._display_rect
        k = CANVAS_SIZE / rect.width() if rect.width() else 1.0
        return ((pos.x() - rect.left()) * k, (pos.y() - rect.top()) * k)

    def _begin(self, pos: QPointF, pressure: float = 1.0) -> None:
        if self._current is not None:
            self._end()
        x, y = self._to_canvas(pos)
        self._current = Stroke(width=self._pen_width, points=[(x, y, pressure)])
        self._paint_increment()
        self.changed.emit()

    def _move(self, pos: QPointF, pressure: float = 1.0) -> None:
        if self._current is None:
            return
        x, y = self._to_canvas(pos)
        last = self._current.points[-1]
        if abs(x - last[0]) < 0.25 and abs(y - last[1]) < 0.25:
            return
        self._current.points.append((x, y, pressure))
        self._paint_increment()
        self.changed.emit()

    def _end(self) -> None:
        stroke = self._current
        if stroke is None:
            return
        stroke.finished = True
        self._paint_increment(tail=True)
        self._current = None
        self._undo.append(("stroke", stroke))
        self._redo.clear()
        self._strokes.append(stroke)
        self.changed.emit()
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
            p.setPen(QColor(150, 150, 150))
            font = p.font()
            font.setPointSizeF(font.pointSizeF() * 1.3)
            p.setFont(font)
            p.drawText(self._display_rect, Qt.AlignmentFlag.AlignCenter, "Draw a digit here")
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
