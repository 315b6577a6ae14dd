"""What the training engine reports and returns: progress events, run status and results."""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from digitpad.core.tfsetup import keras, tf
from digitpad.core.training.config import TrainConfig


class RunStatus(StrEnum):
    """How a run ended. The human ``reason`` next to it says the details."""

    COMPLETED = "completed"  # every planned epoch trained
    STOPPED = "stopped"  # the user asked it to stop
    DIVERGED = "diverged"  # the loss became NaN/infinite or blew up
    FAILED = "failed"  # an error ended it (bad data, out of memory, ...)


@dataclass
class Progress:
    """One report from the engine, sent from the training thread.

    Kinds: ``start`` (once per run, before the first batch), ``batch`` (every ``batch_interval``
    batches, the last batch of an epoch and the batch a stop or fault ended on; logs hold the
    running ``loss``/``accuracy`` of the epoch and ``lr``), ``epoch`` (after each completed epoch;
    logs add ``val_loss``/``val_accuracy`` when there is a validation split), ``message`` (a
    note for the user in ``message``) and ``end`` (once; ``message`` is the end reason and logs hold
    ``test_accuracy``/``test_loss`` when measured). ``step`` counts batches over the trainer's
    life and only grows; ``epoch``/``epochs`` count over the trainer's life too, so a continued run
    goes on from where the previous one ended. ``eta_s`` is the training time left in this run.

    ``epoch_float`` is ``step / batches``: the epochs trained so far as a number that only grows
    (also across a stop inside an epoch and a continue), the x of per-batch and per-epoch plots.
    ``fold``/``folds`` are set on every event of a k-fold run (1-based fold, number of folds).
    """

    kind: str
    epoch: int
    epochs: int
    batch: int
    batches: int
    step: int
    logs: dict[str, float]
    elapsed: float
    samples_per_s: float
    eta_s: float | None
    message: str = ""
    epoch_float: float = 0.0
    fold: int | None = None
    folds: int | None = None

    def where(self) -> str:
        """Where the run is, for a status line: ``"fold 2/5 · epoch 1/3 · batch 17/422"``."""
        parts = []
        if self.fold is not None and self.folds:
            parts.append(f"fold {self.fold}/{self.folds}")
        if self.epochs:
            parts.append(f"epoch {max(self.epoch, 1)}/{self.epochs}")
        if self.kind == "batch" and self.batches:
            parts.append(f"batch {self.batch}/{self.batches}")
        return " · ".join(parts)


@dataclass
class TrainResult:
    """What a run produced: the model, per-epoch history, how and why it ended and its metrics.

    ``status`` is the typed outcome and ``reason`` the human sentence ("completed", "stopped by
    user in epoch 1 after 400 of 422 batches (0 full epochs done); ..."). ``batches_done`` counts
    the batches trained in the run's last epoch (``batches`` when it finished, fewer when a stop
    ended it inside the epoch); ``step`` the batches over the trainer's life. ``restored_epoch`` is
    the epoch whose weights were put back at the end (best validation epoch), else ``None``.
    """

    model: Any
    history: dict[str, list[float]]
    reason: str
    epochs_done: int
    best_epoch: int | None
    test_accuracy: float | None
    test_loss: float | None
    device: str
    elapsed: float
    config: TrainConfig
    data_source: str = ""
    params: int = 0
    samples_per_s: float = 0.0
    status: RunStatus = RunStatus.COMPLETED
    batches_done: int = 0
    batches: int = 0
    step: int = 0
    restored_epoch: int | None = None
    calibration: dict | None = None  # calibration.calibration_metadata of a completed run

    @property
    def stopped(self) -> bool:
        """True when the user stopped the run."""
        return self.status is RunStatus.STOPPED

    @property
    def epoch_float(self) -> float:
        """Epochs trained over the trainer's life, counting a partial epoch's batches."""
        return self.step / self.batches if self.batches else float(self.epochs_done)

    def metadata(self) -> dict:
        """JSON-able description of the run (stored inside saved model files)."""
        import digitpad

        def num(value: float | None) -> float | None:
            return None if value is None or not math.isfinite(value) else float(value)

        calibration = {"calibration": self.calibration} if self.calibration else {}
        return {
            **calibration,
            "arch": self.config.arch,
            "config": self.config.to_dict(),
            "history": {key: [num(v) for v in vals] for key, vals in self.history.items()},
            "test_accuracy": num(self.test_accuracy),
            "test_loss": num(self.test_loss),
            "best_epoch": self.best_epoch,
            "epochs_done": self.epochs_done,
            "stopped": self.stopped,
            "status": self.status.value,
            "reason": self.reason,
            "device": self.device,
            "elapsed": round(float(self.elapsed), 3),
            "samples_per_s": round(float(self.samples_per_s), 1),
            "params": int(self.params),
            "data": self.data_source,
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "versions": {
                "digitpad": digitpad.__version__,
                "keras": keras().__version__,
                "tensorflow": tf().__version__,
            },
        }


@dataclass
class EvalResult:
    """Accuracy, loss, per-class accuracy and confusion matrix (rows = true digit)."""

    accuracy: float
    loss: float
    per_class: list[float]
    confusion: np.ndarray
    n: int


@dataclass
class KFoldResult:
    """Per-fold test accuracies with their mean and (population) standard deviation.

    ``histories`` are the folds' per-epoch curves; ``status``/``reason`` say how the whole
    cross-validation ended (a stop or a diverged fold ends it early).
    """

    accuracies: list[float]
    mean: float
    std: float
    histories: list[dict]
    k: int = 0
    status: RunStatus = RunStatus.COMPLETED
    reason: str = "completed"
    device: str = ""
    elapsed: float = 0.0

    @property
    def stopped(self) -> bool:
        """True when the user stopped the cross-validation."""
        return self.status is RunStatus.STOPPED
