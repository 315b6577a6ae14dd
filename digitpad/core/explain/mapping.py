"""Mapping a 28x28 heatmap back onto the drawing it was computed from.

:func:`~digitpad.core.normalize.normalize_canvas` crops the ink's bounding box, scales the crop to
``Normalized.scaled`` (longest side 20 px) and pastes it into the 28x28 field at an offset that
centres its mass. :func:`heatmap_to_canvas` undoes exactly that: it cuts the scaled digit's window
out of the heatmap (the offset comes from ``Normalized.shift``), resizes it to the bounding box and
places it at ``Normalized.bbox`` on a canvas-sized array. The heat mass inside the window is kept:
the canvas heatmap sums to what the 28x28 heatmap holds over the digit (1 for an attribution, whose
heat lies on the ink).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from digitpad.core.errors import ImageError
from digitpad.core.normalize import FIELD, Normalized


def _resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Resize float32 ``a`` to (h, w): area averaging when shrinking, bilinear when enlarging."""
    if a.shape == (h, w):
        return a.astype(np.float32, copy=True)
    shrinking = h <= a.shape[0] and w <= a.shape[1]
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    img = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32))
    return np.maximum(np.asarray(img.resize((w, h), method), dtype=np.float32), 0.0)


def digit_window(normalized: Normalized) -> tuple[int, int, int, int]:
    """``(top, left, height, width)`` of the scaled digit inside the 28x28 field."""
    if normalized.blank or normalized.scaled is None or normalized.shift is None:
        raise ImageError("a blank drawing has no digit to map a heatmap onto.")
    h, w = normalized.scaled.shape
    top = int(round(normalized.shift[0] + (FIELD - h) / 2.0))
    left = int(round(normalized.shift[1] + (FIELD - w) / 2.0))
    return top, left, h, w


def heatmap_to_canvas(
    heatmap28: np.ndarray,
    normalized: Normalized,
    canvas_shape: tuple[int, int],
    *,
    on_ink: bool = True,
) -> np.ndarray:
    """Map a heatmap over the 28x28 model input back onto the original canvas.

    Parameters
    ----------
    heatmap28 : numpy.ndarray
        (28, 28) non-negative values aligned with ``normalized.image``.
    normalized : Normalized
        The result of normalising the canvas (``normalize_canvas(canvas)``).
    canvas_shape : tuple of int
        ``canvas.shape``: (height, width) of the drawing that was normalised.
    on_ink : bool
        Weight the mapped heat by the ink of the drawing (``normalized.cropped``), so it lies on
        the strokes at the canvas's resolution instead of on 28x28-sized blocks. The mass is kept
        either way (unless the window holds heat but no ink, when it is placed unweighted).

    Returns
    -------
    numpy.ndarray
        float32 ``canvas_shape``, >= 0, zero outside the ink's bounding box; all zeros for a
        blank drawing.

    Raises
    ------
    ImageError
        ``heatmap28`` is not (28, 28), or ``canvas_shape`` does not contain the bounding box.
    """
    heat = np.asarray(heatmap28, dtype=np.float32)
    if heat.shape != (FIELD, FIELD):
        raise ImageError(f"a heatmap must be 28x28, not of shape {heat.shape}.")
    shape = (int(canvas_shape[0]), int(canvas_shape[1]))
    out = np.zeros(shape, np.float32)
    if normalized.blank or normalized.bbox is None:
        return out
    top, left, bottom, right = normalized.bbox
    if bottom > shape[0] or right > shape[1]:
        raise ImageError(f"the canvas shape {shape} does not contain the drawing's box "
                         f"{normalized.bbox}.")
    wy, wx, h, w = digit_window(normalized)
    window = np.maximum(np.nan_to_num(heat[wy : wy + h, wx : wx + w]), 0.0)
    mass = float(window.sum(dtype=np.float64))
    if mass <= 0.0:
        return out
    mapped = _resize(window, bottom - top, right - left)
    if on_ink and normalized.cropped is not None:
        weighted = mapped * np.asarray(normalized.cropped, np.float32)
        if float(weighted.sum()) > 0.0:
            mapped = weighted
    total = float(mapped.sum(dtype=np.float64))
    if total > 0.0:
        out[top:bottom, left:right] = mapped * np.float32(mass / total)
    return out


__all__ = ["digit_window", "heatmap_to_canvas"]
