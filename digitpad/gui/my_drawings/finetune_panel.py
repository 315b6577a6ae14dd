"""Fine-tune the model in use on the personal drawings: worker task, live loss plot, before/after.

Both models are kept: "Use tuned model" makes the tuned one the model in use (``CurrentModel.use``),
"Use model before" switches back to the model the fine-tune started from.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.finetune import FinetuneConfig, Finetuner, FinetuneResult, accuracy_words
from digitpad.gui.current_model import CurrentModel
from digitpad.gui.tasks import TaskRunner

TASK_NAME = "finetune"


def _finetune_job(model: Any, folder: str, config: FinetuneConfig, holder: dict,
                  metadata: dict, *, report) -> FinetuneResult:
    """Worker: load the drawings, fine-tune a copy of ``model``; progress goes to ``report``."""
    from digitpad.core.personal import load_drawings

    tuner = Finetuner(model, load_drawings(folder), config=config, on_progress=report,
                      base_metadata=metadata)
    holder["tuner"] = tuner
    if holder.get("stop"):
        tuner.request_stop()
    return tuner.run()


class FinetunePanel(QWidget):
    """Start/stop a fine-tune, plot its loss, show before/after, use the tuned model.

    Signals
    -------
    finished(object)
        The :class:`~digitpad.core.finetune.FinetuneResult` of a completed fine-tune.
    """

    finished = Signal(object)

    def __init__(self, folder_fn, runner: TaskRunner, current: CurrentModel,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder_fn = folder_fn
        self.runner = runner
        self.current = current
        self.result: FinetuneResult | None = None
        self._holder: dict = {}
        self.start_button = QPushButton("Fine-tune on my drawings")
        self.start_button.setToolTip("Train the model in use further on MNIST plus these drawings")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.use_button = QPushButton("Use tuned model")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.use_tuned)
        self.before_button = QPushButton("Use model before")
        self.before_button.setToolTip("Switch back to the model the fine-tune started from")
        self.before_button.setEnabled(False)
        self.before_button.clicked.connect(self.use_before)
        self._before: tuple[str, dict, str | None] | None = None  # name, metadata, path
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLabel("left", "loss")
        self.plot.setMinimumHeight(120)
        self.curve = self.plot.plot([], [], pen=pg.mkPen(width=2))
        self._x: list[float] = []
        self._y: list[float] = []
        self.table = QTableWidget(2, 3)
        self.table.setHorizontalHeaderLabels(["accuracy on", "before", "after"])
        self.table.verticalHeader().setVisible(False)
        for row, text in enumerate(("held-out drawings", "MNIST test")):
            self.table.setItem(row, 0, QTableWidgetItem(text))
        buttons = QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.use_button, self.before_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.table)

    @property
    def running(self) -> bool:
        return self.runner.busy(TASK_NAME)

    @Slot()
    def start(self, config: FinetuneConfig | None = None) -> bool:
        """Start fine-tuning the model in use; False (and a status line) when it cannot start."""
        entry = self.current.entry
        if entry is None or self.running:
            self.status.setText("No model is in use yet." if entry is None else "Already running.")
            return False
        cfg = config if isinstance(config, FinetuneConfig) else FinetuneConfig()
        arch = (entry.metadata or {}).get("arch")
        from digitpad.core.archs import ARCHS

        cfg.arch = arch if arch in ARCHS else cfg.arch
        self._holder = {}
        self._before = (entry.name, dict(entry.metadata or {}), entry.path)
        self._x.clear()
        self._y.clear()
        self.curve.setData([], [])
        self.status.setText(f"Fine-tuning {entry.name}…")
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.runner.start(_finetune_job, entry.model, str(self.folder_fn()), cfg, self._holder,
                          dict(entry.metadata or {}),
                          name=TASK_NAME, on_done=self._on_done, on_error=self._on_error,
                          on_progress=self._on_progress, on_finished=self._on_finished,
                          stop=self.stop, low_priority=True)
        return True

    @Slot()
    def stop(self) -> None:
        """Ask the fine-tune to stop after the batch in flight."""
        self._holder["stop"] = True
        tuner = self._holder.get("tuner")
        if tuner is not None:
            tuner.request_stop()

    def _on_progress(self, reports: list) -> None:
        for p in reports:
            if getattr(p, "kind", "") in ("batch", "epoch") and "loss" in p.logs:
                self._x.append(float(p.epoch_float))
                self._y.append(float(p.logs["loss"]))
        self.curve.setData(self._x, self._y)

    def _on_done(self, result: FinetuneResult) -> None:
        self.result = result
        for row, key in enumerate(("drawings_accuracy", "mnist_accuracy")):
            for col, scores in ((1, result.before), (2, result.after)):
                value = getattr(scores, key)
                self.table.setItem(row, col, QTableWidgetItem(accuracy_words(value)))
        note = "" if result.mnist_within_bound else (
            f" MNIST fell by {100 * result.mnist_drop:.2f} points — more than 0.2.")
        self.status.setText(f"Fine-tuned on {result.trained_drawings} drawings "
                            f"({result.held_out} held out): {result.reason}.{note}")
        self.use_button.setEnabled(True)
        self.before_button.setEnabled(True)
        self.finished.emit(result)

    def _on_error(self, reason: str) -> None:
        self.status.setText(f"Fine-tuning failed: {reason}")

    def _on_finished(self) -> None:
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    @Slot()
    def use_tuned(self) -> None:
        """Make the tuned model the model in use (the model before stays in ``result``)."""
        if self.result is None:
            return
        name = f"{self.current.name or 'model'} (fine-tuned)"
        self.current.use(self.result.model, name, self.result.metadata, saved=False,
                         key=("finetune", id(self.result)))
        self.status.setText(f"Using the fine-tuned model ({name}); Save Model keeps it in a file.")

    @Slot()
    def use_before(self) -> None:
        """Make the model the last fine-tune started from the model in use again."""
        if self.result is None or self._before is None:
            return
        name, metadata, path = self._before
        self.current.use(self.result.base_model, name or "model", metadata, path=path,
                         saved=path is not None, key=("finetune-base", id(self.result)))
        self.status.setText(f"Using the model before the fine-tune ({name}).")
