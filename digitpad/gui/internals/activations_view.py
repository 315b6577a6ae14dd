"""Live activations: the feature maps of each convolutional layer as a grid, dense layers as strips.

The view draws :class:`digitpad.core.explain.Activation` objects; it computes nothing about the
model. One row per layer (title, then one pyqtgraph ``ImageItem``); the rows are created when the
model's layer list changes (:meth:`ActivationsView.set_layers`) and afterwards only
``setImage`` is called.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from digitpad.gui.internals.heat import ACTIVATION_MAP, lookup_table

#: Height in pixels of one layer's row (title and image).
ROW_PX = 72
#: Maps of a convolutional layer per row of its grid, at most.
MAX_COLUMNS = 16
#: Units of a dense layer per row of its strip, at most.
STRIP_COLUMNS = 32


def tile_maps(values: np.ndarray) -> np.ndarray:
    """Feature maps ``(H, W, C)`` as one 2-D grid in [0, 1], each map scaled to its own peak.

    Maps are laid out row by row, ``min(C, MAX_COLUMNS)`` per row, separated by one pixel of NaN
    (drawn transparent). Negative values count as zero (what a ReLU passes on).
    """
    v = np.asarray(values, dtype=np.float32)
    if v.ndim == 2:
        v = v[..., None]
    h, w, c = v.shape
    cols = max(1, min(c, MAX_COLUMNS, math.ceil(math.sqrt(c) * 2)))
    rows = math.ceil(c / cols)
    grid = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, dtype=np.float32)
    v = np.clip(np.nan_to_num(v), 0.0, None)
    peaks = v.reshape(-1, c).max(axis=0)
    scaled = v / np.where(peaks > 0, peaks, 1.0)
    for k in range(c):
        r, q = divmod(k, cols)
        grid[r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = scaled[..., k]
    return grid


def strip(values: np.ndarray) -> np.ndarray:
    """Dense units ``(N,)`` as a 2-D strip in [0, 1] (wrapped every STRIP_COLUMNS units)."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float32).reshape(-1))
    peak = float(np.abs(v).max()) if v.size else 0.0
    v = np.abs(v) / peak if peak > 0 else np.zeros_like(v)
    cols = max(1, min(v.size, STRIP_COLUMNS))
    rows = math.ceil(v.size / cols)
    out = np.full(rows * cols, np.nan, dtype=np.float32)
    out[: v.size] = v
    return out.reshape(rows, cols)


def layer_image(values: np.ndarray) -> np.ndarray:
    """The 2-D image drawn for one layer's activation values (grid or strip)."""
    v = np.asarray(values)
    return tile_maps(v) if v.ndim >= 2 else strip(v)


def _shape_text(values: np.ndarray) -> str:
    return "×".join(str(n) for n in np.asarray(values).shape)


class ActivationsView(QWidget):
    """The activations of the current drawing, one row per layer, in a scroll area."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Activations")
        title.setStyleSheet("font-weight: bold")
        title.setToolTip("What each layer computes from the drawing: a grid of the feature maps "
                         "of a convolutional layer (each scaled to its own peak), a strip of the "
                         "units of a dense layer. Bright = strongly active.")
        layout.addWidget(title)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(self.palette().color(self.backgroundRole()))
        self.graphics.ci.setContentsMargins(2, 2, 2, 2)
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setWidget(self.graphics)
        layout.addWidget(self._scroll, 1)
        self._lut = lookup_table(ACTIVATION_MAP)
        self._layers: list[tuple[str, str]] = []
        self._titles: list[pg.LabelItem] = []
        self._images: list[pg.ImageItem] = []
        self.updates = 0

    # ---------------------------------------------------------------- public API
    def layers(self) -> list[tuple[str, str]]:
        """The (name, kind) of the layers shown, in order."""
        return list(self._layers)

    def set_layers(self, layers: list[tuple[str, str]]) -> None:
        """Create one row per layer (only when the list differs from the rows shown)."""
        layers = [(str(n), str(k)) for n, k in layers]
        if layers == self._layers:
            return
        self.graphics.clear()
        self._layers, self._titles, self._images = layers, [], []
        for row, (name, kind) in enumerate(layers):
            label = self.graphics.addLabel(f"{name} · {kind}", row=2 * row, col=0, size="8pt")
            box = self.graphics.addViewBox(row=2 * row + 1, col=0, lockAspect=True,
                                           enableMouse=False, invertY=True)
            box.setMenuEnabled(False)
            image = pg.ImageItem(axisOrder="row-major")
            image.setLookupTable(self._lut)
            box.addItem(image)
            self._titles.append(label)
            self._images.append(image)
        self.graphics.setMinimumHeight(max(1, len(layers)) * ROW_PX)

    def show_activations(self, activations: list) -> None:
        """Draw a list of ``Activation`` (``layer``, ``kind``, ``values``) in the rows."""
        self.set_layers([(a.layer, a.kind) for a in activations])
        for act, title, image in zip(activations, self._titles, self._images, strict=True):
            image.setImage(layer_image(act.values), levels=(0.0, 1.0), autoLevels=False)
            text = f"{act.layer} · {act.kind} · {_shape_text(act.values)}"
            if title.text != text:   # setText re-lays out the whole graphics layout
                title.setText(text)
        self.updates += 1

    def clear_activations(self) -> None:
        """Empty every row's image (blank pad or no model); the rows stay."""
        for image in self._images:
            image.clear()

    def image(self, index: int) -> np.ndarray | None:
        """The array drawn in row ``index`` (None when cleared)."""
        return self._images[index].image
