"""Writing styles of single people that MNIST scans hardly show, for the personal fine-tune bench.

:mod:`.glyphs` holds the styles the drawn-digit benchmark measures; this module adds the hands of
individual writers whose digits a model trained on MNIST misreads (measured in
``bench/bench_personal.py``): a slashed programmer's zero (read as 8), a continental 1 whose flag
is as long as its stem, on a base (read as 7), a crossed Z-shaped 2 (read as 7), an 8 with a tiny
top loop (read as 0), a 4 written like a ``y``, a crossed 7 with a short bar, a 9 whose tail
sweeps left like a ``g``. Strokes are in the glyph's unit box (x right, y down, 0..1) in the order
the writer draws them, like :mod:`.glyphs`.

Usage::

    rng = np.random.default_rng(9100)
    d = draw_personal("4_y", "slanted", rng)   # a Drawing, as draw_digit gives
"""

from __future__ import annotations

import numpy as np

from digitpad.core.strokes.curves import arc, join, poly, spline
from digitpad.core.strokes.render import render_strokes
from digitpad.core.strokes.variations import place, sample_pose

Glyph = tuple[np.ndarray, ...]


def _zero_slashed() -> Glyph:
    return (arc(0.5, 0.5, 0.28, 0.46, 95, 95 + 365, 40), poly([(0.88, 0.0), (0.12, 1.0)]))


def _one_long_flag() -> Glyph:
    return (poly([(0.05, 0.32), (0.62, 0.02), (0.62, 0.98)]), poly([(0.4, 0.98), (0.84, 0.98)]))


def _two_z_crossed() -> Glyph:
    return (poly([(0.15, 0.04), (0.85, 0.04), (0.15, 0.96), (0.85, 0.96)]),
            poly([(0.2, 0.5), (0.8, 0.5)]))


def _three_flat_top_tall() -> Glyph:
    bowl = spline([(0.4, 0.36), (0.8, 0.5), (0.84, 0.78), (0.5, 0.98), (0.12, 0.86)])
    return (join(poly([(0.15, 0.03), (0.85, 0.03), (0.4, 0.36)]), bowl),)


def _four_y() -> Glyph:
    return (poly([(0.18, 0.04), (0.5, 0.55)]), poly([(0.82, 0.04), (0.3, 0.98)]))


def _five_s() -> Glyph:
    return (spline([(0.8, 0.06), (0.42, 0.03), (0.22, 0.2), (0.4, 0.42), (0.74, 0.55),
                    (0.76, 0.84), (0.46, 0.98), (0.18, 0.86)]),)


def _six_straight_stem() -> Glyph:
    return (join(poly([(0.62, 0.02), (0.28, 0.68)]),
                 arc(0.48, 0.76, 0.22, 0.2, 180, 180 + 360, 32)),)


def _seven_short_crossed() -> Glyph:
    return (poly([(0.3, 0.04), (0.68, 0.04), (0.56, 0.98)]), poly([(0.38, 0.5), (0.78, 0.5)]))


def _eight_small_top() -> Glyph:
    return (arc(0.5, 0.16, 0.14, 0.14, 0, 360, 28), arc(0.5, 0.65, 0.32, 0.33, 0, 360, 32))


def _nine_g() -> Glyph:
    loop = arc(0.5, 0.25, 0.26, 0.22, 10, 375, 32)
    return (join(loop, spline([loop[-1], (0.74, 0.7), (0.5, 0.97), (0.14, 0.9), (0.1, 0.74)])),)


#: style name -> (digit, builder); names are ``<digit>_<style>``, none shared with glyphs.py.
PERSONAL_STYLES = {
    "0_slashed": (0, _zero_slashed),
    "1_long_flag": (1, _one_long_flag),
    "2_z_crossed": (2, _two_z_crossed),
    "3_flat_top_tall": (3, _three_flat_top_tall),
    "4_y": (4, _four_y),
    "5_s": (5, _five_s),
    "6_straight_stem": (6, _six_straight_stem),
    "7_short_crossed": (7, _seven_short_crossed),
    "8_small_top": (8, _eight_small_top),
    "9_g": (9, _nine_g),
}


def personal_glyph(style: str) -> tuple[int, Glyph]:
    """``(digit, strokes)`` of a style of :data:`PERSONAL_STYLES` (``KeyError`` names them)."""
    try:
        digit, build = PERSONAL_STYLES[style]
    except KeyError:
        raise KeyError(f"unknown personal style {style!r}; choose one of: "
                       f"{', '.join(PERSONAL_STYLES)}") from None
    return digit, build()


def draw_personal(style: str, variation: str, rng: np.random.Generator):
    """Draw one digit in personal ``style`` under ``variation`` (as :func:`draw_digit` does).

    Parameters
    ----------
    style
        A name of :data:`PERSONAL_STYLES`.
    variation
        One of :data:`~digitpad.core.strokes.variations.VARIATIONS`.
    rng
        The only source of randomness.

    Returns
    -------
    digitpad.core.strokes.Drawing
    """
    from digitpad.core.strokes import Drawing

    digit, strokes = personal_glyph(style)
    pose = sample_pose(variation, rng)
    placed = place(strokes, pose, rng)
    return Drawing(render_strokes(placed, pose.width), digit, style, variation, pose, placed)


__all__ = ["PERSONAL_STYLES", "draw_personal", "personal_glyph"]
