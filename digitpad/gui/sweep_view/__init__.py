"""Hyper-parameter sweeps in the GUI: :class:`SweepDialog` (controls, task, table, best run)
and :class:`SweepPlots` (live loss curves per value, accuracy against the value)."""

from __future__ import annotations

from digitpad.gui.sweep_view.dialog import DEFAULT_VALUES, SweepDialog, open_sweep
from digitpad.gui.sweep_view.plots import SweepPlots, value_colour

__all__ = ["SweepDialog", "open_sweep", "SweepPlots", "DEFAULT_VALUES", "value_colour"]
