"""Pen strokes and how they are painted: smoothed, pressure-sensitive, white ink.

A :class:`Stroke` is a list of ``(x, y, pressure)`` points in canvas coordinates. Painting is
incremental: :func:`paint_piece` paints what one new point adds (quadratic smoothing through the
midpoints), :func:`paint_tail` closes a finished stroke, and :func:`paint_stroke` paints a whole
stroke the same way, so that a full re-render equals the sum of the increments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

INK = QColor(255, 255, 255)
PAPER = QColor(0, 0, 0)

Point = tuple[float, float, float]


@dataclass
class Stroke:
    """One pen-down … pen-up stroke in canvas coordinates."""

    width: float
    points: list[Point] = field(default_factory=list)  # (x, y, pressure)
    finished: bool = False
    times: list[float] = field(default_factory=list)   # time.monotonic() of each point


def _mid(a: Point, b: Point) -> Point:
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2)


def stroke_pen(width: float, pressure: float) -> QPen:
    """The round pen of a stroke ``width`` wide at ``pressure`` (0..1; 1 = full width)."""
    pen = QPen(INK)
    pen.setWidthF(max(0.5, width * (0.35 + 0.65 * pressure)))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def paint_piece(painter: QPainter, stroke: Stroke, index: int) -> None:
    """Paint the piece of ``stroke`` that point ``index`` adds (quadratic smoothing).

    Point ``i`` (i ≥ 1) adds the curve from ``mid(p[i-2], p[i-1])`` (or ``p[0]``) to
    ``mid(p[i-1], p[i])`` with ``p[i-1]`` as control point. Point 0 is a round dot.
    """
    pts = stroke.points
    if index == 0:
        p = pts[0]
        r = stroke_pen(stroke.width, p[2]).widthF() / 2
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
    painter.setPen(stroke_pen(stroke.width, prev[2]))
    painter.drawPath(path)


def paint_tail(painter: QPainter, stroke: Stroke) -> None:
    """Paint the end of a finished stroke: from the last midpoint to the last point."""
    pts = stroke.points
    if len(pts) < 2:
        return
    a = _mid(pts[-2], pts[-1])
    b = pts[-1]
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(stroke_pen(stroke.width, b[2]))
    painter.drawLine(QPointF(a[0], a[1]), QPointF(b[0], b[1]))


def paint_stroke(painter: QPainter, stroke: Stroke) -> None:
    """Paint a whole stroke, piece by piece as it was drawn (and its tail when finished)."""
    for i in range(len(stroke.points)):
        paint_piece(painter, stroke, i)
    if stroke.finished:
        paint_tail(painter, stroke)


def paint_strokes(painter: QPainter, strokes: Iterable[Stroke | None]) -> None:
    """Paint several strokes in order (``None`` entries are skipped)."""
    for stroke in strokes:
        if stroke is not None:
            paint_stroke(painter, stroke)
