"""Compare runs of the history: their stored per-epoch curves overlaid, and the notebook's table.

:class:`RunCompareDialog` takes run-history records (the rows selected in the history table),
draws one curve per run of the chosen metric (validation accuracy, training accuracy, loss,
validation loss) against the epoch, one colour per run, and lists the runs' architecture,
batch-norm, dropout and test accuracy (``digitpad.core.run_table.comparison_table``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.run_table import comparison_table, record_curves, record_label
from digitpad.gui.plot_view import GuardedPlotWidget

#: (curve key in the record's history, label) of the metrics that can be compared.
METRICS = (
    ("val_accuracy", "validation accuracy"),
    ("accuracy", "training accuracy"),
    ("val_loss", "validation loss"),
    ("loss", "training loss"),
)
TABLE_HEADERS = ("Architecture", "Batch-norm", "Dropout", "Test acc", "Epochs", "Run", "Date")


def run_colour(index: int, count: int) -> Any:
    """Colour of the ``index``-th of ``count`` runs."""
    return pg.intColor(index, hues=max(count, 2), values=1, maxValue=220, minValue=150)


class RunCompareDialog(QDialog):
    """Overlay of the selected runs' learning curves, and their comparison table."""

    def __init__(self, records: list[dict], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare {len(records)} run(s)")
        self.records = list(records)
        self.metric_combo = QComboBox(self)
        for key, label in METRICS:
            self.metric_combo.addItem(label, key)
        self.metric_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        self.plot = GuardedPlotWidget(self)
        self.plot.setLabel("bottom", "epoch")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.note = QLabel("", self)
        self.table = QTableWidget(0, len(TABLE_HEADERS), self)
        self.table.setHorizontalHeaderLabels(TABLE_HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.curves: list[pg.PlotDataItem] = []

        top = QHBoxLayout()
        top.addWidget(QLabel("Curve:", self))
        top.addWidget(self.metric_combo)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.plot, 3)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 2)
        self._fill_table()
        self.redraw()
        self.resize(820, 600)

    @property
    def metric(self) -> str:
        """The curve key shown (e.g. ``val_accuracy``)."""
        return str(self.metric_combo.currentData())

    def set_metric(self, key: str) -> None:
        """Show the curve ``key`` (one of :data:`METRICS`)."""
        self.metric_combo.setCurrentIndex(self.metric_combo.findData(key))

    def redraw(self) -> None:
        """Draw one curve per run of the chosen metric (accuracies in percent)."""
        self.plot.clear()
        self.legend.clear()
        self.curves = []
        key = self.metric
        percent = "accuracy" in key
        self.plot.setLabel("left", dict(METRICS)[key] + (" (%)" if percent else ""))
        missing = 0
        for n, record in enumerate(self.records):
            values = record_curves(record).get(key) or []
            points = [(e, v) for e, v in enumerate(values, start=1) if v is not None]
            if not points:
                missing += 1
            xs = np.asarray([p[0] for p in points], dtype=float)
            ys = np.asarray([p[1] * (100.0 if percent else 1.0) for p in points], dtype=float)
            pen = pg.mkPen(run_colour(n, len(self.records)), width=2)
            self.curves.append(self.plot.plot(xs, ys, pen=pen, symbol="o", symbolSize=5,
                                              symbolBrush=run_colour(n, len(self.records)),
                                              name=record_label(record)))
        self.note.setText(f"{missing} of the runs stored no {dict(METRICS)[key]} curve."
                          if missing else "")

    def _fill_table(self) -> None:
        rows = comparison_table(self.records)
        self.table.setRowCount(len(rows))
        for n, row in enumerate(rows):
            bn = row["batchnorm"]
            cells = (row["arch"], "?" if bn is None else ("yes" if bn else "no"), row["dropout"],
                     f"{100 * row['test_accuracy']:.2f} %", str(row.get("epochs") or "–"),
                     str(row.get("kind") or ""), str(row.get("date") or "").replace("T", " ")[:16])
            for col, text in enumerate(cells):
                self.table.setItem(n, col, QTableWidgetItem(text))
