"""The Qt-free training engine and its session layer (one module per job).

* :mod:`.config` – :class:`TrainConfig` and its validation
* :mod:`.schedules` – optimizer and schedule names, :func:`make_optimizer`, :func:`lr_at`
* :mod:`.events` – :class:`Progress`, :class:`RunStatus`, :class:`TrainResult`, results
* :mod:`.pipeline` – the ``tf.data`` input pipeline and augmentation
* :mod:`.callbacks` – the trainer's small Keras callbacks
* :mod:`.trainer` – :class:`Trainer`, the stoppable engine
* :mod:`.evaluate` – :func:`evaluate`
* :mod:`.kfold` – :func:`kfold`
* :mod:`.session` – :class:`TrainingSession` and :func:`run_kfold`: runs that record themselves

TensorFlow is imported only when something trains, evaluates or builds a schedule.
"""

from __future__ import annotations

from digitpad.core.archs import NUM_CLASSES
from digitpad.core.training.callbacks import DIVERGED_LOSS
from digitpad.core.training.config import TrainConfig
from digitpad.core.training.evaluate import evaluate
from digitpad.core.training.events import EvalResult, KFoldResult, Progress, RunStatus, TrainResult
from digitpad.core.training.kfold import kfold
from digitpad.core.training.pipeline import AUG_MAX_ROTATION_DEG, AUG_MAX_SHIFT_PX, AUG_MAX_ZOOM
from digitpad.core.training.schedules import (
    ONECYCLE_START,
    ONECYCLE_WARMUP,
    OPTIMIZERS,
    SCHEDULES,
    lr_at,
    make_optimizer,
    make_schedule,
)
from digitpad.core.training.session import TrainingSession, failure_reason, run_kfold
from digitpad.core.training.trainer import MIN_CALLS_PER_EPOCH, STEPS_PER_EXECUTION, Trainer

__all__ = [
    "OPTIMIZERS", "SCHEDULES", "TrainConfig", "Progress", "TrainResult", "Trainer", "EvalResult",
    "evaluate", "KFoldResult", "kfold", "make_optimizer", "lr_at", "make_schedule",
    "STEPS_PER_EXECUTION", "MIN_CALLS_PER_EPOCH", "NUM_CLASSES", "DIVERGED_LOSS",
    "ONECYCLE_WARMUP", "ONECYCLE_START", "AUG_MAX_ROTATION_DEG", "AUG_MAX_ZOOM", "AUG_MAX_SHIFT_PX",
    "RunStatus", "TrainingSession", "run_kfold", "failure_reason",
]
