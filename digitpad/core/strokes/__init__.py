"""Qt-free, seeded pen drawings like the drawing pad's: digits in several writing styles, and
things that are not digits, under variations (rotated, stretched, slanted, shaky, small and
off-centre, fat marker, hairline).

Modules:

* :mod:`.curves` -- polylines, splines and arcs in a glyph's unit box;
* :mod:`.glyphs` -- the digits' writing styles (:data:`DIGIT_STYLES`);
* :mod:`.nondigits` -- letters, shapes, scribbles, dots, dashes, blobs (:data:`NONDIGIT_KINDS`);
* :mod:`.variations` -- poses per variation (:data:`VARIATIONS`) and placement on the canvas;
* :mod:`.render` -- round-capped, anti-aliased painting at 280x280 and the two ink polarities.

Usage::

    rng = np.random.default_rng(1234)
    d = draw_digit("1_flag_base", "rotated", rng)
    d.canvas        # uint8 (280, 280), white ink on black, as the pad holds it
    d.saved("dark") # the same as black ink on white paper
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitpad.core.strokes.glyphs import DIGIT_STYLES, STYLE_NAMES, glyph
from digitpad.core.strokes.nondigits import NONDIGIT_KINDS
from digitpad.core.strokes.render import CANVAS_SIZE, render_strokes, with_polarity
from digitpad.core.strokes.variations import VARIATIONS, Pose, place, sample_pose


@dataclass(frozen=True)
class Drawing:
    """One rendered drawing.

    Attributes
    ----------
    canvas : numpy.ndarray
        uint8 (280, 280), ink bright on black (the pad's canvas).
    label : int or None
        The digit drawn, None for a non-digit.
    style : str
        Digit style (``"7_crossed"``) or non-digit name (``"letter A"``, ``"dot"``).
    variation : str
        One of :data:`VARIATIONS`.
    pose : Pose
    strokes : list of numpy.ndarray
        The strokes painted, in canvas pixels.
    """

    canvas: np.ndarray
    label: int | None
    style: str
    variation: str
    pose: Pose
    strokes: list[np.ndarray]

    def saved(self, polarity: str = "light") -> np.ndarray:
        """The canvas as an image file would hold it: ``"light"`` ink on black or ``"dark"``."""
        return with_polarity(self.canvas, polarity)


def draw_digit(style: str, variation: str, rng: np.random.Generator) -> Drawing:
    """Draw one digit in writing ``style`` under ``variation``.

    Parameters
    ----------
    style
        A name of :data:`DIGIT_STYLES` (``"<digit>_<style>"``).
    variation
        One of :data:`VARIATIONS`.
    rng
        The only source of randomness (same generator state, same drawing).

    Returns
    -------
    Drawing
    """
    digit, strokes = glyph(style)
    pose = sample_pose(variation, rng)
    placed = place(strokes, pose, rng)
    return Drawing(render_strokes(placed, pose.width), digit, style, variation, pose, placed)


def draw_nondigit(kind: str, rng: np.random.Generator, variation: str = "clean") -> Drawing:
    """Draw one thing that is not a digit.

    Parameters
    ----------
    kind
        One of :data:`NONDIGIT_KINDS` (``letter``, ``shape``, ``scribble``, ``dot``, ``dash``,
        ``blob``).
    rng
        The only source of randomness.
    variation
        One of :data:`VARIATIONS`.
    """
    try:
        build = NONDIGIT_KINDS[kind]
    except KeyError:
        raise KeyError(f"unknown non-digit kind {kind!r}; choose one of: "
                       f"{', '.join(NONDIGIT_KINDS)}") from None
    name, strokes, width_factor = build(rng)
    pose = sample_pose(variation, rng)
    if width_factor is not None:
        pose = Pose(**{**pose.__dict__, "width": min(60.0, pose.width * width_factor)})
    placed = place(strokes, pose, rng)
    return Drawing(render_strokes(placed, pose.width), None, name, variation, pose, placed)


__all__ = [
    "CANVAS_SIZE", "DIGIT_STYLES", "NONDIGIT_KINDS", "STYLE_NAMES", "VARIATIONS", "Drawing", "Pose",
    "draw_digit", "draw_nondigit", "place", "render_strokes", "sample_pose", "with_polarity",
]
