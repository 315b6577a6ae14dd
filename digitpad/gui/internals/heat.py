"""Colour for the internals views: heatmaps as translucent RGBA images, grids as 8-bit lookups."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage

#: Colour map of attribution heatmaps (dark red to yellow) and of activations.
HEAT_MAP = "inferno"
ACTIVATION_MAP = "viridis"

#: Opacity (0..255) of the hottest pixel of an overlay; cold pixels are fully transparent.
OVERLAY_ALPHA = 190


def lookup_table(name: str) -> np.ndarray:
    """A (256, 3) uint8 colour table of pyqtgraph's colour map ``name``."""
    return pg.colormap.get(name).getLookupTable(nPts=256, alpha=False).astype(np.uint8)


_HEAT_LUT: np.ndarray | None = None


def heat_rgba(heat: np.ndarray, *, alpha: int = OVERLAY_ALPHA) -> np.ndarray:
    """A (H, W, 4) uint8 image of a non-negative heatmap: colour and opacity grow with the heat.

    The hottest pixel gets opacity ``alpha``; an all-zero heatmap is fully transparent.
    """
    global _HEAT_LUT
    if _HEAT_LUT is None:
        _HEAT_LUT = lookup_table(HEAT_MAP)
    h = np.nan_to_num(np.asarray(heat, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    h = np.clip(h, 0.0, None)
    peak = float(h.max()) if h.size else 0.0
    level = h / peak if peak > 0 else np.zeros_like(h)
    index = np.clip((0.35 + 0.65 * level) * 255.0, 0, 255).astype(np.uint8)
    rgba = np.empty(h.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = _HEAT_LUT[index]
    rgba[..., 3] = np.clip(np.sqrt(level) * alpha, 0, 255).astype(np.uint8)
    return rgba


def blend_on_grey(base01: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """(H, W, 4) opaque uint8: the grey image ``base01`` (in [0, 1]) dimmed, the heat over it."""
    grey = np.clip(np.asarray(base01, dtype=np.float32), 0.0, 1.0) * 150.0
    over = heat_rgba(heat, alpha=255).astype(np.float32)
    a = over[..., 3:4] / 255.0
    rgb = over[..., :3] * a + grey[..., None] * (1.0 - a)
    out = np.empty(grey.shape + (4,), dtype=np.uint8)
    out[..., :3] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    out[..., 3] = 255
    return out


def rgba_qimage(rgba: np.ndarray) -> QImage:
    """An independent QImage (RGBA8888) of a (H, W, 4) uint8 array."""
    a = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
