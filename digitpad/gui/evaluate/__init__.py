"""The Evaluate tab and its parts.

Modules:

* :mod:`~digitpad.gui.evaluate.tab` -- :class:`EvaluateTab`: evaluate the model in use, results
  per model for the session, confusion matrix -> gallery -> Recognize;
* :mod:`~digitpad.gui.evaluate.confusion` -- the clickable confusion-matrix heatmap;
* :mod:`~digitpad.gui.evaluate.class_bars` -- accuracy per digit;
* :mod:`~digitpad.gui.evaluate.gallery` -- thumbnails of test images with true/predicted/confidence;
* :mod:`~digitpad.gui.evaluate.robustness_page` / :mod:`~digitpad.gui.evaluate.robustness_plot`
  -- robustness curves, a second model overlaid;
* :mod:`~digitpad.gui.evaluate.jobs` -- the worker jobs over the core.
"""

from __future__ import annotations

from digitpad.gui.evaluate.tab import EvaluateTab

__all__ = ["EvaluateTab"]
