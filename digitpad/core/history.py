"""Persistent run history: a JSON list of run records in ``user_data_dir()/runs.json``.

Every change rewrites the whole file atomically (temporary file + rename), so a crash or a kill
never leaves a half-written history. A file that cannot be read as a JSON list (corrupted by
something else) is moved aside to ``runs.json.bak`` and the history starts again empty.
"""

from __future__ import annotations

import json
import math
import os
import threading
from pathlib import Path
from typing import Any

from digitpad.core.atomic import atomic_write_text
from digitpad.core.paths import user_data_dir

HISTORY_NAME = "runs.json"
_lock = threading.Lock()


def history_path() -> Path:
    """Path of the run history file."""
    return user_data_dir() / HISTORY_NAME


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars/arrays, paths and non-finite floats into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays and scalars
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


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
        runs.append(_jsonable(record))
        atomic_write_text(path, json.dumps(runs, indent=1, allow_nan=False) + "\n")


def clear_history() -> None:
    """Remove every recorded run (atomically writes an empty list)."""
    with _lock:
        atomic_write_text(history_path(), "[]\n")
