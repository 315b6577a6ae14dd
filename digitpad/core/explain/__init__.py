"""Seeing inside a digit classifier: layer activations and pixel attributions for one drawing.

Modules:

* :mod:`~digitpad.core.explain.graph` -- :func:`flat_graph`: one Keras graph replaying any model
  (nested and adapted ones included) with its convolutional and dense outputs exposed;
* :mod:`~digitpad.core.explain.activations` -- :class:`ActivationProbe`, :class:`Activation`;
* :mod:`~digitpad.core.explain.attribution` -- :class:`Attributor` (integrated gradients),
  :func:`to_heatmap`, :data:`METHODS`;
* :mod:`~digitpad.core.explain.mapping` -- :func:`heatmap_to_canvas`: a 28x28 heatmap back on the
  drawing, through the :class:`~digitpad.core.normalize.Normalized` steps;
* :mod:`~digitpad.core.explain.overlay` -- :func:`overlay_rgb`: a heatmap over its image, as RGB.

TensorFlow is imported only when a probe or attributor is built.
"""

from __future__ import annotations

from digitpad.core.explain.activations import Activation, ActivationProbe
from digitpad.core.explain.attribution import METHODS, Attributor, to_heatmap
from digitpad.core.explain.graph import flat_graph
from digitpad.core.explain.mapping import heatmap_to_canvas
from digitpad.core.explain.overlay import overlay_rgb

__all__ = [
    "METHODS",
    "Activation",
    "ActivationProbe",
    "Attributor",
    "flat_graph",
    "heatmap_to_canvas",
    "overlay_rgb",
    "to_heatmap",
]
