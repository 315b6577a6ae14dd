"""Persistent run history: a JSON list of run records in ``user_data_dir()/runs.json``.

:func:`run_record` and :func:`kfold_record` build the records (status, reason, configuration,
metrics and the per-epoch curves, so runs can be compared later); the training session layer
(:mod:`digitpad.core.training.session`) appends one for every run, GUI, command line and k-fold.

Every change rewrites the whole file atomically (temporary file + rename), so a crash or a kill
never leaves a half-written history. A file that cannot be read as a JSON list (corrupted by
something else) is moved aside to ``runs.json.bak`` and the history starts again empty.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import threading
from pathlib import Path
from typing import Any

from digitpad.core.atomic import atomic_write_text
from digitpad.core.jsonable import to_jsonable
from digitpad.core.paths import user_data_dir

HISTORY_NAME = "runs.json"
_lock = threading.Lock()


def history_path() -> Path:
    """Path of the run history file."""
    return user_data_dir() / HISTORY_NAME


def _read(path: Path) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError):
        return _quarantine(path)
    try:
        data = json.loads(text)
    except ValueError:
        return _quarantine(path)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        return _quarantine(path)
    return data


def _quarantine(path: Path) -> list[dict]:
    try:
        os.replace(path, path.with_name(path.name + ".bak"))
    except OSError:
        pass
    return []


def load_history() -> list[dict]:
    """Return the recorded runs, oldest first.

    A corrupt or unreadable history file is moved to ``runs.json.bak`` and ``[]`` is returned.
    """
    with _lock:
        return _read(history_path())


def append_run(record: dict) -> None:
    """Append one run record and rewrite the history file atomically.

    Parameters
    ----------
    record
        A dict describing the run (e.g. ``TrainResult.metadata()`` plus a display name). numpy
        values are converted to plain JSON; NaN and infinity become ``null``.
    """
    if not isinstance(record, dict):
        raise TypeError("a run record must be a dict")
    with _lock:
        path = history_path()
        runs = _read(path)
        runs.append(to_jsonable(record))
        atomic_write_text(path, json.dumps(runs, indent=1, allow_nan=False) + "\n")


def delete_runs(records: list[dict]) -> int:
    """Remove these runs from the history (each given record removes one equal record).

    Parameters
    ----------
    records
        Records as :func:`load_history` returned them (compared as JSON values).

    Returns
    -------
    int
        How many records were removed (one already gone is skipped).
    """
    wanted = [to_jsonable(r) for r in records]
    with _lock:
        path = history_path()
        runs = _read(path)
        kept = []
        for run in runs:
            if run in wanted:
                wanted.remove(run)
            else:
                kept.append(run)
        removed = len(runs) - len(kept)
        if removed:
            atomic_write_text(path, json.dumps(kept, indent=1, allow_nan=False) + "\n")
        return removed


def clear_history() -> None:
    """Remove every recorded run (atomically writes an empty list)."""
    with _lock:
        atomic_write_text(history_path(), "[]\n")


def _config_fields(cfg: dict) -> dict:
    """The configuration fields the history table shows, at the top level of a record."""
    keys = ("arch", "batch_size", "optimizer", "learning_rate", "schedule", "augment", "val_split",
            "seed", "train_limit", "data")
    return {key: cfg.get(key) for key in keys}


def _now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def run_record(result: Any, *, kind: str = "train") -> dict:
    """A JSON-ready history record of a training run.

    Parameters
    ----------
    result
        A :class:`~digitpad.core.training.TrainResult` (also a failed run's).
    kind
        ``"train"``, ``"continue"`` or another label of how the run was started.

    Returns
    -------
    dict
        ``kind``, ``status`` (``completed``/``stopped``/``diverged``/``failed``), ``reason``, the
        configuration (its fields at the top level and whole under ``config``), ``epochs`` done,
        ``batches_done``/``batches`` of the last epoch, ``epoch_float``, metrics
        (``best_val_accuracy``, ``test_accuracy``, ...), the per-epoch curves under ``history``
        and the local ``date``.
    """
    config = result.config
    cfg = config.to_dict() if hasattr(config, "to_dict") else dict(config or {})
    history = {key: list(vals) for key, vals in (result.history or {}).items()}
    vals = [v for v in history.get("val_accuracy", []) if v is not None and math.isfinite(v)]
    return {
        "kind": kind,
        "status": result.status.value,
        "reason": result.reason,
        "stopped": bool(result.stopped),
        **_config_fields(cfg),
        "epochs": int(result.epochs_done or 0),
        "batches_done": int(result.batches_done),
        "batches": int(result.batches),
        "epoch_float": float(result.epoch_float),
        "device": result.device,
        "elapsed_s": float(result.elapsed or 0.0),
        "best_epoch": result.best_epoch,
        "restored_epoch": result.restored_epoch,
        "best_val_accuracy": max(vals) if vals else None,
        "test_accuracy": result.test_accuracy,
        "test_loss": result.test_loss,
        "params": int(result.params),
        "data_source": result.data_source,
        "config": cfg,
        "history": history,
        "date": _now(),
    }


def kfold_record(result: Any, config: Any, *, kind: str = "kfold") -> dict:
    """A JSON-ready history record of a k-fold cross-validation.

    Parameters
    ----------
    result
        A :class:`~digitpad.core.training.KFoldResult`.
    config
        The :class:`~digitpad.core.training.TrainConfig` it evaluated.
    kind
        The record's kind label.

    Returns
    -------
    dict
        ``kind``, ``status``, ``reason``, the configuration, ``k``, the per-fold ``accuracies``
        with their ``mean`` and ``std`` (``test_accuracy`` is the mean, for the history table),
        the folds' per-epoch curves under ``histories`` and the local ``date``.
    """
    cfg = config.to_dict() if hasattr(config, "to_dict") else dict(config or {})
    return {
        "kind": kind,
        "status": result.status.value,
        "reason": result.reason,
        "stopped": bool(result.stopped),
        **_config_fields(cfg),
        "epochs": cfg.get("epochs"),
        "k": int(result.k),
        "accuracies": [float(a) for a in result.accuracies],
        "mean": result.mean,
        "std": result.std,
        "test_accuracy": result.mean,
        "device": result.device,
        "elapsed_s": float(result.elapsed or 0.0),
        "config": cfg,
        "histories": [dict(h) for h in result.histories],
        "date": _now(),
    }
