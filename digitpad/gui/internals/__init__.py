"""Live internals of the Recognize tab: activations and attribution of the drawing.

Modules:

* :mod:`~digitpad.gui.internals.panel` -- :class:`InternalsPanel`: toggles, views, pad overlay,
  coalesced jobs;
* :mod:`~digitpad.gui.internals.coalesce` -- :class:`LatestOnly`: one job in flight, one pending;
* :mod:`~digitpad.gui.internals.compute` -- the worker job over ``digitpad.core.explain``;
* :mod:`~digitpad.gui.internals.activations_view` -- feature-map grids and dense strips;
* :mod:`~digitpad.gui.internals.attribution_view` -- the heatmap over the 28×28 input and the pad;
* :mod:`~digitpad.gui.internals.heat` -- colour maps and RGBA heat images.
"""

from __future__ import annotations

from digitpad.gui.internals.coalesce import LatestOnly
from digitpad.gui.internals.panel import InternalsPanel

__all__ = ["InternalsPanel", "LatestOnly"]
