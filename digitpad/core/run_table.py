"""Tables made from run-history records: the notebook's comparison, curves to overlay, CSV.

* :func:`comparison_table` – architecture, batch-norm, dropout and test accuracy of any set of
  runs (the tutorial notebook's table of all its models), best first
* :func:`record_curves` – a record's stored per-epoch curves (a k-fold record: the folds' mean)
* :func:`history_rows` / :func:`write_csv` – the history (or a sweep's rows) as a CSV file,
  written atomically

Qt-free and TensorFlow-free: everything is computed from the JSON records.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from digitpad.core.archs import ARCHS
from digitpad.core.atomic import atomic_write_text
from digitpad.core.jsonable import dumps, to_jsonable

#: The columns of the history CSV, in order (nested fields are left out; ``dropout`` and the
#: ``sweep_*`` columns come from the record's ``config`` and ``sweep`` entries).
HISTORY_COLUMNS = (
    "date", "kind", "status", "arch", "epochs", "batch_size", "optimizer", "learning_rate",
    "schedule", "augment", "dropout", "val_split", "seed", "train_limit", "data", "k",
    "best_val_accuracy", "test_accuracy", "test_loss", "params", "elapsed_s", "device",
    "sweep_id", "sweep_param", "sweep_value", "reason",
)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def dropout_text(record: Mapping[str, Any]) -> str:
    """The dropout a run trained with: ``"0.3"`` (set for the run), the architecture's rates
    (``"0.25/0.5"``), ``"none"`` (no Dropout layers) or ``"?"`` (unknown architecture)."""
    config = record.get("config") or {}
    rate = _number(config.get("dropout"))
    if rate is not None:
        return f"{rate:g}"
    spec = ARCHS.get(str(record.get("arch") or config.get("arch") or ""))
    if spec is None:
        return "?"
    return "/".join(f"{r:g}" for r in spec.dropout) if spec.dropout else "none"


def comparison_table(records: Iterable[Mapping[str, Any]]) -> list[dict]:
    """The notebook's comparison table of the runs that measured a test accuracy.

    Parameters
    ----------
    records
        Run-history records (:func:`digitpad.core.history.load_history` or a selection).

    Returns
    -------
    list of dict
        One per run with a test accuracy, best first: ``arch``, ``batchnorm`` (bool, ``None``
        for an unknown architecture), ``dropout`` (:func:`dropout_text`), ``test_accuracy``,
        ``epochs``, ``kind``, ``status`` and ``date``.
    """
    rows = []
    for record in records:
        accuracy = _number(record.get("test_accuracy"))
        if accuracy is None:
            continue
        arch = str(record.get("arch") or "")
        spec = ARCHS.get(arch)
        rows.append({
            "arch": arch,
            "batchnorm": spec.batchnorm if spec is not None else None,
            "dropout": dropout_text(record),
            "test_accuracy": accuracy,
            "epochs": record.get("epochs"),
            "kind": record.get("kind"),
            "status": record.get("status"),
            "date": record.get("date"),
        })
    rows.sort(key=lambda r: r["test_accuracy"], reverse=True)
    return rows


def record_curves(record: Mapping[str, Any]) -> dict[str, list[float | None]]:
    """The per-epoch curves stored with a run (``loss``, ``accuracy``, ``val_loss``, ...).

    A k-fold record's curves are the mean over its folds, epoch by epoch (as long as every fold
    has that epoch). A record without curves gives ``{}``.
    """
    history = record.get("history")
    if isinstance(history, Mapping) and history:
        return {str(k): [_number(v) for v in vals] for k, vals in history.items()
                if isinstance(vals, list)}
    folds = [h for h in record.get("histories") or [] if isinstance(h, Mapping)]
    if not folds:
        return {}
    curves: dict[str, list[float | None]] = {}
    for key in folds[0]:
        series = [f.get(key) for f in folds]
        if not all(isinstance(s, list) for s in series):
            continue
        length = min(len(s) for s in series)
        mean = []
        for epoch in range(length):
            values = [_number(s[epoch]) for s in series]
            mean.append(None if None in values else sum(values) / len(values))
        curves[str(key)] = mean
    return curves


def record_label(record: Mapping[str, Any]) -> str:
    """A short name of a run for legends: ``conv3 dropout=0.3 · 2026-12-02 08:10``."""
    parts = [str(record.get("arch") or "?")]
    sweep = record.get("sweep")
    if isinstance(sweep, Mapping) and sweep.get("param") and sweep.get("param") != "arch":
        value = sweep.get("value")
        value = f"{value:g}" if isinstance(value, float) else value
        parts.append(f"{sweep['param']}={value}")
    elif record.get("kind") == "kfold":
        parts.append(f"{record.get('k')}-fold")
    date = str(record.get("date") or "").replace("T", " ")[:16]
    return " ".join(parts) + (f" · {date}" if date else "")


def history_rows(records: Iterable[Mapping[str, Any]]) -> list[dict]:
    """The records as flat rows with the :data:`HISTORY_COLUMNS` (missing values empty)."""
    rows = []
    for record in records:
        sweep = record.get("sweep") if isinstance(record.get("sweep"), Mapping) else {}
        config = record.get("config") if isinstance(record.get("config"), Mapping) else {}
        extra = {"dropout": config.get("dropout"), "sweep_id": sweep.get("id"),
                 "sweep_param": sweep.get("param"), "sweep_value": sweep.get("value")}
        rows.append({col: extra[col] if col in extra else record.get(col)
                     for col in HISTORY_COLUMNS})
    return rows


def rows_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """CSV text of ``rows`` (a header line, then one line per row; ``None`` as an empty cell).

    ``columns`` defaults to the keys of the rows in order of first appearance. Nested values
    (lists, dicts) are written as JSON text.
    """
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        cells = []
        for col in columns:
            value = to_jsonable(row.get(col))
            cells.append("" if value is None else
                         dumps(value) if isinstance(value, list | dict) else value)
        writer.writerow(cells)
    return buffer.getvalue()


def write_csv(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]],
              columns: Sequence[str] | None = None) -> None:
    """Write :func:`rows_csv` to ``path`` atomically (the old file stays until the new is whole).

    Raises
    ------
    OSError
        The folder does not exist or is not writable.
    """
    atomic_write_text(path, rows_csv(rows, columns))


__all__ = ["HISTORY_COLUMNS", "comparison_table", "dropout_text", "record_curves",
           "record_label", "history_rows", "rows_csv", "write_csv"]
