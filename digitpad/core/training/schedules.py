"""THE one definition of digitpad's optimizer and learning-rate schedule names.

The schedules are Keras' own (``keras.optimizers.schedules.CosineDecay`` with and without its
warm-up, ``PiecewiseConstantDecay``). They are *evaluated* per batch and the value is assigned to
the optimizer's plain float learning rate, so a saved model needs no custom objects to load.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from digitpad.core.errors import TrainingError
from digitpad.core.tfsetup import keras, tf

OPTIMIZERS = ("sgd", "adam", "adadelta", "rmsprop", "adamw", "nadam")
SCHEDULES = ("constant", "onecycle", "cosine", "step")

ONECYCLE_WARMUP = 0.2  # fraction of the steps spent warming up
ONECYCLE_START = 0.1  # warm-up starts at this fraction of the peak learning rate
STEP_AT = (0.5, 0.75)  # the "step" schedule divides the rate by 10 at these fractions of the steps


def make_optimizer(name: str, learning_rate: float, **kwargs: Any) -> Any:
    """Create a Keras optimizer by digitpad name with a plain float learning rate.

    Parameters
    ----------
    name
        One of :data:`OPTIMIZERS`.
    learning_rate
        The (initial) learning rate, stored as a plain float variable.
    **kwargs
        Passed to the Keras optimizer class (e.g. ``rho``, ``weight_decay``).

    Raises
    ------
    TrainingError
        ``name`` is not one of :data:`OPTIMIZERS`.
    """
    k = keras()
    classes = {
        "sgd": k.optimizers.SGD,
        "adam": k.optimizers.Adam,
        "adadelta": k.optimizers.Adadelta,
        "rmsprop": k.optimizers.RMSprop,
        "adamw": k.optimizers.AdamW,
        "nadam": k.optimizers.Nadam,
    }
    if name not in classes:
        raise TrainingError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}.")
    return classes[name](learning_rate=float(learning_rate), **kwargs)


def make_schedule(schedule: str, base: float, total: int, *, warmup: bool = True) -> Callable[[int], float]:
    """The learning rate of ``schedule`` as a function of the 0-based step of ``total`` steps.

    ``onecycle`` warms up linearly from 10 % to 100 % of ``base`` over the first 20 % of the steps
    and then follows a cosine down to 0 (``warmup=False``: the cosine part alone, for a continued
    run); ``cosine`` is the cosine alone; ``step`` divides by 10 at 50 % and again at 75 % of the
    steps; ``constant`` is ``base``. Steps outside ``[0, total]`` are clamped.

    Raises
    ------
    TrainingError
        ``schedule`` is not one of :data:`SCHEDULES`.
    """
    if schedule not in SCHEDULES:
        raise TrainingError(f"unknown schedule {schedule!r}; choose one of: {', '.join(SCHEDULES)}.")
    base = float(base)
    total = max(1, int(total))
    if schedule == "constant":
        return lambda step: base
    schedules = keras().optimizers.schedules
    if schedule == "step":
        # Keras switches when step > boundary; on whole steps this is "from ceil(f * total) on"
        boundaries = [math.ceil(f * total) - 0.5 for f in STEP_AT]
        rule = schedules.PiecewiseConstantDecay(boundaries, [base, base * 0.1, base * 0.01])
    elif schedule == "onecycle" and warmup:
        warm = ONECYCLE_WARMUP * total
        rule = schedules.CosineDecay(ONECYCLE_START * base, total - warm, warmup_target=base,
                                     warmup_steps=warm)
    else:
        rule = schedules.CosineDecay(base, total)
    T = tf()

    def lr(step: int) -> float:
        with T.device("/CPU:0"):  # a scalar: never worth a trip to an accelerator
            return float(rule(float(min(max(int(step), 0), total))))

    return lr


def lr_at(schedule: str, base: float, step: int, total: int, *, warmup: bool = True) -> float:
    """Learning rate of ``schedule`` at 0-based ``step`` of ``total`` steps (see :func:`make_schedule`)."""
    return make_schedule(schedule, base, total, warmup=warmup)(step)
