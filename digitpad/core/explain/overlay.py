"""An attribution heatmap drawn over the image it explains, as an RGB picture."""

from __future__ import annotations

import numpy as np

from digitpad.core.errors import ImageError

#: How opaque the hottest pixel is over the grey image.
MAX_ALPHA = 0.85


def heat_colours(level: np.ndarray) -> np.ndarray:
    """A black-red-yellow-white ("hot") colour per level in [0, 1]: float32 (..., 3) in [0, 1]."""
    t = np.clip(np.asarray(level, np.float32), 0.0, 1.0)[..., None]
    ramp = np.array([0.0, 1.0, 2.0], np.float32) / 3.0
    return np.clip((t - ramp) * 3.0, 0.0, 1.0)


def overlay_rgb(image: np.ndarray, heatmap: np.ndarray, *, scale: int = 10) -> np.ndarray:
    """The image in grey with the heatmap over it in hot colours, enlarged ``scale`` times.

    Parameters
    ----------
    image : numpy.ndarray
        float (H, W) in [0, 1], ink bright (e.g. the 28x28 model input).
    heatmap : numpy.ndarray
        float (H, W), >= 0 (any scale: it is divided by its maximum).
    scale : int
        Each pixel becomes a ``scale`` x ``scale`` block (nearest neighbour), at least 1.

    Returns
    -------
    numpy.ndarray
        uint8 (H*scale, W*scale, 3).

    Raises
    ------
    ImageError
        Shapes differ or are not 2-D, or ``scale`` is below 1.
    """
    img = np.clip(np.nan_to_num(np.asarray(image, np.float32)), 0.0, 1.0)
    heat = np.maximum(np.nan_to_num(np.asarray(heatmap, np.float32)), 0.0)
    if img.ndim != 2 or img.shape != heat.shape:
        raise ImageError(f"image {img.shape} and heatmap {heat.shape} must be the same 2-D shape.")
    if scale < 1:
        raise ImageError(f"the overlay scale must be at least 1, got {scale}.")
    peak = float(heat.max()) if heat.size else 0.0
    level = heat / peak if peak > 0.0 else heat
    alpha = (MAX_ALPHA * np.sqrt(level))[..., None]
    grey = np.repeat(0.6 * img[..., None], 3, axis=2)
    rgb = (1.0 - alpha) * grey + alpha * heat_colours(np.sqrt(level))
    rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    return np.round(rgb * 255.0).astype(np.uint8)


__all__ = ["MAX_ALPHA", "heat_colours", "overlay_rgb"]
