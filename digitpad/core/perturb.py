"""Vectorised perturbations of stacks of 28x28 digits (numpy only): every function takes and returns
float32 (N, 28, 28) in [0, 1], ink bright, and treats all N images in one set of array operations.

Geometric ones (rotate, shift, scale) sample the input with bilinear interpolation at the inverse
of the transform; ink mapped from outside the field is background. They turn about the field's
centre of mass position (:data:`~digitpad.core.normalize.CENTRE`), where MNIST digits are centred.
"""

from __future__ import annotations

import numpy as np

from digitpad.core.normalize import CENTRE, FIELD

_ROWS, _COLS = np.mgrid[0:FIELD, 0:FIELD].astype(np.float64)


def sample(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear samples of every image at the same (fractional) source positions.

    Parameters
    ----------
    images : numpy.ndarray
        float32 (N, H, W).
    rows, cols : numpy.ndarray
        float (h, w) source coordinates (pixel indices); outside the image reads 0.

    Returns
    -------
    numpy.ndarray
        float32 (N, h, w).
    """
    n, height, width = images.shape
    r0 = np.floor(rows).astype(np.int64)
    c0 = np.floor(cols).astype(np.int64)
    fr = (rows - r0).astype(np.float32)
    fc = (cols - c0).astype(np.float32)
    out = np.zeros((n, *rows.shape), np.float32)
    for dr, wr in ((0, 1.0 - fr), (1, fr)):
        for dc, wc in ((0, 1.0 - fc), (1, fc)):
            r, c = r0 + dr, c0 + dc
            inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            weight = np.where(inside, wr * wc, np.float32(0.0))
            out += images[:, np.clip(r, 0, height - 1), np.clip(c, 0, width - 1)] * weight
    return np.clip(out, 0.0, 1.0)


def rotate(images: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate counter-clockwise (as seen on screen) by ``degrees`` about the centre."""
    t = np.deg2rad(float(degrees))
    dy, dx = _ROWS - CENTRE, _COLS - CENTRE
    rows = CENTRE + dx * np.sin(t) + dy * np.cos(t)
    cols = CENTRE + dx * np.cos(t) - dy * np.sin(t)
    return sample(images, rows, cols)


def shift(images: np.ndarray, pixels: float) -> np.ndarray:
    """Move right by ``pixels`` (negative: left)."""
    return sample(images, _ROWS, _COLS - float(pixels))


def scale(images: np.ndarray, factor: float) -> np.ndarray:
    """Enlarge (``factor`` > 1) or shrink about the centre."""
    f = float(factor)
    if not f > 0.0:
        raise ValueError(f"a scale factor must be positive, got {factor}.")
    return sample(images, CENTRE + (_ROWS - CENTRE) / f, CENTRE + (_COLS - CENTRE) / f)


def _neighbourhood(images: np.ndarray, reduce: np.ufunc) -> np.ndarray:
    """``reduce`` (maximum / minimum) over each pixel and its 4 neighbours (a 3x3 cross)."""
    fill = 0.0 if reduce is np.maximum else 1.0
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), constant_values=fill)
    out = padded[:, 1:-1, 1:-1].copy()
    for dr, dc in ((0, 1), (2, 1), (1, 0), (1, 2)):
        reduce(out, padded[:, dr : dr + FIELD, dc : dc + FIELD], out=out)
    return out


def thickness(images: np.ndarray, steps: int) -> np.ndarray:
    """Thicken (``steps`` > 0, grey dilation) or thin (< 0, grey erosion) the strokes.

    Each step takes the maximum (minimum) over a pixel and its 4 neighbours; the border counts as
    background for dilation and as ink for erosion, so neither moves ink across the edge.
    """
    out = np.array(images, dtype=np.float32, copy=True)
    reduce = np.maximum if steps > 0 else np.minimum
    for _ in range(abs(int(steps))):
        out = _neighbourhood(out, reduce)
    return out


def noise(images: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``sigma`` to every pixel, clipped to [0, 1]."""
    if float(sigma) == 0.0:
        return np.array(images, dtype=np.float32, copy=True)
    noisy = images + rng.normal(0.0, float(sigma), images.shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0)


__all__ = ["noise", "rotate", "sample", "scale", "shift", "thickness"]
