"""Augmentation for drawn input: make MNIST scans look like what the pad gives the model.

A pad drawing differs from an MNIST scan in ways a shift/rotate/zoom does not cover. After the
app's MNIST-style normalisation (longest side 20 px) a small drawing, or one made with a fat
marker, has strokes two or three times as wide as MNIST's, a hairline drawing much thinner ones;
pad strokes are solid ink with a sharp anti-aliased edge where scans have a soft grey profile;
people rotate, slant, stretch and wobble. :func:`augment_drawn` models these on a whole batch at
once with TensorFlow ops inside the ``tf.data`` pipeline:

1. **stroke width** -- morphological dilation (up to two steps of a 3x3 cross) or erosion
   (up to 0.6 of a step), blended for a continuous amount per image (:func:`change_stroke_width`);
2. **geometry** -- rotation up to ±25°, shear (slant) up to ±0.35, a stretch of each axis and a
   shift, plus a smooth **elastic** displacement field (Simard et al., 2003), all applied by one
   bilinear resampling (:func:`warp`);
3. **normalisation** -- the result is scaled and centred as the app normalises every drawing
   (longest side 20 px, centre of mass at (14, 14)), so training sees what the app shows;
4. **ink profile** -- a random gamma: solid strokes (gamma < 1) or fainter ones (gamma > 1).

Every function takes the ``tensorflow`` module as ``T`` (so traced code calls no Python helpers)
and float images ``(B, 28, 28, 1)`` in [0, 1]; randomness comes from ``T.random`` (seeded by
the trainer through ``keras.utils.set_random_seed``).
"""

from __future__ import annotations

import math
from typing import Any

SIDE = 28
CENTRE = (SIDE - 1) / 2.0
BOX = 20.0                 # normalised drawings fit a 20x20 box ...
NORMALIZED_CENTRE = 14.0   # ... with their centre of mass at (14, 14) (normalize.py)
MAX_ROTATION_DEG = 25.0
MAX_SHEAR = 0.35
STRETCH = (0.75, 1.12)     # per-axis scale range
MAX_SHIFT_PX = 2.0
WIDTH_RANGE = (-0.6, 2.0)  # stroke-width change in dilation steps (negative: erosion)
ELASTIC_PX = 1.2           # typical elastic displacement, pixels
ELASTIC_GRID = 4           # the displacement field is bilinear over a 4x4 grid of random vectors
GAMMA_RANGE = (0.45, 1.5)


def _dilate(x: Any, T: Any) -> Any:
    """One step of dilation with a 3x3 cross (max of a pixel and its 4 neighbours)."""
    p = T.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    return T.reduce_max(T.stack([x, p[:, :-2, 1:-1], p[:, 2:, 1:-1], p[:, 1:-1, :-2],
                                 p[:, 1:-1, 2:]], axis=0), axis=0)


def change_stroke_width(x: Any, amount: Any, T: Any) -> Any:
    """Thicken (``amount`` > 0, dilation steps, up to 2) or thin (< 0, erosion) each image.

    ``amount`` is a float tensor ``(B,)``; fractional amounts blend between whole steps, so
    0 leaves an image unchanged, 1 is one dilation, 1.5 halfway to two, -0.5 half an erosion.
    """
    a = T.reshape(T.cast(amount, x.dtype), [-1, 1, 1, 1])
    d1 = _dilate(x, T)
    d2 = _dilate(d1, T)
    e1 = -_dilate(-x, T)
    thick = T.where(a <= 1.0, x + a * (d1 - x), d1 + (a - 1.0) * (d2 - d1))
    thin = x + (-a) * (e1 - x)
    return T.where(a >= 0.0, thick, thin)


def warp(x: Any, matrix: Any, shift: Any, displacement: Any, T: Any) -> Any:
    """Resample each image at ``matrix @ (p - c) + c + shift + displacement(p)`` (bilinear).

    Parameters
    ----------
    x
        ``(B, 28, 28, 1)`` images.
    matrix
        ``(B, 2, 2)``: for output pixel ``p = (col, row)`` the input is read at
        ``matrix @ (p - c) + c`` (c the image centre), so ``matrix`` maps output to input.
    shift
        ``(B, 2)`` added to the source position, in pixels ``(dx, dy)``.
    displacement
        ``(B, 28, 28, 2)`` per-pixel ``(dx, dy)`` added to the source position (elastic part).

    Pixels read from outside the image are background (0).
    """
    b = T.shape(x)[0]
    r = T.range(SIDE, dtype=x.dtype) - CENTRE
    gy, gx = T.meshgrid(r, r, indexing="ij")
    grid = T.stack([gx, gy], axis=-1)  # (28, 28, 2): (x, y) relative to the centre
    src = T.einsum("bij,hwj->bhwi", matrix, grid) + CENTRE
    src = src + shift[:, None, None, :] + displacement
    sx, sy = src[..., 0], src[..., 1]
    x0, y0 = T.floor(sx), T.floor(sy)
    wx, wy = sx - x0, sy - y0
    flat = T.reshape(x, [-1])
    base = T.reshape(T.range(b) * SIDE * SIDE, [-1, 1, 1])

    def tap(yy, xx):
        inside = (xx >= 0) & (xx <= SIDE - 1) & (yy >= 0) & (yy <= SIDE - 1)
        xi = T.cast(T.clip_by_value(xx, 0, SIDE - 1), T.int32)
        yi = T.cast(T.clip_by_value(yy, 0, SIDE - 1), T.int32)
        v = T.gather(flat, base + yi * SIDE + xi)
        return T.where(inside, v, T.zeros_like(v))

    out = ((1 - wy) * ((1 - wx) * tap(y0, x0) + wx * tap(y0, x0 + 1))
           + wy * ((1 - wx) * tap(y0 + 1, x0) + wx * tap(y0 + 1, x0 + 1)))
    return T.reshape(out, [b, SIDE, SIDE, 1])


def random_matrix(b: Any, T: Any, dtype: Any = None) -> Any:
    """``(b, 2, 2)`` random rotation x shear x stretch matrices (output -> input)."""
    dtype = dtype or T.float32
    angle = T.random.uniform([b], -1.0, 1.0, dtype) * (MAX_ROTATION_DEG * math.pi / 180.0)
    shear = T.random.uniform([b], -MAX_SHEAR, MAX_SHEAR, dtype)
    log_lo, log_hi = math.log(STRETCH[0]), math.log(STRETCH[1])
    inv_sx = T.exp(-T.random.uniform([b], log_lo, log_hi, dtype))
    inv_sy = T.exp(-T.random.uniform([b], log_lo, log_hi, dtype))
    c, s = T.cos(angle), T.sin(angle)
    # R(angle) @ [[1, shear], [0, 1]] @ diag(1/sx, 1/sy)
    row0 = T.stack([c * inv_sx, (c * shear - s) * inv_sy], axis=1)
    row1 = T.stack([s * inv_sx, (s * shear + c) * inv_sy], axis=1)
    return T.stack([row0, row1], axis=1)


def random_displacement(b: Any, T: Any, dtype: Any = None) -> Any:
    """``(b, 28, 28, 2)`` smooth random displacement fields of about :data:`ELASTIC_PX` pixels."""
    dtype = dtype or T.float32
    coarse = T.random.normal([b, ELASTIC_GRID, ELASTIC_GRID, 2], 0.0, ELASTIC_PX, dtype)
    return T.image.resize(coarse, [SIDE, SIDE], method="bilinear")


def renormalize(x: Any, T: Any, threshold: float = 0.05) -> Any:
    """Scale each image's ink so that its longest side is 20 px and centre it by mass at (14, 14),
    as :func:`digitpad.core.normalize.normalize_canvas` does to every drawing before the model
    sees it (so training sees no shapes the app never shows). Blank images are left as they are.
    """
    b = T.shape(x)[0]
    img = x[..., 0]
    idx = T.range(SIDE, dtype=x.dtype)
    rows, cols = T.reduce_any(img > threshold, axis=2), T.reduce_any(img > threshold, axis=1)

    def extent(m):
        first = T.cast(T.argmax(T.cast(m, T.int32), axis=1), x.dtype)
        last = SIDE - 1 - T.cast(T.argmax(T.cast(m[:, ::-1], T.int32), axis=1), x.dtype)
        return last - first + 1.0

    ink = T.reduce_any(rows, axis=1)
    longest = T.maximum(extent(rows), extent(cols))
    # bilinear sampling spreads ink about one source pixel beyond the last one above the cut-off
    scale = T.where(ink, BOX / (longest + 1.0), T.ones_like(longest))
    mass = T.maximum(T.reduce_sum(img, axis=[1, 2]), 1e-6)
    com_y = T.reduce_sum(T.reduce_sum(img, axis=2) * idx, axis=1) / mass
    com_x = T.reduce_sum(T.reduce_sum(img, axis=1) * idx, axis=1) / mass
    offset = (NORMALIZED_CENTRE - CENTRE) / scale
    shift = T.where(ink[:, None], T.stack([com_x - CENTRE - offset, com_y - CENTRE - offset], 1),
                    T.zeros([b, 2], x.dtype))
    inv = 1.0 / scale
    zeros = T.zeros_like(inv)
    matrix = T.stack([T.stack([inv, zeros], 1), T.stack([zeros, inv], 1)], axis=1)
    return warp(x, matrix, shift, T.zeros([b, SIDE, SIDE, 2], x.dtype), T)


def augment_drawn(x: Any, T: Any) -> Any:
    """Random stroke width, geometry, elastic distortion and ink profile for a float batch.

    Parameters
    ----------
    x
        ``(B, 28, 28, 1)`` float32 images in [0, 1] (ink bright).
    T
        The ``tensorflow`` module.

    Returns
    -------
    Tensor
        Same shape and dtype, values in [0, 1].
    """
    b = T.shape(x)[0]
    width = T.random.uniform([b], WIDTH_RANGE[0], WIDTH_RANGE[1], x.dtype)
    y = change_stroke_width(x, width, T)
    shift = T.random.uniform([b, 2], -MAX_SHIFT_PX, MAX_SHIFT_PX, x.dtype)
    y = warp(y, random_matrix(b, T, x.dtype), shift, random_displacement(b, T, x.dtype), T)
    y = renormalize(y, T)
    gamma = T.exp(T.random.uniform([b, 1, 1, 1], math.log(GAMMA_RANGE[0]),
                                   math.log(GAMMA_RANGE[1]), x.dtype))
    return T.clip_by_value(T.pow(T.clip_by_value(y, 0.0, 1.0) + 1e-6, gamma) - 1e-6, 0.0, 1.0)
