"""Colour for the internals views: heatmaps as translucent RGBA images, grids as lookups.

The heat colours and opacities are the core's (:mod:`digitpad.core.explain.overlay`, the same as
``digitpad explain --out`` draws), with an alpha channel so the pad shows through.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage

from digitpad.core.explain.overlay import MAX_ALPHA, heat_colours, overlay_rgb

#: Colour map of the activation grids.
ACTIVATION_MAP = "viridis"


def lookup_table(name: str) -> np.ndarray:
    """A (256, 3) uint8 colour table of pyqtgraph's colour map ``name``."""
    return pg.colormap.get(name).getLookupTable(nPts=256, alpha=False).astype(np.uint8)


def heat_rgba(heat: np.ndarray) -> np.ndarray:
    """A (H, W, 4) uint8 image of a non-negative heatmap: hot colours, opacity growing with heat.

    Colours and opacity are those of :func:`~digitpad.core.explain.overlay.overlay_rgb`; an
    all-zero heatmap is fully transparent.
    """
    h = np.maximum(np.nan_to_num(np.asarray(heat, dtype=np.float32)), 0.0)
    peak = float(h.max()) if h.size else 0.0
    level = np.sqrt(h / peak) if peak > 0 else np.zeros_like(h)
    rgba = np.empty(h.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = np.round(heat_colours(level) * 255.0).astype(np.uint8)
    rgba[..., 3] = np.round(MAX_ALPHA * level * 255.0).astype(np.uint8)
    return rgba


def overlay_qimage(image28: np.ndarray, heatmap28: np.ndarray, scale: int) -> QImage:
    """The core's :func:`overlay_rgb` of an image and its heatmap, as an independent QImage."""
    rgb = np.ascontiguousarray(overlay_rgb(image28, heatmap28, scale=scale))
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def rgba_qimage(rgba: np.ndarray) -> QImage:
    """An independent QImage (RGBA8888) of a (H, W, 4) uint8 array."""
    a = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
