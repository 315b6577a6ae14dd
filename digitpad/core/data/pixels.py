"""Pixel scaling, defined once: 8-bit pixels (0..255) <-> unit floats (0..1), and the model input.

Every conversion between stored 8-bit pixels and the float [0, 1] values the model and the
normalisation work with goes through :func:`pixels_to_unit` or :func:`unit_to_pixels`;
:func:`to_model_input` is the one entry point that turns images into the model's input. Nothing
else in digitpad divides or multiplies pixels by 255.
"""

from __future__ import annotations

import numpy as np

from digitpad.core.data.dataset import IMAGE_SIDE
from digitpad.core.errors import DataError

#: Value of a full-ink 8-bit pixel.
PIXEL_MAX = 255
#: The factor :func:`pixels_to_unit` multiplies by (float32 1/255); the training pipeline scales
#: 8-bit batches with the same factor, so a batch is bit-for-bit what ``to_model_input`` gives.
UNIT = np.float32(1.0 / PIXEL_MAX)


def pixels_to_unit(x: np.ndarray) -> np.ndarray:
    """Scale 8-bit pixel values to float32 in [0, 1].

    Parameters
    ----------
    x : numpy.ndarray
        Any shape; uint8, or other numbers already limited to 0..255.

    Returns
    -------
    numpy.ndarray
        float32 ``x / 255`` (computed as ``x * float32(1/255)``, the same everywhere), a new array.
    """
    return np.multiply(x, UNIT, dtype=np.float32)


def unit_to_pixels(x: np.ndarray) -> np.ndarray:
    """Turn values in [0, 1] into uint8 pixels, rounding to the nearest level.

    Parameters
    ----------
    x : numpy.ndarray
        Any shape; float (or bool) values in [0, 1]; values outside are clipped.

    Returns
    -------
    numpy.ndarray
        uint8 ``round(x * 255)``.
    """
    return np.clip(np.rint(np.asarray(x) * PIXEL_MAX), 0, PIXEL_MAX).astype(np.uint8)


def to_model_input(x: np.ndarray) -> np.ndarray:
    """Scale images to the model's input: float32 (N, 28, 28, 1) in [0, 1].

    This is the one way images reach the model: uint8 input is scaled by :func:`pixels_to_unit`;
    float input must already be in [0, 1] (e.g. the output of normalisation) and passes through as
    float32.

    Parameters
    ----------
    x : numpy.ndarray
        (28, 28), (N, 28, 28), (N, 28, 28, 1) or (N, 784); uint8, or float in [0, 1].

    Returns
    -------
    numpy.ndarray
        float32 (N, 28, 28, 1) in [0, 1].

    Raises
    ------
    DataError
        Float pixels outside [0, 1] or NaN (scaled twice or not at all), another dtype, or a shape
        that is not 28x28 images.
    """
    x = model_pixels(x)
    return pixels_to_unit(x) if x.dtype == np.uint8 else x


def model_pixels(x: np.ndarray) -> np.ndarray:
    """Check and reshape images as :func:`to_model_input` does, but leave uint8 pixels 8-bit.

    For large sets that are scaled later, batch by batch (the training pipeline): indexing and
    copying 8-bit images moves a quarter of the bytes.

    Returns
    -------
    numpy.ndarray
        uint8 ``(N, 28, 28, 1)`` (a view where possible), or float32 ``(N, 28, 28, 1)`` in [0, 1].

    Raises
    ------
    DataError
        As :func:`to_model_input`.
    """
    x = np.asarray(x)
    if x.ndim == 2 and x.shape == (IMAGE_SIDE, IMAGE_SIDE):
        x = x[None]
    elif x.ndim == 2 and x.shape[1] == IMAGE_SIDE * IMAGE_SIDE:
        x = x.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE, 1):
        raise DataError(f"model input must be 28x28 images, not an array of shape {x.shape}.")
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.floating):
        raise DataError(f"model input must be uint8 pixels or floats in [0, 1], not {x.dtype}.")
    if x.size:
        lo, hi = float(x.min()), float(x.max())
        if not (lo >= 0.0 and hi <= 1.0):
            if hi != hi or lo != lo:
                raise DataError("model input contains NaN pixel values.")
            raise DataError(
                f"float model input must be in [0, 1] but ranges over {lo:g}..{hi:g} — "
                "pass uint8 pixels so they are scaled exactly once."
            )
    return x.astype(np.float32, copy=False)
