"""numpy arrays as 8-bit grey ``QImage``s (ink bright), for the pad and the previews."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

from digitpad.gui.strokes import PAPER


def array_to_qimage(arr: np.ndarray) -> QImage:
    """Convert a 2-D float array in [0, 1] (or uint8) into an independent 8-bit grey QImage."""
    a = np.asarray(arr)
    if a.dtype != np.uint8:
        a = np.clip(np.nan_to_num(a.astype(np.float32)), 0.0, 1.0)
        a = (a * 255.0 + 0.5).astype(np.uint8)
    a = np.ascontiguousarray(a)
    h, w = a.shape
    image = QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8)
    return image.copy()  # own the pixels: ``a`` may go away


def fit_into_square(arr: np.ndarray, side: int) -> QImage:
    """``arr`` (2-D, ink bright) smooth-scaled into a ``side``×``side`` grey image, aspect kept, centred."""
    src = array_to_qimage(arr)
    square = QImage(side, side, QImage.Format.Format_Grayscale8)
    square.fill(PAPER)
    scale = side / max(src.width(), src.height())
    w = max(1, round(src.width() * scale))
    h = max(1, round(src.height() * scale))
    scaled = src.scaled(
        w, h, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    p = QPainter(square)
    p.drawImage((side - w) // 2, (side - h) // 2, scaled)
    p.end()
    return square
