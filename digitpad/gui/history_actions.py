"""What can be done with the run history's rows: compare, delete, export as CSV.

:class:`HistoryPanel` is the history table with a row of buttons under it. *Compare* opens :class:`~digitpad.gui.run_compare.RunCompareDialog` with the selected runs' records (their
stored per-epoch curves overlaid); *Delete* removes them from the history file
(``digitpad.core.history.delete_runs``) after a confirmation; *Export CSV…* writes the whole
history (``digitpad.core.run_table``, atomically).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from digitpad.gui.history_table import HistoryTable
from digitpad.gui.run_compare import RunCompareDialog


class HistoryPanel(QWidget):
    """The run history table and its Compare / Delete / Export CSV buttons.

    ``confirm(text) -> bool`` and ``ask_csv_path(suggested) -> path | None`` are the dialog
    seams (defaults: a question box, a file dialog); tests pass their own.
    """

    def __init__(self, table: HistoryTable | None = None, parent: QWidget | None = None, *,
                 confirm: Callable[[str], bool] | None = None,
                 ask_csv_path: Callable[[str], str | None] | None = None) -> None:
        super().__init__(parent)
        self.table = table if table is not None else HistoryTable(self)
        self._confirm = confirm or self._question
        self._ask_csv_path = ask_csv_path or self._file_dialog
        self.compare_dialog: RunCompareDialog | None = None
        self.compare_button = QPushButton("Compare", self)
        self.compare_button.setToolTip("Overlay the learning curves of the selected runs.")
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setToolTip("Remove the selected runs from the run history.")
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setToolTip("Write the whole run history as a CSV file.")
        self.note = QLabel("Select rows (Ctrl/Shift-click) to compare or delete them.", self)
        self.note.setWordWrap(True)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.compare_button.clicked.connect(self.compare_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button.clicked.connect(self.export_csv)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.note)
        self._update_buttons()

    def compare_selected(self) -> RunCompareDialog | None:
        """Open the comparison of the selected runs (non-modal)."""
        records = self.table.selected_records()
        if not records:
            return None
        if self.compare_dialog is not None:
            self.compare_dialog.close()
        self.compare_dialog = RunCompareDialog(records, self)
        self.compare_dialog.show()
        return self.compare_dialog

    def delete_selected(self) -> int:
        """Remove the selected runs from the history file (after asking); how many went."""
        from digitpad.core.history import delete_runs

        records = self.table.selected_records()
        if not records or not self._confirm(
                f"Delete {len(records)} run(s) from the run history? This cannot be undone."):
            return 0
        try:
            removed = delete_runs(records)
        except OSError as exc:
            self.note.setText(f"The run history could not be changed: {exc.strerror or exc}.")
            return 0
        self.table.reload()
        self.note.setText(f"Deleted {removed} run(s).")
        return removed

    def export_csv(self) -> str | None:
        """Ask for a file and write the whole run history there as CSV; the path written."""
        from digitpad.core.history import load_history
        from digitpad.core.run_table import history_rows, write_csv

        path = self._ask_csv_path("digitpad-runs.csv")
        if not path:
            return None
        records = load_history()
        try:
            write_csv(path, history_rows(records))
        except OSError as exc:
            self.note.setText(f"Cannot write {path}: {exc.strerror or exc}.")
            return None
        self.note.setText(f"Wrote {len(records)} run(s) to {path}.")
        return path

    def _update_buttons(self) -> None:
        selected = bool(self.table.selectionModel().selectedRows())
        self.compare_button.setEnabled(selected)
        self.delete_button.setEnabled(selected)

    def _question(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Delete runs", text)
        return answer == QMessageBox.StandardButton.Yes

    def _file_dialog(self, suggested: str) -> str | None:
        path = QFileDialog.getSaveFileName(self, "Export Run History", suggested, "CSV (*.csv)")[0]
        if path and not path.lower().endswith(".csv"):
            path += ".csv"
        return path or None
