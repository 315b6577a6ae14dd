"""Paint pen strokes like the drawing pad: round caps and joins, anti-aliased, white on black.

The pad (``digitpad.gui.strokes``) paints round-capped strokes on a 280x280 canvas with Qt's
anti-aliasing. Here Pillow draws the same strokes at ``supersample`` times the size and the
picture is box-averaged down, which gives the same soft edges without Qt.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

CANVAS_SIZE = 280  #: side of the pad's canvas in pixels
SUPERSAMPLE = 3


def render_strokes(strokes: Sequence[np.ndarray], width: float, *, size: int = CANVAS_SIZE,
                   supersample: int = SUPERSAMPLE) -> np.ndarray:
    """Paint strokes as the pad does and return the canvas.

    Parameters
    ----------
    strokes
        Each an ``(n, 2)`` array of ``(x, y)`` canvas coordinates (pixels, y down); a stroke of
        one point is a round dot.
    width
        Pen width in canvas pixels (the pad's range is 4..48, 20 by default).
    size
        Side of the square canvas.
    supersample
        Drawing resolution factor used for anti-aliasing (1 = no anti-aliasing).

    Returns
    -------
    numpy.ndarray
        uint8 ``(size, size)``, ink bright (255) on a black (0) background, like the pad's canvas.
    """
    ss = max(1, int(supersample))
    img = Image.new("L", (size * ss, size * ss), 0)
    draw = ImageDraw.Draw(img)
    w = max(1.0, float(width) * ss)
    r = w / 2.0
    for stroke in strokes:
        p = np.asarray(stroke, dtype=np.float64).reshape(-1, 2) * ss
        if len(p) == 0:
            continue
        pts = [(float(x), float(y)) for x, y in p]
        if len(pts) > 1:
            draw.line(pts, fill=255, width=max(1, int(round(w))))
        for x, y in pts:  # round caps and joins (and no seams between short segments)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    if ss > 1:
        img = img.reduce(ss)
    return np.asarray(img, dtype=np.uint8)


def with_polarity(canvas: np.ndarray, polarity: str) -> np.ndarray:
    """The canvas as saved with ``polarity`` ``"light"`` (white ink on black, the pad's own) or
    ``"dark"`` (black ink on white paper)."""
    if polarity == "light":
        return canvas
    if polarity == "dark":
        return (255 - canvas.astype(np.int16)).astype(np.uint8)
    raise ValueError(f"polarity must be 'light' or 'dark', not {polarity!r}")
