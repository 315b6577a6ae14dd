"""Randomised writing styles for *training* on drawn digits, written apart from the benchmark's.

:mod:`.glyphs` holds the 21 fixed styles the drawn-digit benchmark measures. Training drawings must
not be those shapes with another seed, or the benchmark would measure memory rather than reading.
This module builds each digit from its own parametric family instead: every drawing draws the
family's parameters at random -- the length and angle of a 1's flag and whether it has a base,
where a 7 is crossed and whether its bar has a serif, how closed a 4 is and how high its bar, the
size of an 8's top loop, the curve of a 9's stem, a 2 with or without a loop, a 5 in one or two
strokes, and so on -- and the key points are jittered. The skeletons here were written without
reusing the benchmark's key points.

Usage::

    rng = np.random.default_rng([20_261_202, k])
    digit, strokes = train_glyph(7, rng)   # strokes in the unit box, as glyphs.py gives
    d = draw_train_digit(7, "slanted", rng)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from digitpad.core.strokes.curves import arc, join, poly, spline
from digitpad.core.strokes.render import render_strokes
from digitpad.core.strokes.variations import place, sample_pose

Glyph = tuple[np.ndarray, ...]
Rng = np.random.Generator


def _j(rng: Rng, points: list[tuple[float, float]], amount: float = 0.025) -> list[tuple[float, float]]:
    """Key points moved by a small random amount each."""
    return [(x + rng.normal(0, amount), y + rng.normal(0, amount)) for x, y in points]


def _zero(rng: Rng) -> Glyph:
    rx, ry = rng.uniform(0.18, 0.36), rng.uniform(0.4, 0.49)
    lean = rng.uniform(-0.08, 0.08)           # top leans right, bottom left (or the other way)
    start = rng.uniform(60, 120)
    turn = rng.choice([-1.0, 1.0]) * (360 + rng.uniform(-8, 30))
    pts = arc(0.5, 0.5, rx, ry, start, start + turn, 36)
    pts[:, 0] += lean * (0.5 - pts[:, 1])
    return (spline(_j(rng, [tuple(p) for p in pts[::3]], 0.012), 4),)


def _one(rng: Rng) -> Glyph:
    top_x = rng.uniform(0.4, 0.62)
    bottom_x = top_x + rng.uniform(-0.08, 0.05)
    top_y = rng.uniform(0.0, 0.08)
    strokes = []
    kind = rng.random()
    if kind < 0.35:                            # a plain bar
        stem = poly([(top_x, top_y), (bottom_x, rng.uniform(0.92, 1.0))])
    else:                                      # a flag: short tick to as long as half the stem
        length, angle = rng.uniform(0.12, 0.5), np.radians(rng.uniform(15, 60))
        fx, fy = top_x - length * np.cos(angle), top_y + length * np.sin(angle)
        stem = poly(_j(rng, [(fx, fy), (top_x, top_y)], 0.015) + [(bottom_x, rng.uniform(0.92, 1.0))])
    strokes.append(stem)
    if kind > 0.75:                            # and a base
        half = rng.uniform(0.14, 0.3)
        y = rng.uniform(0.93, 1.0)
        strokes.append(poly(_j(rng, [(bottom_x - half, y), (bottom_x + half, y)], 0.01)))
    return tuple(strokes)


def _two(rng: Rng) -> Glyph:
    r = rng.uniform(0.22, 0.34)
    cy = rng.uniform(0.24, 0.34)
    top = arc(0.5, cy, r, rng.uniform(0.2, 0.3), rng.uniform(150, 185), rng.uniform(-45, -10), 18)
    base_y = rng.uniform(0.9, 0.99)
    left, right = rng.uniform(0.12, 0.28), rng.uniform(0.74, 0.9)
    if rng.random() < 0.35:                    # a loop where the diagonal meets the base
        tail = spline(_j(rng, [tuple(top[-1]), (0.45, 0.68), (left + 0.05, base_y - 0.04),
                               (left - 0.02, base_y - 0.14), (left + 0.12, base_y - 0.16),
                               (0.45, base_y), (right, base_y - 0.02)], 0.015))
    else:
        bend = rng.uniform(-0.06, 0.06)
        tail = spline(_j(rng, [tuple(top[-1]), (0.42 + bend, 0.66), (left, base_y)], 0.015))
        tail = join(tail, poly([(left, base_y), (right, base_y + rng.uniform(-0.04, 0.02))]))
    return (join(top, tail),)


def _three(rng: Rng) -> Glyph:
    mid_y = rng.uniform(0.38, 0.5)
    mid_x = rng.uniform(0.38, 0.55)
    right = rng.uniform(0.72, 0.86)
    lower = spline(_j(rng, [(mid_x, mid_y), (right, mid_y + 0.14), (right + 0.02, 0.76),
                            (0.55, rng.uniform(0.95, 1.0)), (rng.uniform(0.12, 0.28), 0.86)]))
    if rng.random() < 0.3:                     # a flat top
        head = poly(_j(rng, [(rng.uniform(0.15, 0.3), 0.03), (right, 0.03), (mid_x, mid_y)], 0.015))
    else:
        head = spline(_j(rng, [(rng.uniform(0.14, 0.28), 0.15), (0.5, 0.01), (right - 0.04, 0.13),
                               (right - 0.08, mid_y - 0.12), (mid_x, mid_y)]))
    return (join(head, lower),)


def _four(rng: Rng) -> Glyph:
    bar_y = rng.uniform(0.55, 0.72)
    stem_x = rng.uniform(0.56, 0.74)
    left = rng.uniform(0.08, 0.22)
    right = rng.uniform(stem_x + 0.1, 0.94)
    if rng.random() < 0.5:                     # open: the slanted (or upright) arm stops short
        arm_top = (rng.uniform(0.2, 0.5), rng.uniform(0.0, 0.1))
        return (poly(_j(rng, [arm_top, (left, bar_y), (right, bar_y)], 0.015)),
                poly(_j(rng, [(stem_x, rng.uniform(0.0, 0.4)), (stem_x + rng.uniform(-0.04, 0.03),
                                                                 rng.uniform(0.93, 1.0))], 0.01)))
    return (poly(_j(rng, [(stem_x, rng.uniform(0.93, 1.0)), (stem_x, rng.uniform(0.0, 0.06)),
                          (left, bar_y), (right, bar_y)], 0.015)),)


def _five(rng: Rng) -> Glyph:
    left = rng.uniform(0.2, 0.32)
    neck_y = rng.uniform(0.36, 0.5)
    top_right = rng.uniform(0.7, 0.88)
    bowl = spline(_j(rng, [(left, neck_y), (0.52, neck_y - 0.07), (rng.uniform(0.74, 0.86), 0.62),
                           (0.72, 0.88), (0.45, rng.uniform(0.95, 1.0)), (rng.uniform(0.12, 0.25), 0.88)]))
    stem = poly([(left + rng.uniform(0.0, 0.05), 0.03), (left, neck_y)])
    if rng.random() < 0.5:                     # the cap drawn last, as a separate stroke
        return (join(stem, bowl), poly(_j(rng, [(left + 0.02, 0.03), (top_right, 0.02)], 0.012)))
    return (join(poly([(top_right, 0.03), (left + 0.03, 0.03)]), stem, bowl),)


def _six(rng: Rng) -> Glyph:
    loop_r = rng.uniform(0.2, 0.3)
    cy = rng.uniform(0.66, 0.74)
    top = (rng.uniform(0.55, 0.8), rng.uniform(0.0, 0.06))
    curve = rng.uniform(0.0, 0.14)             # 0 = straight stem, more = rounder back
    loop = arc(0.5, cy, loop_r, rng.uniform(0.2, 0.27), 180, 180 + 360 + rng.uniform(-20, 20), 28)
    stem = spline(_j(rng, [top, (0.4 - curve, 0.3), tuple(loop[0])], 0.015))
    return (join(stem, loop),)


def _seven(rng: Rng) -> Glyph:
    left, right = rng.uniform(0.1, 0.25), rng.uniform(0.75, 0.9)
    top = rng.uniform(0.02, 0.08)
    foot = (rng.uniform(0.3, 0.55), rng.uniform(0.93, 1.0))
    bend = rng.uniform(-0.05, 0.08)
    head = [(left, top + rng.uniform(0.08, 0.16))] if rng.random() < 0.3 else []   # serif
    body = spline(_j(rng, [(right, top), (0.5 + (right - 0.5) * 0.5 + bend, 0.5), foot], 0.012))
    strokes = [join(poly(head + [(left, top), (right, top)]), body)]
    if rng.random() < 0.4:                     # crossed
        y = rng.uniform(0.45, 0.6)
        x = float(np.interp(y, body[:, 1], body[:, 0])) if body[0, 1] < body[-1, 1] else 0.55
        half = rng.uniform(0.14, 0.26)
        strokes.append(poly(_j(rng, [(x - half, y + 0.01), (x + half, y - 0.01)], 0.01)))
    return tuple(strokes)


def _eight(rng: Rng) -> Glyph:
    waist = rng.uniform(0.4, 0.5)
    top_r = rng.uniform(0.14, 0.26)
    bottom_r = rng.uniform(0.24, 0.34)
    if rng.random() < 0.5:                     # two loops
        return (arc(0.5, waist / 2 + 0.02, top_r, waist / 2, -90, 270, 28),
                arc(0.5, waist + (1 - waist) / 2, bottom_r, (1 - waist) / 2 - 0.02, 90, 450, 28))
    x0 = 0.5
    return (spline(_j(rng, [(x0 + top_r, 0.12), (x0, 0.02), (x0 - top_r, 0.14), (x0, waist),
                            (x0 + bottom_r, 0.74), (x0, rng.uniform(0.95, 1.0)), (x0 - bottom_r, 0.76),
                            (x0, waist), (x0 + top_r, 0.16), (x0 + top_r * 0.5, 0.05)], 0.018)),)


def _nine(rng: Rng) -> Glyph:
    r = rng.uniform(0.2, 0.3)
    cy = rng.uniform(0.22, 0.32)
    cx = rng.uniform(0.42, 0.52)
    loop = arc(cx, cy, r, rng.uniform(0.18, 0.26), rng.uniform(0, 20), 365 + rng.uniform(-10, 15), 28)
    end = tuple(loop[-1])
    foot_x = end[0] + rng.uniform(-0.1, 0.05)
    if rng.random() < 0.5:
        tail = poly([end, (foot_x, rng.uniform(0.93, 1.0))])
    else:                                      # a stem curving left at the foot
        tail = spline(_j(rng, [end, (end[0] + 0.02, 0.65), (foot_x - 0.08, 0.92),
                               (rng.uniform(0.2, 0.4), 0.97)], 0.015))
    return (join(loop, tail),)


TRAIN_FAMILIES: dict[int, Callable[[Rng], Glyph]] = {
    0: _zero, 1: _one, 2: _two, 3: _three, 4: _four, 5: _five, 6: _six, 7: _seven, 8: _eight,
    9: _nine,
}


def train_glyph(digit: int, rng: Rng) -> tuple[int, Glyph]:
    """``(digit, strokes)``: one random member of ``digit``'s training family (unit box, y down)."""
    if digit not in TRAIN_FAMILIES:
        raise ValueError(f"digit must be 0..9, not {digit!r}")
    return digit, TRAIN_FAMILIES[digit](rng)


def draw_train_digit(digit: int, variation: str, rng: Rng):
    """Draw one training digit under ``variation`` (as :func:`~digitpad.core.strokes.draw_digit`).

    Parameters
    ----------
    digit
        0..9.
    variation
        One of :data:`~digitpad.core.strokes.variations.VARIATIONS`.
    rng
        The only source of randomness.

    Returns
    -------
    digitpad.core.strokes.Drawing
        ``style`` is ``"<digit>_train"``.
    """
    from digitpad.core.strokes import Drawing

    label, strokes = train_glyph(digit, rng)
    pose = sample_pose(variation, rng)
    placed = place(strokes, pose, rng)
    return Drawing(render_strokes(placed, pose.width), label, f"{digit}_train", variation, pose,
                   placed)


__all__ = ["TRAIN_FAMILIES", "draw_train_digit", "train_glyph"]
