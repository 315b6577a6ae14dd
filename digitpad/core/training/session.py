"""The Qt-free session layer: one owner of a training run's life, stop flag and run history.

A :class:`TrainingSession` is what a GUI tab, the command line or a script holds for "the model
being trained": it starts a run, continues it, stops it, keeps the last :class:`TrainResult`
with its typed :class:`RunStatus`, and appends every run (failed ones too) to the run history
(:mod:`digitpad.core.history`). :func:`run_kfold` does the same for a k-fold cross-validation.

Stop semantics: :meth:`TrainingSession.request_stop` may be called from any thread at any time.
A stop requested while no run is in progress (before it starts, while it is being set up, or
before a continue) stops the next run before its first batch; ``continue_training`` does not
clear it. The request is consumed when the run it stopped (or found) ends.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from digitpad.core.data import Dataset
from digitpad.core.errors import DigitpadError, TrainingError
from digitpad.core.history import append_run, kfold_record, run_record
from digitpad.core.training.config import TrainConfig, check_int
from digitpad.core.training.events import KFoldResult, Progress, RunStatus, TrainResult
from digitpad.core.training.kfold import kfold
from digitpad.core.training.trainer import Trainer


def failure_reason(exc: BaseException) -> str:
    """One sentence for the user describing the error that ended a run."""
    if isinstance(exc, DigitpadError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"unexpected {name}: {text}" if text else f"unexpected {name}."


def _append(record: dict, on_progress: Callable[[Progress], None] | None) -> str | None:
    """Append ``record`` to the run history; the error sentence if that failed (never raises)."""
    try:
        append_run(record)
    except (OSError, TypeError, ValueError) as exc:  # a full disk must not lose the trained model
        error = f"the run history was not updated: {exc}"
        if on_progress is not None:
            on_progress(Progress("message", 0, 0, 0, 0, 0, {}, 0.0, 0.0, None, message=error))
        return error
    return None


class TrainingSession:
    """Starts, continues and stops the training of one model and records every run.

    Parameters
    ----------
    config
        The run's configuration, checked here: a bad value raises :class:`TrainingError` (no
        run started, nothing recorded).
    dataset
        Data to train on; ``None`` loads ``config.data``.
    model
        An existing Keras model to train further (see :class:`Trainer`).
    on_progress
        Called from the training thread with each :class:`Progress`; may be replaced between
        runs (the attribute is read at every report).
    batch_interval
        Send a ``batch`` progress every this many batches.
    record
        Append each run to the run history.
    kind
        The history record's kind of the first run (later runs are ``"continue"``).

    Attributes
    ----------
    trainer
        The :class:`Trainer` (created in the thread of the first run; ``None`` before).
    result
        The last run's :class:`TrainResult` (a failed run's too), ``None`` before the first.
    records
        The history records of this session's runs, oldest first.
    record_error
        Why the last record could not be written, or ``None``.
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        dataset: Dataset | None = None,
        model: Any = None,
        on_progress: Callable[[Progress], None] | None = None,
        batch_interval: int = 1,
        record: bool = True,
        kind: str = "train",
    ) -> None:
        config.resolved()  # TrainingError/ArchitectureError now, before anything starts
        self.config = config
        self.dataset = dataset
        self.on_progress = on_progress
        self.batch_interval = batch_interval
        self.record = record
        self.kind = kind
        self.trainer: Trainer | None = None
        self.result: TrainResult | None = None
        self.records: list[dict] = []
        self.record_error: str | None = None
        self._model = model
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._runs = 0

    @property
    def running(self) -> bool:
        """Whether a run is in progress (from its start until its record is written)."""
        return self._lock.locked()

    @property
    def stop_requested(self) -> bool:
        """Whether a stop was requested and not yet consumed by the end of a run."""
        return self._stop.is_set()

    @property
    def model(self) -> Any:
        """The model being trained (``None`` before the first run built it)."""
        return self.trainer.model if self.trainer is not None else self._model

    def request_stop(self) -> None:
        """Stop the run in progress after the batch in flight, or the next run before it begins.

        Thread-safe and idempotent.
        """
        self._stop.set()

    def run(self) -> TrainResult:
        """Train for ``config.epochs`` epochs (after the first run: continue for as many more).

        Raises
        ------
        TrainingError
            A run is already in progress, or the configuration or data are unusable.
        DigitpadError
            Anything else that made the run fail (recorded as ``failed`` first).
        """
        return self._run(None)

    def continue_training(self, epochs: int) -> TrainResult:
        """Train ``epochs`` more epochs with the same model, optimizer state and step counter."""
        check_int(epochs, "epochs", 1)
        return self._run(int(epochs))

    def _run(self, epochs: int | None) -> TrainResult:
        if not self._lock.acquire(blocking=False):
            raise TrainingError("training is already running; stop it before starting again.")
        kind = self.kind if self._runs == 0 else "continue"
        try:
            try:
                if self.trainer is None:
                    self.trainer = Trainer(self.config, dataset=self.dataset, model=self._model,
                                           on_progress=self._report,
                                           batch_interval=self.batch_interval,
                                           stop_event=self._stop)
                trainer = self.trainer
                result = trainer.run() if epochs is None else trainer.continue_training(epochs)
            except Exception as exc:
                self.result = self._failed(exc)
                self._record(run_record(self.result, kind=kind))
                raise
            self.result = result
            self._record(run_record(result, kind=kind))
            return result
        finally:
            self._stop.clear()  # the request is consumed by the run it ended
            self._runs += 1
            self._lock.release()

    def _report(self, p: Progress) -> None:
        if self.on_progress is not None:
            self.on_progress(p)

    def _failed(self, exc: BaseException) -> TrainResult:
        reason = failure_reason(exc)
        if self.trainer is not None:
            return self.trainer.result(RunStatus.FAILED, reason)
        return TrainResult(model=self._model, history={}, reason=reason, epochs_done=0,
                           best_epoch=None, test_accuracy=None, test_loss=None, device="",
                           elapsed=0.0, config=self.config, status=RunStatus.FAILED)

    def _record(self, record: dict) -> None:
        self.records.append(record)
        self.record_error = _append(record, self.on_progress) if self.record else None


def run_kfold(
    config: TrainConfig,
    k: int = 5,
    *,
    dataset: Dataset | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop_event: threading.Event | None = None,
    record: bool = True,
    kind: str = "kfold",
) -> KFoldResult:
    """:func:`~digitpad.core.training.kfold.kfold` plus its run-history record.

    A failed cross-validation is recorded with status ``failed`` and its reason, then its error
    is raised again. Parameters and result as for ``kfold``; ``record``/``kind`` as for
    :class:`TrainingSession`.
    """
    try:
        result = kfold(config, k, dataset=dataset, on_progress=on_progress, stop_event=stop_event)
    except Exception as exc:
        if record:
            failed = KFoldResult([], math.nan, math.nan, [], k=k if isinstance(k, int) else 0,
                                 status=RunStatus.FAILED, reason=failure_reason(exc))
            _append(kfold_record(failed, _resolved_or_given(config), kind=kind), on_progress)
        raise
    if record:
        _append(kfold_record(result, _resolved_or_given(config), kind=kind), on_progress)
    return result


def _resolved_or_given(config: TrainConfig) -> TrainConfig:
    try:
        return config.resolved()
    except DigitpadError:
        return config
