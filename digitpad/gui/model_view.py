"""The Model view: what the model in use is made of, the same data ``digitpad info --json`` gives.

The data is :func:`digitpad.core.modelfile.describe.describe_model` of the model in memory (the
function behind ``describe(path)`` and ``digitpad info``), so the file is not loaded a second
time; for a model whose file holds it the file's format and size are added. A model trained in
this session and not saved is described the same way, without a file. The work runs as a task of
the app's runner, never on the GUI thread.

Shown: the layer table (name, type, output shape, parameters, activation), the totals, the input
and output digitpad feeds and reads and the adaptations it made, and the stored metadata with
the training configuration as a tree.
"""

from __future__ import annotations

import html
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from digitpad.gui.current_model import CurrentModel
from digitpad.gui.tasks import TaskRunner, shared_runner

COLUMNS = ("name", "type", "output_shape", "params", "activation")
HEADERS = ("Layer", "Type", "Output shape", "Parameters", "Activation")
TAB_TIP = "The layers, adaptations and metadata of the model in use (Ctrl+4)"
#: Lists longer than this are shown shortened in the metadata tree.
LIST_SHOWN = 8


def describe_entry(entry: Any) -> dict:
    """Worker: the data of ``describe(path)`` for the model in use, from memory (no file re-read).

    The path, format and file size are given only when the entry's file holds exactly this model.
    """
    from digitpad.core.modelfile.describe import describe_model

    return describe_model(entry.model, name=entry.name, metadata=entry.metadata,
                          adaptations=entry.adaptations,
                          path=entry.path if entry.path and entry.saved else None)


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        shown = ", ".join(_value_text(v) for v in value[:LIST_SHOWN])
        more = f", … ({len(value)} values)" if len(value) > LIST_SHOWN else ""
        return f"[{shown}{more}]"
    return "—" if value is None else str(value)


class ModelView(QWidget):
    """Layers, totals, adaptations and metadata of the model in use (see module docstring)."""

    def __init__(self, parent: QWidget | None = None, *, runner: TaskRunner | None = None,
                 current: CurrentModel | None = None) -> None:
        super().__init__(parent)
        self.runner = runner if runner is not None else shared_runner()
        self.current = current if current is not None else CurrentModel(self.runner, self)
        self.info: dict | None = None
        self._entry = None          # the entry described (or being described)
        self._described_as: tuple = (None, None)   # its (path, saved) then
        self._request = 0
        self.title = QLabel("")
        self.title.setTextFormat(Qt.TextFormat.PlainText)   # a name from a file is not markup
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.overview = QLabel("")
        self.overview.setWordWrap(True)
        self.overview.setTextFormat(Qt.TextFormat.RichText)
        self.overview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.totals = QLabel("")
        self.metadata_tree = QTreeWidget()
        self.metadata_tree.setHeaderLabels(["Metadata", "Value"])
        self.metadata_tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        layers = QWidget()
        layers_layout = QVBoxLayout(layers)
        layers_layout.setContentsMargins(0, 0, 0, 0)
        layers_layout.addWidget(self.table, 1)
        layers_layout.addWidget(self.totals)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(layers)
        split.addWidget(self.metadata_tree)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.overview)
        layout.addWidget(split, 1)
        self.current.changed.connect(self._on_model_changed)
        self._on_model_changed()

    # ---------------------------------------------------------------- public API
    def rows(self) -> list[dict]:
        """The layer rows shown, as ``describe`` gives them (``name``, ``type``, ...)."""
        return [dict(r) for r in (self.info or {}).get("layers", [])]

    def table_rows(self) -> list[list[str]]:
        """The table's cells as text, row by row."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_model_changed(self) -> None:
        entry = self.current.entry
        same = (entry is self._entry and entry is not None
                and (entry.path, entry.saved) == self._described_as)
        if same:
            return
        self._entry = entry
        self._request += 1
        if entry is None:
            self._show(None, "No model is in use yet.")
            return
        self._described_as = (entry.path, entry.saved)
        self.title.setText(entry.name)
        self.overview.setText("Reading the model…")
        self.runner.start(describe_entry, entry, name="describe-model",
                          on_done=partial(self._on_done, self._request),
                          on_error=partial(self._on_failed, self._request))

    def _on_done(self, request: int, info: dict) -> None:
        if request == self._request:
            self._show(info)

    def _on_failed(self, request: int, reason: str) -> None:
        if request == self._request:
            self._show(None, f"The model could not be described: {reason}")

    # ---------------------------------------------------------------- display
    def _show(self, info: dict | None, message: str = "") -> None:
        self.info = info
        self.table.setRowCount(0)
        self.metadata_tree.clear()
        if info is None:
            self.title.setText("" if self._entry is None else self._entry.name)
            self.overview.setText(message)
            self.totals.setText("")
            return
        self.title.setText(str(info.get("name") or ""))
        self.overview.setText(self._overview_html(info))
        layers = info.get("layers") or []
        self.table.setRowCount(len(layers))
        for r, row in enumerate(layers):
            for c, key in enumerate(COLUMNS):
                value = row.get(key)
                text = f"{value:,}" if key == "params" else _value_text(value)
                cell = QTableWidgetItem(text)
                if key == "params":
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, cell)
        total, trainable = info.get("total_params"), info.get("trainable_params")
        self.totals.setText(
            f"{len(layers)} layers · {int(total or 0):,} parameters"
            + (f" ({int(trainable):,} trainable)" if trainable is not None else ""))
        self._fill_tree(self.metadata_tree.invisibleRootItem(), info.get("metadata") or {})
        for i in range(self.metadata_tree.topLevelItemCount()):
            item = self.metadata_tree.topLevelItem(i)
            item.setExpanded(item.text(0) == "config")

    def _overview_html(self, info: dict) -> str:
        esc = html.escape
        lines = []
        if info.get("path"):
            size = info.get("file_size")
            size_text = f", {size / 1e6:.2f} MB" if isinstance(size, int) else ""
            lines.append(f"File <b>{esc(str(info['path']))}</b> "
                         f"({esc(str(info.get('format')))}{size_text})")
        else:
            lines.append("Not saved to a file: described from memory")
        inputs = info.get("input") or {}
        if inputs.get("file"):
            lines.append(f"Input of the model itself: {esc(str(inputs['file']))}")
        lines.append(f"digitpad feeds {esc(str(inputs.get('digitpad', '')))} and reads "
                     f"{esc(str(info.get('output', '')))}")
        adaptations = info.get("adaptations") or []
        lines.append("Adapted: " + esc("; ".join(adaptations)) if adaptations
                     else "No adaptation needed")
        optimizer = info.get("optimizer")
        if optimizer:
            state = "with" if info.get("optimizer_state") else "without"
            lines.append(f"Optimizer {esc(str(optimizer))}, {state} its state")
        if info.get("confidence"):
            lines.append(f"Confidence: {esc(str(info['confidence']))}")
        return "<br>".join(lines)

    def _fill_tree(self, parent: QTreeWidgetItem, data: dict) -> None:
        for key, value in data.items():
            item = QTreeWidgetItem([str(key), ""])
            parent.addChild(item)
            if isinstance(value, dict):
                self._fill_tree(item, value)
            else:
                item.setText(1, _value_text(value))
                item.setToolTip(1, str(value))
