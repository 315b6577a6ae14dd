"""k-fold cross-validation of a :class:`TrainConfig` on the training images."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from digitpad.core.data import Dataset, load_dataset
from digitpad.core.errors import TrainingError
from digitpad.core.training.config import TrainConfig, check_int
from digitpad.core.training.events import KFoldResult, Progress, RunStatus
from digitpad.core.training.trainer import Trainer


class _FoldRelay:
    """Passes a fold's progress on with ``fold``/``folds`` set and messages prefixed."""

    def __init__(self, sink: Callable[[Progress], None], fold: int, folds: int) -> None:
        self.sink, self.fold, self.folds = sink, fold, folds

    def __call__(self, p: Progress) -> None:
        message = f"fold {self.fold}/{self.folds} · {p.message}" if p.message else ""
        self.sink(replace(p, fold=self.fold, folds=self.folds, message=message))

    def note(self, text: str, *, step: int = 0, logs: dict | None = None) -> None:
        """Send a k-fold message of its own (not from a trainer)."""
        self.sink(Progress("message", 0, 0, 0, 0, step, {"fold": float(self.fold), **(logs or {})},
                           0.0, 0.0, None, message=text, fold=self.fold, folds=self.folds))


def kfold(
    config: TrainConfig,
    k: int = 5,
    *,
    dataset: Dataset | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop_event: threading.Event | None = None,
) -> KFoldResult:
    """k-fold cross-validation of ``config`` on the training images, as in the tutorial.

    The training images are shuffled once (numpy permutation, seed 1 like the tutorial's
    ``KFold(shuffle=True, random_state=1)``) and split into ``k`` folds; each fold is held out
    once while a fresh model trains on the rest. The held-out fold is the fold's test set.
    Every progress event carries ``fold``/``folds``. This function records nothing; the session
    layer's :func:`~digitpad.core.training.session.run_kfold` adds the run history.

    Returns
    -------
    KFoldResult
        The accuracies of the completed folds, their mean and standard deviation. ``status`` is
        ``stopped`` when ``stop_event`` ended it early (the event stays set) and ``diverged`` when
        a fold's loss blew up (the remaining folds are not trained).

    Raises
    ------
    TrainingError
        ``k`` is below 2 or above the number of images.
    """
    t0 = time.perf_counter()
    cfg = config.resolved()
    check_int(k, "k", 2)
    ds = dataset if dataset is not None else load_dataset(cfg.data)
    if cfg.train_limit is not None:
        ds = ds.subset(cfg.train_limit, None, seed=cfg.seed)
    cfg = replace(cfg, train_limit=None, test_limit=None)
    x, y = ds.x_train, np.asarray(ds.y_train)
    if k > len(x):
        raise TrainingError(f"k = {k} folds need at least {k} images, but there are {len(x)}.")
    stop = stop_event if stop_event is not None else threading.Event()
    folds = np.array_split(np.random.default_rng(1).permutation(len(x)), k)
    accuracies: list[float] = []
    histories: list[dict] = []
    status, reason, device = RunStatus.COMPLETED, f"completed all {k} folds", ""
    for i, test_idx in enumerate(folds, start=1):
        if stop.is_set():
            status = RunStatus.STOPPED
            break
        train_idx = np.sort(np.concatenate([f for j, f in enumerate(folds, start=1) if j != i]))
        test_idx = np.sort(test_idx)
        fold_ds = Dataset(x[train_idx], y[train_idx], x[test_idx], y[test_idx],
                          f"{ds.source} (fold {i}/{k})")
        relay = _FoldRelay(on_progress, i, k) if on_progress is not None else None
        if relay is not None:
            relay.note(f"fold {i}/{k}: training on {len(train_idx)}, testing on {len(test_idx)}")
        trainer = Trainer(cfg, dataset=fold_ds, on_progress=relay, stop_event=stop)
        result = trainer.run()
        device = result.device
        if result.status is RunStatus.STOPPED:
            status = RunStatus.STOPPED
            break
        if result.status is RunStatus.DIVERGED:
            status, reason = RunStatus.DIVERGED, f"fold {i}/{k}: {result.reason}"
            break
        accuracies.append(float(result.test_accuracy))
        histories.append(result.history)
        if relay is not None:
            relay.note(f"fold {i}/{k}: accuracy {result.test_accuracy:.2%}", step=trainer.step,
                       logs={"accuracy": float(result.test_accuracy)})
    if status is RunStatus.STOPPED:
        reason = f"stopped by user after {len(accuracies)} of {k} folds"
    arr = np.asarray(accuracies, dtype=np.float64)
    return KFoldResult(
        accuracies=accuracies,
        mean=float(arr.mean()) if len(arr) else float("nan"),
        std=float(arr.std()) if len(arr) else float("nan"),
        histories=histories,
        k=k,
        status=status,
        reason=reason,
        device=device,
        elapsed=time.perf_counter() - t0,
    )
