"""After a completed run: fit the confidence temperature on the validation images.

The fitted :func:`~digitpad.core.calibration.calibration_metadata` becomes
``TrainResult.calibration`` and so the ``"calibration"`` entry of the saved model's metadata,
which every :class:`~digitpad.core.inference.Predictor` built from the file applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from digitpad.core.calibration import calibration_metadata
from digitpad.core.tfsetup import tf
from digitpad.core.training.evaluate import predict_probabilities

#: Fewer validation images than this give no temperature (too noisy to fit one number on).
MIN_VALIDATION = 20


def fit_on_validation(model: Any, x_val: np.ndarray | None, y_val: np.ndarray | None,
                      device: str, on_message: Callable[[str], None] | None = None, *,
                      probs: np.ndarray | None = None) -> dict | None:
    """Fit a temperature on held-out images; ``None`` when there are too few of them.

    Parameters
    ----------
    model
        The trained Keras classifier (softmax output).
    x_val, y_val
        float32 ``(N, 28, 28, 1)`` validation images and their ``(N,)`` labels (None: none).
    device
        TensorFlow device to predict on (``"/CPU:0"``, ...).
    on_message
        Receives one sentence about the fitted temperature.
    probs
        The model's probabilities on ``x_val`` when already predicted (the trainer's last
        validation of these weights); predicted here when ``None``.
    """
    if x_val is None or y_val is None or len(x_val) < MIN_VALIDATION:
        return None
    if probs is None:
        with tf().device(device):
            probs = predict_probabilities(model, x_val)
    cal = calibration_metadata(probs, y_val, fitted_on=f"validation split ({len(y_val)} images)")
    if on_message is not None:
        on_message(f"confidence calibrated: temperature {cal['temperature']:.3g} (validation "
                   f"ECE {cal['ece_before']:.1%} -> {cal['ece_after']:.1%}).")
    return cal
