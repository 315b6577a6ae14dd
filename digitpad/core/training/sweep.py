"""Hyper-parameter sweeps: one parameter over a list of values, everything else fixed.

A :class:`Sweep` checks every value against the base configuration first (an unknown parameter or
a value that does not fit is one :class:`TrainingError` sentence, before anything trains), then
trains one run per value, one after another, each through a :class:`TrainingSession`. Every run
is appended to the run history with ``kind: "sweep"`` and a ``sweep`` entry (id, parameter,
value, index, count). Stopping ends the run in progress (it is kept, as ``stopped``) and skips
the rest; the finished runs stay in the result. Qt-free; the data are loaded once for all runs.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from digitpad.core.data import Dataset, load_dataset
from digitpad.core.history import append_run
from digitpad.core.training.config import TrainConfig
from digitpad.core.training.events import Progress, RunStatus, TrainResult
from digitpad.core.training.session import TrainingSession, failure_reason
from digitpad.core.training.sweep_values import (
    ALIASES,
    SWEEP_PARAMS,
    canonical_param,
    format_value,
    parse_values,
    sweep_configs,
)


@dataclass
class SweepRow:
    """One run of a sweep: its value, how it ended and its accuracies.

    ``train_accuracy``/``val_accuracy`` are those of the epoch whose weights the run kept (its
    restored best validation epoch, else its last full epoch); ``None`` when not measured.
    """

    index: int
    value: Any
    status: RunStatus
    reason: str
    train_accuracy: float | None
    val_accuracy: float | None
    test_accuracy: float | None
    seconds: float
    params: int
    epochs_done: int
    config: dict
    history: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self, param: str) -> dict:
        """The flat row of ``--json``/``--csv``: value, accuracies, seconds, then the config."""
        return {
            "param": param,
            "value": self.value,
            "status": self.status.value,
            "train_accuracy": self.train_accuracy,
            "val_accuracy": self.val_accuracy,
            "test_accuracy": self.test_accuracy,
            "seconds": round(float(self.seconds), 3),
            "params": int(self.params),
            "epochs_done": int(self.epochs_done),
            "reason": self.reason,
            **self.config,
        }


def row_of(index: int, value: Any, result: TrainResult) -> SweepRow:
    """The :class:`SweepRow` of a finished (or stopped/failed) run's result."""
    history = {key: list(vals) for key, vals in (result.history or {}).items()}
    kept = result.restored_epoch or len(history.get("accuracy", []))

    def at(key: str) -> float | None:
        vals = history.get(key, [])
        return float(vals[kept - 1]) if 0 < kept <= len(vals) and vals[kept - 1] is not None \
            else None

    return SweepRow(index=index, value=value, status=result.status, reason=result.reason,
                    train_accuracy=at("accuracy"), val_accuracy=at("val_accuracy"),
                    test_accuracy=result.test_accuracy, seconds=float(result.elapsed or 0.0),
                    params=int(result.params), epochs_done=int(result.epochs_done),
                    config=result.config.to_dict(), history=history)


def _score(row: SweepRow) -> tuple[float, float, float]:
    def v(x: float | None) -> float:
        return -1.0 if x is None else float(x)

    return (v(row.val_accuracy), v(row.test_accuracy), v(row.train_accuracy))


@dataclass
class SweepProgress:
    """One report of a sweep, sent from the training thread.

    Kinds: ``run_start`` (a run is about to train), ``batch`` and ``run`` (``progress`` holds the
    run's own :class:`Progress`: a ``batch`` one, or any other kind), ``run_end`` (``row`` holds
    the finished run's row) and ``end``. (GUI progress throttles coalesce ``batch`` reports.)
    ``fraction`` is the whole sweep's progress in [0, 1] (runs weighted by their epochs) and
    ``eta_s`` the sweep's time left (``None`` until something trained).
    """

    kind: str
    index: int
    runs: int
    param: str
    value: Any
    fraction: float
    elapsed: float
    eta_s: float | None
    progress: Progress | None = None
    row: SweepRow | None = None


@dataclass
class SweepResult:
    """The rows of a sweep's runs (finished ones, and the stopped one), and its best run."""

    sweep_id: str
    param: str
    values: list[Any]
    rows: list[SweepRow]
    status: RunStatus
    elapsed: float
    best_index: int | None = None
    best_model: Any = None
    best_metadata: dict = field(default_factory=dict)

    @property
    def stopped(self) -> bool:
        """True when the user stopped the sweep before its last run ended."""
        return self.status is RunStatus.STOPPED

    @property
    def best(self) -> SweepRow | None:
        """The completed run with the best validation (then test, then train) accuracy."""
        return next((r for r in self.rows if r.index == self.best_index), None)

    def table(self) -> list[dict]:
        """Every row as :meth:`SweepRow.to_dict` (the ``--json``/``--csv`` rows)."""
        return [row.to_dict(self.param) for row in self.rows]


class Sweep:
    """Train one run per value of one hyper-parameter, everything else as in ``base``.

    Parameters
    ----------
    base
        The fixed part of the configuration (its ``param`` field is replaced per run).
    param
        One of :data:`SWEEP_PARAMS`.
    values
        The values, as text (``"0.1,0.3"``) or a sequence; checked here (TrainingError).
    dataset
        Data for every run; ``None`` loads ``base.data`` once when the sweep starts.
    on_progress
        Called from the training thread with each :class:`SweepProgress`.
    record
        Append each run to the run history.
    batch_interval
        Passed to each :class:`TrainingSession`.
    """

    def __init__(self, base: TrainConfig, param: str, values: str | Sequence[Any], *,
                 dataset: Dataset | None = None,
                 on_progress: Callable[[SweepProgress], None] | None = None,
                 record: bool = True, batch_interval: int = 1) -> None:
        self.param = canonical_param(param)
        self.values = parse_values(self.param, values)
        self.configs = sweep_configs(base, self.param, self.values)
        self.weights = [c.resolved().epochs for c in self.configs]
        self.base = base
        self.dataset = dataset
        self.on_progress = on_progress
        self.record = record
        self.batch_interval = batch_interval
        self.sweep_id = uuid.uuid4().hex[:12]
        self.record_errors: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._session: TrainingSession | None = None

    @property
    def stop_requested(self) -> bool:
        """Whether a stop was requested."""
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Stop the run in progress after its batch in flight and skip the rest. Thread-safe."""
        with self._lock:
            self._stop.set()
            if self._session is not None:
                self._session.request_stop()

    def run(self) -> SweepResult:
        """Train the runs one after another; return their rows and the best run's model.

        A run that fails is kept as a ``failed`` row and the sweep goes on with the next value.

        Raises
        ------
        DigitpadError
            The data cannot be loaded (before anything trains).
        """
        t0 = time.perf_counter()
        dataset = self.dataset if self.dataset is not None else load_dataset(self.base.data)
        result = SweepResult(self.sweep_id, self.param, list(self.values), [], RunStatus.COMPLETED,
                             0.0)
        best: SweepRow | None = None
        for index, (value, config) in enumerate(zip(self.values, self.configs, strict=True)):
            if self._stop.is_set():
                result.status = RunStatus.STOPPED
                break
            row, trained = self._one(index, value, config, dataset, t0)
            result.rows.append(row)
            if row.status is RunStatus.STOPPED:
                result.status = RunStatus.STOPPED
            if row.status is RunStatus.COMPLETED and (best is None or _score(row) > _score(best)):
                best = row
                result.best_index = index
                result.best_model = trained.model
                result.best_metadata = {**trained.metadata(), "sweep": self._tag(index, value)}
        result.elapsed = time.perf_counter() - t0
        self._emit("end", len(result.rows), None, t0, self._fraction(len(result.rows), 0.0))
        return result

    # -- one run -------------------------------------------------------------------------------

    def _one(self, index: int, value: Any, config: TrainConfig, dataset: Dataset,
             t0: float) -> tuple[SweepRow, TrainResult]:
        def relay(p: Progress) -> None:
            epochs = max(1, p.epochs or self.weights[index])
            within = min(1.0, max(0.0, p.epoch_float / epochs))
            kind = "batch" if p.kind == "batch" else "run"
            self._emit(kind, index, value, t0, self._fraction(index, within), progress=p)

        session = TrainingSession(config, dataset=dataset, on_progress=relay, record=False,
                                  kind="sweep", batch_interval=self.batch_interval)
        with self._lock:
            self._session = session
            if self._stop.is_set():
                session.request_stop()
        self._emit("run_start", index, value, t0, self._fraction(index, 0.0))
        try:
            trained = session.run()
        except Exception as exc:  # a failed run is a row; the sweep goes on
            trained = session.result or self._failed(config, exc)
        finally:
            with self._lock:
                self._session = None
        if session.records:
            self._append({**session.records[-1], "sweep": self._tag(index, value)})
        row = row_of(index, value, trained)
        self._emit("run_end", index, value, t0, self._fraction(index + 1, 0.0), row=row)
        return row, trained

    @staticmethod
    def _failed(config: TrainConfig, exc: BaseException) -> TrainResult:
        return TrainResult(model=None, history={}, reason=failure_reason(exc), epochs_done=0,
                           best_epoch=None, test_accuracy=None, test_loss=None, device="",
                           elapsed=0.0, config=config, status=RunStatus.FAILED)

    def _tag(self, index: int, value: Any) -> dict:
        return {"id": self.sweep_id, "param": self.param, "value": value, "index": index,
                "runs": len(self.values)}

    def _append(self, record: dict) -> None:
        if not self.record:
            return
        try:
            append_run(record)
        except (OSError, TypeError, ValueError) as exc:
            self.record_errors.append(f"the run history was not updated: {exc}")

    # -- progress ------------------------------------------------------------------------------

    def _fraction(self, index: int, within: float) -> float:
        total = float(sum(self.weights)) or 1.0
        done = sum(self.weights[:index]) + (self.weights[index] * within
                                            if index < len(self.weights) else 0.0)
        return min(1.0, done / total)

    def _emit(self, kind: str, index: int, value: Any, t0: float, fraction: float,
              **extra: Any) -> None:
        if self.on_progress is None:
            return
        elapsed = time.perf_counter() - t0
        eta = elapsed * (1.0 - fraction) / fraction if fraction > 0 else None
        self.on_progress(SweepProgress(kind, index, len(self.values), self.param, value, fraction,
                                       elapsed, eta, **extra))


__all__ = ["SWEEP_PARAMS", "ALIASES", "Sweep", "SweepProgress", "SweepResult", "SweepRow",
           "canonical_param", "parse_values", "sweep_configs", "format_value", "row_of"]
