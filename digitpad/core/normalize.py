"""MNIST-style normalisation of drawings: crop to the ink, scale to 20 px, centre by mass in 28x28.

This is how the MNIST digits themselves were made (LeCun et al.): each digit was size-normalised
to fit a 20x20 box keeping its aspect ratio, anti-aliased, and placed in a 28x28 field so that its
centre of mass sits at the centre. A model trained on MNIST therefore expects exactly that; resizing
a whole canvas down to 28x28 instead gives small, off-centre digits it has never seen.

Steps of :func:`normalize_canvas` (all on the small ink crop, so a 280x280 canvas takes well under a
millisecond):

1. **Crop** to the bounding box of the pixels brighter than ``threshold`` (values below it inside
   the box are set to 0, which removes faint background noise).
2. **Scale** the longest side to 20 px keeping the aspect ratio (the other side at least 1 px),
   with area averaging when shrinking (true anti-aliasing: a pixel's value is the ink coverage)
   and bilinear interpolation when enlarging.
3. **Centre**: place the scaled digit in a 28x28 field with an integer shift so that its centre of
   mass, in pixel-index coordinates, is at (14, 14) -- where the real MNIST digits have it (mean
   13.99, 14.00 over the training set). The shift is clamped so that no ink leaves the field.

A canvas with no pixel above the threshold, or with all pixels equal, is reported as blank.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from PIL import Image

from digitpad.core.data.pixels import PIXEL_MAX, pixels_to_unit
from digitpad.core.errors import ImageError
from digitpad.core.images import load_image

FIELD = 28  #: side of the model's input field
BOX = 20  #: side of the box the digit is scaled to fit
CENTRE = 14.0  #: target centre of mass (row, column) in pixel-index coordinates

_INDEX = np.arange(FIELD * 50, dtype=np.float64)  # reused index vector for centre-of-mass sums


@dataclass(frozen=True)
class Normalized:
    """Result of normalising one drawing, with its intermediate steps.

    Attributes
    ----------
    blank : bool
        True when there is no ink; all other fields are then None.
    image : numpy.ndarray or None
        float32 (28, 28) in [0, 1], ink bright: what the model sees.
    cropped : numpy.ndarray or None
        float32 crop of the ink bounding box at the input's resolution, in [0, 1].
    scaled : numpy.ndarray or None
        float32 crop scaled so that its longest side is 20 px (aspect ratio kept), in [0, 1].
    bbox : tuple of int or None
        ``(top, left, bottom, right)`` of the ink in the input; bottom/right are exclusive.
    shift : tuple of float or None
        ``(dy, dx)``: how far the centre-of-mass placement moved the scaled digit away from
        plain geometric centring in the 28x28 field, in pixels.
    """

    blank: bool
    image: np.ndarray | None = None
    cropped: np.ndarray | None = None
    scaled: np.ndarray | None = None
    bbox: tuple[int, int, int, int] | None = None
    shift: tuple[float, float] | None = None


BLANK = Normalized(blank=True)


def _as_unit_float(a: np.ndarray) -> np.ndarray:
    """Convert a non-uint8 2-D array to float32 in [0, 1] (non-finite values become 0).

    Floats are taken as 0..1, or as 0..255 when their maximum exceeds 1 (values above 255 count
    as full ink); uint16 as 0..65535; booleans as 0/1; other integers like floats.
    """
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if a.dtype == np.uint16:
        return a.astype(np.float32) / np.float32(65535.0)
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise ImageError(f"a drawing must be a numeric array, not {a.dtype}.")
    f = a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float32)
    with np.errstate(all="ignore"):
        total = float(np.add.reduce(f, axis=None, dtype=np.float64))
        if not np.isfinite(total):
            f = np.where(np.isfinite(f), f, 0.0)
        peak = float(f.max())
        if peak > 1.0:
            return pixels_to_unit(np.clip(f, 0.0, PIXEL_MAX))
        return np.asarray(f, dtype=np.float32)


def _resize(crop: np.ndarray, h: int, w: int) -> np.ndarray:
    """Resize a float32 crop to (h, w): area averaging when shrinking, bilinear when enlarging."""
    ch, cw = crop.shape
    if (ch, cw) == (h, w):
        return crop.copy()
    shrinking = h <= ch and w <= cw
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    img = Image.fromarray(np.ascontiguousarray(crop, dtype=np.float32), mode="F")
    out = np.asarray(img.resize((w, h), method), dtype=np.float32)
    return np.clip(out, 0.0, 1.0)


def normalize_canvas(canvas: np.ndarray, *, threshold: float = 0.05) -> Normalized:
    """Normalise a drawing the way MNIST digits were made.

    Parameters
    ----------
    canvas : numpy.ndarray
        2-D array of any size, ink bright (0 = background): uint8 0..255 -- the drawing pad's own
        canvas, taken as it is and scaled only after cropping -- or float 0..1 (floats whose
        maximum exceeds 1 are taken as 0..255; NaN and inf count as background).
    threshold : float, optional
        Ink threshold in [0, 1); pixels above it count as ink for the bounding box.

    Returns
    -------
    Normalized
        The 28x28 model input with the intermediate steps, or ``Normalized(blank=True)``.

    Raises
    ------
    ImageError
        If ``canvas`` is not a 2-D numeric array.
    """
    a = np.asarray(canvas)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim != 2:
        raise ImageError(f"a drawing must be a 2-D array, not one of shape {a.shape}.")
    if a.size == 0:
        return BLANK
    if not 0.0 <= threshold < 1.0:
        raise ImageError(f"the ink threshold must be in [0, 1), not {threshold}.")

    pixels = a.dtype == np.uint8  # the pad's own canvas: cropped first, then scaled
    if pixels:
        cut = int(threshold * PIXEL_MAX)  # ink: value > cut
    else:
        a = _as_unit_float(a)
        cut = np.float32(threshold)

    rows = np.flatnonzero(a.max(axis=1) > cut)
    if rows.size == 0:
        return BLANK
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    cols = np.flatnonzero(a[top:bottom].max(axis=0) > cut)
    left, right = int(cols[0]), int(cols[-1]) + 1
    region = a[top:bottom, left:right]
    if region.min() == region.max() and (bottom - top, right - left) == a.shape:
        return BLANK  # every pixel is the same value: no drawing, just a uniform field

    if pixels:
        cropped = pixels_to_unit(region)
        cropped[region <= cut] = 0.0
    else:
        cropped = np.clip(region, 0.0, 1.0)
        cropped = np.where(region > cut, cropped, np.float32(0.0)).astype(np.float32, copy=False)

    ch, cw = cropped.shape
    if ch >= cw:
        h, w = BOX, max(1, int(round(cw * BOX / ch)))
    else:
        h, w = max(1, int(round(ch * BOX / cw))), BOX
    scaled = _resize(cropped, h, w)

    mass = float(scaled.sum(dtype=np.float64))
    if not mass > 0.0:
        return BLANK
    cy = float(scaled.sum(axis=1, dtype=np.float64) @ _INDEX[:h]) / mass
    cx = float(scaled.sum(axis=0, dtype=np.float64) @ _INDEX[:w]) / mass
    oy = min(max(int(round(CENTRE - cy)), 0), FIELD - h)
    ox = min(max(int(round(CENTRE - cx)), 0), FIELD - w)

    image = np.zeros((FIELD, FIELD), dtype=np.float32)
    image[oy : oy + h, ox : ox + w] = scaled
    return Normalized(
        blank=False,
        image=image,
        cropped=cropped,
        scaled=scaled,
        bbox=(top, left, bottom, right),
        shift=(oy - (FIELD - h) / 2.0, ox - (FIELD - w) / 2.0),
    )


def normalize_image(path_or_array: str | os.PathLike | np.ndarray) -> Normalized:
    """Load an image file (or take an array) and normalise it like MNIST.

    Parameters
    ----------
    path_or_array : str, os.PathLike or numpy.ndarray
        An image file readable by :func:`digitpad.core.images.load_image` (polarity, EXIF
        orientation, alpha and huge sizes handled there), or a 2-D ink-bright array.

    Returns
    -------
    Normalized
        See :func:`normalize_canvas`.

    Raises
    ------
    ImageError
        If the file cannot be read as an image.
    """
    if isinstance(path_or_array, np.ndarray):
        return normalize_canvas(path_or_array)
    return normalize_canvas(load_image(path_or_array))
