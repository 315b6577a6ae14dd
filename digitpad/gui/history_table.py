"""Run history table: the tutorials' comparison table, filled automatically after every run.

The records live in the core's JSON history file (``digitpad.core.history``), written by the
core for every run (GUI, command line, k-fold); this widget only shows them, newest first,
sortable by any column (numbers sort as numbers). The Result column shows the run's status, its
tooltip the whole reason.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from digitpad.core.history import run_record  # noqa: F401  (old import path; the core records runs)

#: (header, record key, kind) – kind drives formatting and sorting.
COLUMNS: list[tuple[str, str, str]] = [
    ("Architecture", "arch", "text"),
    ("Epochs", "epochs", "int"),
    ("Batch", "batch_size", "int"),
    ("Optimizer", "optimizer", "text"),
    ("LR", "learning_rate", "lr"),
    ("Augment", "augment", "bool"),
    ("Device", "device", "text"),
    ("Time", "elapsed_s", "duration"),
    ("Best val acc", "best_val_accuracy", "pct"),
    ("Test acc", "test_accuracy", "pct"),
    ("Result", "status", "text"),
    ("Run", "kind", "text"),
    ("Date", "date", "date"),
]

# alternative key names (records written by the command line or older versions)
_ALIASES = {
    "arch": ("architecture",),
    "elapsed_s": ("elapsed", "time_s"),
    "learning_rate": ("lr",),
    "batch_size": ("batch",),
    "best_val_accuracy": ("val_accuracy", "best_val_acc"),
    "test_accuracy": ("test_acc",),
    "status": ("reason",),  # records older than the typed status
}


def _lookup(record: dict, key: str) -> Any:
    for name in (key, *_ALIASES.get(key, ())):
        if name in record and record[name] is not None:
            return record[name]
        config = record.get("config")
        if isinstance(config, dict) and config.get(name) is not None:
            return config[name]
    return None


class _Item(QTableWidgetItem):
    """Table item sorting by a numeric/ISO key stored in UserRole (None sorts first)."""

    def __lt__(self, other: QTableWidgetItem) -> bool:  # type: ignore[override]
        a = self.data(Qt.ItemDataRole.UserRole)
        b = other.data(Qt.ItemDataRole.UserRole)
        if a is None or b is None:
            return (a is None) and (b is not None)
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)


def _format(value: Any, kind: str) -> tuple[str, Any]:
    """(display text, sort key) for a cell."""
    if value is None or value == "":
        return "–", None
    try:
        if kind == "int":
            return str(int(value)), int(value)
        if kind == "lr":
            v = float(value)
            return f"{v:g}", v
        if kind == "bool":
            return ("yes" if value else "no"), int(bool(value))
        if kind == "duration":
            v = float(value)
            m, s = divmod(int(round(v)), 60)
            return f"{m}:{s:02d}", v
        if kind == "pct":
            v = float(value)
            if not math.isfinite(v):
                return "–", None
            return f"{100 * v:.2f} %", v
        if kind == "date":
            text = str(value)
            return text.replace("T", " ")[:16], text
    except (TypeError, ValueError):
        pass
    return str(value), str(value)


#: Item data role (first column) holding the row's index into ``HistoryTable.records``.
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1


class HistoryTable(QTableWidget):
    """Sortable table of past runs (newest first on load); rows can be multi-selected."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels([c[0] for c in COLUMNS])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.records: list[dict] = []  # every record shown, in the order they were added
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        # newest first by default (the user can sort by any column)
        date_col = next(i for i, c in enumerate(COLUMNS) if c[1] == "date")
        self.horizontalHeader().setSortIndicator(date_col, Qt.SortOrder.DescendingOrder)
        self.setSortingEnabled(True)
        self.setToolTip("Every training run, kept between launches. Click a header to sort.")

    def reload(self) -> None:
        """Read the history file again and show every record (newest first)."""
        from digitpad.core.history import load_history

        self.set_records(load_history())

    def selected_records(self) -> list[dict]:
        """The records of the selected rows, top to bottom as the table shows them."""
        rows = sorted({index.row() for index in self.selectionModel().selectedRows()})
        return [self.records[self.item(row, 0).data(RECORD_ROLE)] for row in rows]

    def set_records(self, records: list[dict]) -> None:
        self.setSortingEnabled(False)
        self.setRowCount(0)
        self.records = []
        for record in reversed(records):
            self._append_row(record)
        self.setSortingEnabled(True)

    def add_record(self, record: dict) -> None:
        """Show one new record at the top (the file itself is written by the worker)."""
        self.setSortingEnabled(False)
        self.insertRow(0)
        self._fill_row(0, record)
        self.setSortingEnabled(True)

    def _append_row(self, record: dict) -> None:
        row = self.rowCount()
        self.insertRow(row)
        self._fill_row(row, record)

    def _fill_row(self, row: int, record: dict) -> None:
        if not isinstance(record, dict):
            record = {}
        self.records.append(record)
        for col, (_header, key, kind) in enumerate(COLUMNS):
            text, sort_key = _format(_lookup(record, key), kind)
            item = _Item(text)
            item.setData(Qt.ItemDataRole.UserRole, sort_key)
            if kind != "text":
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if key == "status" and record.get("reason"):
                item.setToolTip(str(record["reason"]))  # the whole sentence: where a stop came…
            if col == 0:
                item.setData(RECORD_ROLE, len(self.records) - 1)
            self.setItem(row, col, item)
