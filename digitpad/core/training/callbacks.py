"""Small Keras callbacks for the trainer, one concern each, and the run's batch counter.

* :class:`RunCounter` counts the batches and samples of a run and estimates its rate and ETA.
* :class:`ProgressReporter` counts each batch and reports every ``batch_interval`` batches, the
  last batch of an epoch and the batch a stop or fault ended ``fit`` on.
* :class:`LearningRateSetter` assigns the schedule's value to the optimizer's plain float
  learning rate before each call of the train function.
* ``keras.callbacks.TerminateOnNaN`` ends ``fit`` at a NaN or infinite loss;
  :class:`DivergenceGuard` ends it at a finite loss above :data:`DIVERGED_LOSS`.
* :class:`StopFlag` ends ``fit`` after the batch in flight once the stop event is set.

Keras calls them in list order; :func:`engine_callbacks` builds the list in the order that makes
a stop requested from a progress report take effect in the same batch.

Keras sends ``on_train_batch_end`` once per call of the train function, i.e. every
``steps_per_execution`` batches, with the 0-based index of that call's last batch.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from digitpad.core.tfsetup import keras

# A mean cross-entropy above this means the run has blown up (chance level is ln 10 = 2.3; Keras
# computes the loss from the logits under the softmax, so a diverged run can stay finite).
DIVERGED_LOSS = 1e3


class RunCounter:
    """Batches, samples and time of one run; ``step`` carries on over the trainer's life."""

    def __init__(self, *, batches: int, batch_size: int, n_train: int, planned_steps: int,
                 step: int, lr: float) -> None:
        self.batches = batches
        self.batch_size = batch_size
        self.n_train = n_train
        self.planned_steps = planned_steps
        self.step = step
        self.run_step = 0
        self.samples = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.lr = lr
        self.logs: dict[str, float] = {}
        self.started = time.perf_counter()
        self._first_end: float | None = None
        self._first_steps = 0

    def begin_epoch(self, epoch: int) -> None:
        """Start counting the batches of ``epoch`` (1-based, over the trainer's life)."""
        self.epoch = epoch
        self.batch_in_epoch = 0
        self.logs = {}

    def count(self, batch: int, logs: dict | None) -> int:
        """Record the end of the call whose last batch is ``batch``; return how many it trained."""
        batch = min(batch, self.batches - 1)  # Keras reports a whole call's end past the last batch
        done = batch + 1 - self.batch_in_epoch
        self.step += done
        self.run_step += done
        self.batch_in_epoch = batch + 1
        bs, n = self.batch_size, self.n_train
        self.samples += min(n, (batch + 1) * bs) - min(n, (batch + 1 - done) * bs)
        if self._first_end is None:
            self._first_end = time.perf_counter()
            self._first_steps = self.run_step
        self.logs = {key: float(v) for key, v in (logs or {}).items()}
        return done

    @property
    def epoch_done(self) -> bool:
        """Whether every batch of the current epoch has been trained."""
        return self.batch_in_epoch >= self.batches

    @property
    def epoch_float(self) -> float:
        """Batches trained over the trainer's life divided by the batches of an epoch."""
        return self.step / self.batches if self.batches else 0.0

    def rate(self, now: float) -> float:
        """Training images per second in this run so far."""
        dt = now - self.started
        return self.samples / dt if dt > 0 and self.samples else 0.0

    def eta(self, now: float) -> float | None:
        """Seconds of training left in this run (None until two calls have been timed)."""
        if self._first_end is None or self.run_step <= self._first_steps:
            return None
        per_batch = (now - self._first_end) / (self.run_step - self._first_steps)
        return max(0.0, (self.planned_steps - self.run_step) * per_batch)


def fault_reason(counter: RunCounter) -> str | None:
    """Why :class:`DivergenceGuard` or ``TerminateOnNaN`` ended the epoch, from its last loss."""
    loss = counter.logs.get("loss")
    if loss is None:
        return None
    where = f"at epoch {counter.epoch}, batch {counter.batch_in_epoch}"
    if not math.isfinite(loss):
        return f"loss became {'NaN' if math.isnan(loss) else 'infinite'} {where}"
    if loss > DIVERGED_LOSS:
        return f"loss diverged to {loss:.3g} {where} (the learning rate is too high)"
    return None


def _plural(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def stop_reason(counter: RunCounter, epochs_done: int) -> str:
    """The reason of a user stop: where it happened and that the weights so far are kept."""
    full = f"({_plural(epochs_done, 'full epoch')} done)"
    if counter.batch_in_epoch == 0:
        where = f"before epoch {counter.epoch} began {full}"
    else:
        where = (f"in epoch {counter.epoch} after {counter.batch_in_epoch} of "
                 f"{_plural(counter.batches, 'batch', 'batches')} {full}")
    return f"stopped by user {where}; the weights trained so far are kept"


class ProgressReporter:
    """Counts every call's batches and calls ``report()`` when a report is due."""

    def __init__(self, counter: RunCounter, report: Callable[[], None], batch_interval: int) -> None:
        self.counter = counter
        self.report = report
        self.interval = max(1, int(batch_interval))
        self._pending = False

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        c = self.counter
        done = c.count(batch, logs)
        if c.run_step // self.interval > (c.run_step - done) // self.interval or c.epoch_done:
            self._pending = False
            self.report()
        else:
            self._pending = True

    def on_train_end(self, logs: dict | None = None) -> None:
        """``fit`` ended early (stop or fault) on a batch that was not reported yet."""
        if self._pending:
            self._pending = False
            self.report()


class LearningRateSetter:
    """Sets the optimizer's learning rate to ``schedule(run step)`` before each call."""

    def __init__(self, model: Any, counter: RunCounter, schedule: Callable[[int], float]) -> None:
        self.model = model
        self.counter = counter
        self.schedule = schedule

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        lr = self.schedule(self.counter.run_step)
        self.model.optimizer.learning_rate = lr
        self.counter.lr = lr


class DivergenceGuard:
    """Ends ``fit`` when the loss is finite but above ``limit`` (NaN/inf: ``TerminateOnNaN``)."""

    def __init__(self, model: Any, limit: float = DIVERGED_LOSS) -> None:
        self.model = model
        self.limit = limit

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and math.isfinite(float(loss)) and float(loss) > self.limit:
            self.model.stop_training = True


class StopFlag:
    """Ends ``fit`` after the batch in flight once ``event`` is set."""

    def __init__(self, model: Any, event: threading.Event) -> None:
        self.model = model
        self.event = event

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.event.is_set():
            self.model.stop_training = True


_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_train_end")


def as_keras(concern: Any) -> Any:
    """A ``keras.callbacks.LambdaCallback`` calling the ``on_train_*`` methods of ``concern``."""
    hooks = {name: getattr(concern, name) for name in _HOOKS if hasattr(concern, name)}
    return keras().callbacks.LambdaCallback(**hooks)


def engine_callbacks(model: Any, counter: RunCounter, *, report: Callable[[], None],
                     batch_interval: int, stop_event: threading.Event,
                     schedule: Callable[[int], float] | None) -> list:
    """The trainer's callbacks in the order Keras must call them.

    The reporter comes first so that a stop requested from a report (or a fault in that batch)
    is seen by the guards behind it and ends ``fit`` after that very batch.
    """
    concerns: list[Any] = []
    if schedule is not None:
        concerns.append(LearningRateSetter(model, counter, schedule))
    concerns.append(ProgressReporter(counter, report, batch_interval))
    callbacks = [as_keras(c) for c in concerns]
    callbacks.append(keras().callbacks.TerminateOnNaN())
    callbacks += [as_keras(DivergenceGuard(model)), as_keras(StopFlag(model, stop_event))]
    return callbacks
