"""Writing styles of the ten digits as pen strokes in a unit box (x right, y down, 0..1).

Each style is a tuple of strokes in the order a writer draws them; a stroke is an ``(n, 2)`` array
(:mod:`.curves`). The styles cover the ways people write digits on a pad that MNIST scans show
rarely or never: continental 1s with a flag and a base, crossed 7s, open and closed 4s, 9s with
straight and curved stems, 2s with and without a loop, 6s and 8s drawn in different orders.
"""

from __future__ import annotations

import numpy as np

from digitpad.core.strokes.curves import arc, join, poly, spline

Glyph = tuple[np.ndarray, ...]


def _zero_oval() -> Glyph:
    return (arc(0.5, 0.5, 0.3, 0.48, 95, 95 + 370, 40),)


def _zero_narrow() -> Glyph:
    return (spline([(0.55, 0.02), (0.32, 0.2), (0.3, 0.7), (0.48, 0.98), (0.7, 0.75),
                    (0.7, 0.25), (0.55, 0.02), (0.45, 0.08)]),)


def _one_bar() -> Glyph:
    return (poly([(0.5, 0.02), (0.5, 0.98)]),)


def _one_flag() -> Glyph:
    return (poly([(0.3, 0.24), (0.52, 0.02), (0.52, 0.98)]),)


def _one_flag_base() -> Glyph:
    return (poly([(0.28, 0.26), (0.52, 0.02), (0.52, 0.97)]),
            poly([(0.26, 0.97), (0.78, 0.97)]))


def _two_plain() -> Glyph:
    top = arc(0.5, 0.3, 0.3, 0.27, 165, -25, 20)
    return (join(top, poly([top[-1], (0.2, 0.96), (0.84, 0.96)])),)


def _two_loop() -> Glyph:
    top = arc(0.5, 0.3, 0.3, 0.27, 165, -25, 20)
    tail = spline([top[-1], (0.4, 0.72), (0.22, 0.92), (0.16, 0.84), (0.3, 0.8),
                   (0.45, 0.92), (0.62, 0.97), (0.86, 0.93)])
    return (join(top, tail),)


def _three_round() -> Glyph:
    return (spline([(0.2, 0.14), (0.5, 0.02), (0.78, 0.17), (0.72, 0.37), (0.44, 0.47),
                    (0.76, 0.57), (0.8, 0.8), (0.55, 0.98), (0.2, 0.88)]),)


def _three_flat() -> Glyph:
    bowl = spline([(0.45, 0.4), (0.76, 0.52), (0.8, 0.78), (0.56, 0.98), (0.2, 0.9)])
    return (join(poly([(0.2, 0.03), (0.8, 0.03), (0.45, 0.4)]), bowl),)


def _four_open() -> Glyph:
    return (poly([(0.42, 0.02), (0.14, 0.64), (0.86, 0.64)]),
            poly([(0.66, 0.28), (0.66, 0.98)]))


def _four_closed() -> Glyph:
    return (poly([(0.66, 0.98), (0.66, 0.02), (0.12, 0.64), (0.88, 0.64)]),)


def _five_two_strokes() -> Glyph:
    bowl = spline([(0.24, 0.44), (0.52, 0.36), (0.78, 0.54), (0.76, 0.82), (0.5, 0.98),
                   (0.18, 0.9)])
    return (join(poly([(0.27, 0.03), (0.24, 0.44)]), bowl), poly([(0.27, 0.03), (0.8, 0.03)]))


def _five_one_stroke() -> Glyph:
    bowl = spline([(0.23, 0.45), (0.55, 0.38), (0.8, 0.6), (0.72, 0.88), (0.45, 0.98),
                   (0.2, 0.88)])
    return (join(poly([(0.8, 0.03), (0.28, 0.03), (0.23, 0.45)]), bowl),)


def _six_top_down() -> Glyph:
    return (spline([(0.72, 0.05), (0.45, 0.06), (0.26, 0.34), (0.2, 0.7), (0.4, 0.97),
                    (0.7, 0.9), (0.78, 0.68), (0.55, 0.52), (0.3, 0.58), (0.22, 0.72)]),)


def _six_loop_first() -> Glyph:
    return (spline([(0.24, 0.72), (0.36, 0.53), (0.64, 0.5), (0.78, 0.73), (0.56, 0.97),
                    (0.28, 0.9), (0.22, 0.68), (0.3, 0.3), (0.52, 0.06), (0.72, 0.02)]),)


def _seven_plain() -> Glyph:
    return (poly([(0.15, 0.05), (0.85, 0.05), (0.4, 0.98)]),)


def _seven_crossed() -> Glyph:
    return (poly([(0.15, 0.16), (0.15, 0.05), (0.85, 0.05), (0.42, 0.98)]),
            poly([(0.32, 0.52), (0.8, 0.5)]))


def _eight_one_stroke() -> Glyph:
    return (spline([(0.7, 0.14), (0.5, 0.03), (0.28, 0.15), (0.36, 0.38), (0.7, 0.6),
                    (0.76, 0.85), (0.5, 0.98), (0.24, 0.85), (0.3, 0.6), (0.64, 0.38),
                    (0.72, 0.16), (0.6, 0.06)]),)


def _eight_two_loops() -> Glyph:
    return (arc(0.5, 0.25, 0.22, 0.23, -90, 270, 32), arc(0.5, 0.73, 0.28, 0.25, 90, 450, 32))


def _nine_straight() -> Glyph:
    loop = arc(0.46, 0.27, 0.27, 0.25, 10, 375, 32)
    return (join(loop, poly([loop[-1], (0.72, 0.98)])),)


def _nine_curved() -> Glyph:
    loop = arc(0.46, 0.27, 0.27, 0.25, 10, 375, 32)
    return (join(loop, spline([loop[-1], (0.72, 0.62), (0.6, 0.9), (0.3, 0.97)])),)


#: style name -> (digit, builder); names are ``<digit>_<style>``.
DIGIT_STYLES = {
    "0_oval": (0, _zero_oval),
    "0_narrow": (0, _zero_narrow),
    "1_bar": (1, _one_bar),
    "1_flag": (1, _one_flag),
    "1_flag_base": (1, _one_flag_base),
    "2_plain": (2, _two_plain),
    "2_loop": (2, _two_loop),
    "3_round": (3, _three_round),
    "3_flat_top": (3, _three_flat),
    "4_open": (4, _four_open),
    "4_closed": (4, _four_closed),
    "5_two_strokes": (5, _five_two_strokes),
    "5_one_stroke": (5, _five_one_stroke),
    "6_top_down": (6, _six_top_down),
    "6_loop_first": (6, _six_loop_first),
    "7_plain": (7, _seven_plain),
    "7_crossed": (7, _seven_crossed),
    "8_one_stroke": (8, _eight_one_stroke),
    "8_two_loops": (8, _eight_two_loops),
    "9_straight": (9, _nine_straight),
    "9_curved": (9, _nine_curved),
}

STYLE_NAMES: tuple[str, ...] = tuple(DIGIT_STYLES)


def glyph(style: str) -> tuple[int, Glyph]:
    """``(digit, strokes)`` of a writing style (``KeyError`` naming the styles for others)."""
    try:
        digit, build = DIGIT_STYLES[style]
    except KeyError:
        raise KeyError(f"unknown digit style {style!r}; choose one of: "
                       f"{', '.join(STYLE_NAMES)}") from None
    return digit, build()
