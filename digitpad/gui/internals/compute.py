"""The worker side of the live internals: one job turns a drawing into activations and attribution.

Everything computational is the core's (:mod:`digitpad.core.explain`); this module only holds a
model's ``ActivationProbe`` and ``Attributor`` (built on first use, in the worker: they build
Keras sub-models and ``tf.function`` graphs) and bundles their outputs for the views. Jobs of one
:class:`ModelTools` never overlap: they are run through a
:class:`~digitpad.gui.internals.coalesce.LatestOnly`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class InternalsResult:
    """What one job computed for one drawing."""

    tools: ModelTools                  # whose model computed it (a newer model drops it)
    image28: np.ndarray                # float32 (28, 28): the input explained
    target: int                        # the digit explained
    activations: list | None           # digitpad.core.explain.Activation per layer, or None
    heatmap: np.ndarray | None         # float32 (28, 28) >= 0, sums to 1, or None
    canvas_heat: np.ndarray | None     # the heatmap on the picture's shape, or None
    method: str = ""                   # attribution method
    canvas_rgba: np.ndarray | None = None   # canvas_heat coloured (heat.heat_rgba), or None


class ModelTools:
    """The probe and attributor of one model, created on first use (in a worker thread)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._probe = None
        self._attributor = None

    def probe(self):
        """The model's ``ActivationProbe`` (built once)."""
        if self._probe is None:
            from digitpad.core.explain import ActivationProbe

            self._probe = ActivationProbe(self.model)
        return self._probe

    def attributor(self):
        """The model's ``Attributor`` (built once)."""
        if self._attributor is None:
            from digitpad.core.explain import Attributor

            self._attributor = Attributor(self.model)
        return self._attributor


def compute_internals(tools: ModelTools, normalized: Any, canvas_shape: tuple[int, int],
                      target: int, *, activations: bool, attribution: bool) -> InternalsResult:
    """Worker: the activations and/or the attribution of one normalised drawing.

    Parameters
    ----------
    tools
        The model's probe and attributor.
    normalized
        The drawing's :class:`~digitpad.core.normalize.Normalized` (not blank).
    canvas_shape
        Shape of the picture it was normalised from (the pad's canvas or an opened image).
    target
        The digit to explain.
    activations, attribution
        Which of the two to compute.
    """
    image = np.asarray(normalized.image, dtype=np.float32)
    acts = tools.probe()(image) if activations else None
    heat = canvas = rgba = None
    method = ""
    if attribution:
        from digitpad.core.explain import heatmap_to_canvas

        attributor = tools.attributor()
        heat = np.asarray(attributor(image, int(target)), dtype=np.float32)
        canvas = np.asarray(heatmap_to_canvas(heat, normalized, tuple(canvas_shape)), np.float32)
        method = str(getattr(attributor, "method", ""))
        from digitpad.gui.internals.heat import heat_rgba

        rgba = heat_rgba(canvas)   # here, not on the GUI thread (a few ms for a 280×280 pad)
    return InternalsResult(tools, image, int(target), acts, heat, canvas, method, rgba)
