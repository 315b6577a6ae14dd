"""What the Train tab shows about runs: live plots, progress and log, summary and run history.

:class:`TrainResults` turns the core's ``Progress`` reports into plot points (x = the report's
``epoch_float``, which only grows over a session, so a continued run goes on where the last one
ended) and log lines, and a finished ``TrainResult`` into one summary sentence that says what
happened. It runs nothing; the tab feeds it on the GUI thread.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from digitpad.gui.history_actions import HistoryPanel
from digitpad.gui.history_table import HistoryTable
from digitpad.gui.training_plots import ProgressPanel, TrainingPlots, format_eta

#: What Stop does, word for word as in a stopped run's reason (``core.training``): the tooltip.
STOP_KEEPS = "the weights trained so far are kept"


class TrainResults(QWidget):
    """Plots above; below them the summary with *Use in Recognize* / *Save Model…*, then the
    progress and log and the run history (the tab connects the buttons)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plots = TrainingPlots(self)
        self.progress = ProgressPanel(self)
        self.history_table = HistoryTable(self)
        self.history_panel = HistoryPanel(self.history_table, self)  # compare, delete, CSV
        self.lower_tabs = QTabWidget(self)
        self.lower_tabs.addTab(self.progress, "Progress && log")
        self.lower_tabs.addTab(self.history_panel, "Run history")
        self.result_label = QLabel("No model trained yet.", self)
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.use_button = QPushButton("Use in Recognize", self)
        self.use_button.setToolTip("Switch the Recognize tab to this model.")
        self.save_button = QPushButton("Save Model…", self)
        self.save_button.setToolTip("Save as .keras (keeps optimizer state) or legacy .h5.")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.save_button)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.result_label)
        lower_layout.addLayout(buttons)
        lower_layout.addWidget(self.lower_tabs, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.plots)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 300])  # stretch factors only share out growth: plots first
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    # ================================================================ a run
    def begin(self, line: str, bar_text: str, *, fresh: bool) -> None:
        """A run starts: log ``line``; ``fresh`` (a new session) also clears the plots."""
        if fresh:
            self.plots.clear()
        self.progress.reset(bar_text)
        self.progress.append(line)

    def add_reports(self, reports: list) -> None:
        """Show a throttled list of core ``Progress`` reports (points, log lines, progress bar)."""
        xs: list[float] = []
        logs: list[dict] = []
        last = None
        for p in reports:
            kind = getattr(p, "kind", "")
            if kind == "batch":
                xs.append(float(p.epoch_float))
                logs.append(p.logs)
                last = p
            elif kind == "epoch":
                self.plots.add_batches(xs, logs)
                xs, logs = [], []
                self.plots.add_epoch(float(p.epoch_float), p.logs)
                self.progress.append(epoch_line(p))
                last = p
            elif kind in ("start", "message", "end"):
                if kind != "end" and p.message:
                    self.progress.append(p.message)
                if kind != "message":
                    last = p
        self.plots.add_batches(xs, logs)
        if last is not None:
            self.progress.show_progress(last)

    def show_result(self, result: Any) -> str:
        """Show a finished run (summary, log, bar); returns the summary sentence.

        A stopped run's summary is the core's reason, which says where the stop came and that
        the weights trained so far are kept; a completed run's names the restored best epoch.
        """
        self.plots.flush()
        status = run_status(result)
        acc = result.test_accuracy
        acc_text = (f"test accuracy {100 * acc:.2f} %" if acc is not None and math.isfinite(acc)
                    else "no test accuracy")
        took = f"{format_eta(result.elapsed)} on {result.device or '?'}"
        epochs = f"{int(result.epochs_done or 0)} epoch(s) in {took}"
        bar = self.progress.bar
        if status == "stopped":
            summary = f"Training {result.reason} ({took}; {acc_text})."
            bar.setFormat(f"Stopped · {acc_text}")
        elif status == "completed":
            summary = f"Training completed: {epochs}; {acc_text}."
            if result.restored_epoch is not None:
                summary += f" The weights of epoch {result.restored_epoch} (best validation accuracy) are kept."
            bar.setValue(bar.maximum())  # the last throttled batch update may be short of the end
            bar.setFormat(f"Done · {acc_text}")
        else:  # diverged (NaN or exploding loss) or failed
            verb = "failed" if status == "failed" else "stopped"
            summary = f"Training {verb}: {result.reason} ({epochs}; {acc_text})."
            bar.setFormat(f"Failed · {result.reason}")
        self.result_label.setText(summary)
        self.progress.append(summary)
        return summary

    def show_failure(self, reason: str) -> None:
        """A run could not run at all (bad data, broken base model, engine failure)."""
        self.plots.flush()
        self.progress.append(f"Training failed: {reason}")
        self.progress.reset("Failed")
        self.result_label.setText(f"Training failed: {reason}")

    def set_records(self, records: list[dict]) -> None:
        """Show the run history (oldest first in ``records``; the table shows newest first)."""
        self.history_table.set_records(records)


def run_status(result: Any) -> str:
    """The run's status as text: 'completed', 'stopped', 'diverged' or 'failed'."""
    status = getattr(result, "status", None)
    return str(getattr(status, "value", status))


def epoch_line(p: Any) -> str:
    """The log line of an epoch report: its metrics, time and speed."""
    logs = p.logs or {}

    def f(key: str, pct: bool = False) -> str:
        v = logs.get(key)
        if v is None:
            return ""
        return f"{key} {100 * v:.2f} %" if pct else f"{key} {v:.4f}"

    text = ", ".join(x for x in (f("loss"), f("accuracy", True), f("val_loss"), f("val_accuracy", True)) if x)
    return (f"Epoch {p.epoch}/{p.epochs}: {text} ({format_eta(p.elapsed)} elapsed, "
            f"{p.samples_per_s:,.0f} samples/s)")
