"""Building blocks of stroke glyphs: polylines, smooth splines and arcs in a unit box.

Every function returns a float64 array ``(n, 2)`` of ``(x, y)`` points, x to the right and y
downwards, in the unit box of a glyph (0..1 both ways). A glyph's stroke is one such array (or
several joined with :func:`join`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Points = Sequence[tuple[float, float]]


def poly(points: Points) -> np.ndarray:
    """The straight polyline through ``points``."""
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def spline(points: Points, per_segment: int = 8) -> np.ndarray:
    """A smooth Catmull-Rom curve through ``points`` (passes through every one of them).

    Parameters
    ----------
    points
        Key points, at least two.
    per_segment
        Points sampled between two key points.
    """
    p = poly(points)
    if len(p) < 3:
        return p
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False)[:, None]
    t2, t3 = t * t, t * t * t
    pieces = []
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        pieces.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                             + (-p0 + 3 * p1 - 3 * p2 + p3) * t3))
    pieces.append(p[-1:])
    return np.vstack(pieces)


def arc(cx: float, cy: float, rx: float, ry: float, start_deg: float, end_deg: float,
        n: int = 28) -> np.ndarray:
    """An elliptic arc from ``start_deg`` to ``end_deg`` (0 = right, 90 = up, counter-clockwise)."""
    a = np.radians(np.linspace(start_deg, end_deg, n))
    return np.stack([cx + rx * np.cos(a), cy - ry * np.sin(a)], axis=1)


def join(*parts: np.ndarray) -> np.ndarray:
    """One stroke made of several pieces drawn without lifting the pen (duplicates dropped)."""
    out = [parts[0]]
    for part in parts[1:]:
        out.append(part[1:] if np.allclose(out[-1][-1], part[0]) else part)
    return np.vstack(out)


def resample(points: np.ndarray, step: float) -> np.ndarray:
    """Points spaced about ``step`` apart along the polyline ``points`` (ends kept)."""
    p = np.asarray(points, dtype=np.float64)
    if len(p) < 2:
        return p.copy()
    seg = np.hypot(*np.diff(p, axis=0).T)
    dist = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(dist[-1])
    if total <= 0.0:
        return p[:1].copy()
    n = max(2, int(math.ceil(total / max(step, 1e-6))) + 1)
    s = np.linspace(0.0, total, n)
    return np.stack([np.interp(s, dist, p[:, 0]), np.interp(s, dist, p[:, 1])], axis=1)


def path_length(points: np.ndarray) -> float:
    """Length of the polyline ``points``."""
    p = np.asarray(points, dtype=np.float64)
    return float(np.hypot(*np.diff(p, axis=0).T).sum()) if len(p) > 1 else 0.0
