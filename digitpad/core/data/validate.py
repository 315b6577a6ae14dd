"""Checking images and labels and bringing them to the digitpad layout (uint8 images, int64 labels).

Every way data can be wrong -- including the classic tutorial bug of dividing the *labels* by 255
instead of the pixels -- becomes a :class:`~digitpad.core.errors.DataError` with one sentence.
"""

from __future__ import annotations

import numpy as np

from digitpad.core.data.dataset import IMAGE_SIDE, NUM_CLASSES
from digitpad.core.data.pixels import PIXEL_MAX, unit_to_pixels
from digitpad.core.errors import DataError


def _labels(y: np.ndarray, n: int, what: str) -> np.ndarray:
    if y.dtype == object or not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
        raise DataError(f"the labels of {what} must be numbers, not {y.dtype} values.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and y.shape[1] == NUM_CLASSES and len(y) > 0:
        # one-hot labels (keras.utils.to_categorical): accept when every row is exactly one-hot
        if np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1):
            y = np.argmax(y, axis=1)
        else:
            raise DataError(f"the labels of {what} have 10 columns but are not one-hot rows.")
    if y.ndim != 1:
        raise DataError(f"the labels of {what} must be a 1-D array, not one of shape {y.shape}.")
    if len(y) != n:
        raise DataError(f"{what} has {n} images but {len(y)} labels.")
    if np.iscomplexobj(y):
        raise DataError(f"the labels of {what} must be real numbers.")
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)):
            raise DataError(f"the labels of {what} contain NaN or infinite values.")
        whole = np.all(y == np.round(y))
        if not whole and float(y.min()) >= 0.0 and float(y.max()) <= 1.0:
            raise DataError(
                f"the labels of {what} are fractions between 0 and 1 — "
                "were the labels scaled instead of the pixels?"
            )
        if not whole:
            raise DataError(f"the labels of {what} must be whole numbers 0–9, not fractions.")
    lo, hi = (int(y.min()), int(y.max())) if len(y) else (0, 0)
    if lo < 0 or hi > NUM_CLASSES - 1:
        bad = lo if lo < 0 else hi
        raise DataError(f"the labels of {what} must be digits 0–9, but {bad} occurs.")
    return y.astype(np.int64)


def _pixels(x: np.ndarray, what: str) -> np.ndarray:
    if x.dtype == np.uint8:
        return x
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise DataError(f"the images of {what} must be numbers, not {x.dtype} values.")
    if np.iscomplexobj(x):
        raise DataError(f"the images of {what} must be real numbers.")
    if x.dtype == np.bool_:
        return unit_to_pixels(x)
    lo, hi = float(x.min()), float(x.max())
    if np.issubdtype(x.dtype, np.floating):
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise DataError(f"the images of {what} contain NaN or infinite pixel values.")
        if lo < 0.0:
            raise DataError(f"the pixels of {what} go down to {lo:g}; they must be in [0, 1] or [0, 255].")
        if hi > PIXEL_MAX:
            raise DataError(f"the pixels of {what} go up to {hi:g}; they must be in [0, 1] or [0, 255].")
        if 0.0 < hi <= 1.0 / PIXEL_MAX + 1e-6:
            raise DataError(
                f"the pixels of {what} are all below 1/255 — were the pixels scaled twice?"
            )
        if hi <= 1.0:
            return unit_to_pixels(x)
        return np.clip(np.rint(x), 0, PIXEL_MAX).astype(np.uint8)
    if lo < 0 or hi > PIXEL_MAX:
        raise DataError(f"the pixels of {what} range over {lo:g}..{hi:g}; they must be in 0..255.")
    return x.astype(np.uint8)


def validate_arrays(x, y, *, what: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """Check images and labels and bring them to the digitpad layout.

    Parameters
    ----------
    x : array_like
        Images: (N, 28, 28), (N, 28, 28, 1) or (N, 784); uint8, integers in 0..255, or floats
        in [0, 1] or [0, 255] (converted once to uint8).
    y : array_like
        Labels: (N,) or (N, 1) integers 0..9 (whole-valued floats are accepted), or one-hot (N, 10).
    what : str
        How to name the data in messages, e.g. ``"data.npz"``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x, y)`` as uint8 (N, 28, 28) and int64 (N,). uint8 input is returned without a copy.

    Raises
    ------
    DataError
        Empty data, a count mismatch (naming both counts), labels that are not whole numbers 0..9
        (naming the "labels scaled instead of pixels" bug when they are fractions in [0, 1]),
        images that are not 28x28, NaN/inf pixels or pixels out of range.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim == 0 or x.shape[0] == 0 or x.size == 0:
        raise DataError(f"{what} holds no images.")
    n = x.shape[0]
    if x.ndim == 2 and x.shape[1] == IMAGE_SIDE * IMAGE_SIDE:
        x = x.reshape(n, IMAGE_SIDE, IMAGE_SIDE)
    elif x.ndim == 4 and x.shape[3] == 1:
        x = x[..., 0]
    if x.ndim == 1:
        raise DataError(
            f"images must be 28x28, but {what} holds a flat list of {n} numbers, not images."
        )
    if x.ndim != 3 or x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        dims = "x".join(str(d) for d in x.shape[1:])
        raise DataError(f"images must be 28x28, but {what} holds images of shape {dims}.")
    if y.ndim == 0:
        raise DataError(f"the labels of {what} must be an array, not a single value.")
    y = _labels(y, n, what)
    x = _pixels(x, what)
    return x, y
