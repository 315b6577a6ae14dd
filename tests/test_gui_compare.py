"""Run comparison and the history panel driven with pytest-qt: overlay, delete, CSV export."""

from __future__ import annotations

import csv

import pytest
from gui_train_support import make_tab, wait_idle
from PySide6.QtCore import QItemSelectionModel

from digitpad.core import history
from digitpad.gui.history_actions import HistoryPanel
from digitpad.gui.run_compare import RunCompareDialog


def record(arch, val, loss, acc=0.9, **extra):
    rec = {"kind": "train", "status": "completed", "arch": arch, "epochs": len(val),
           "test_accuracy": acc, "config": {"arch": arch, "dropout": None},
           "date": "2026-12-02T08:00:00", "history": {"val_accuracy": val, "loss": loss}}
    rec.update(extra)
    return rec


def select_rows(table, rows):
    model = table.selectionModel()
    model.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in rows:
        model.select(table.model().index(row, 0), flags)


def test_two_runs_curves_are_overlaid(qtbot):
    runs = [record("conv3", [0.9, 0.95, 0.97], [0.5, 0.3, 0.2], acc=0.97),
            record("fast", [0.96], [0.2], acc=0.98)]
    dialog = RunCompareDialog(runs)
    qtbot.addWidget(dialog)
    assert dialog.metric == "val_accuracy" and len(dialog.curves) == 2
    xs, ys = dialog.curves[0].getData()
    assert list(xs) == [1, 2, 3] and list(ys) == pytest.approx([90.0, 95.0, 97.0])
    assert list(dialog.curves[1].getData()[1]) == pytest.approx([96.0])
    pens = {c.opts["pen"].color().name() for c in dialog.curves}
    assert len(pens) == 2
    dialog.set_metric("loss")
    assert list(dialog.curves[0].getData()[1]) == pytest.approx([0.5, 0.3, 0.2])
    dialog.set_metric("accuracy")  # not stored by these runs
    assert all(len(c.getData()[0] if c.getData()[0] is not None else []) == 0
               for c in dialog.curves)
    assert dialog.note.text() == "2 of the runs stored no training accuracy curve."
    # the notebook's table: best test accuracy first
    assert [dialog.table.item(n, 0).text() for n in range(2)] == ["fast", "conv3"]
    assert dialog.table.item(1, 2).text() == "0.25/0.25/0.5"


@pytest.fixture
def panel(qtbot, tmp_path):
    answers: list = []
    confirms: list[bool] = []
    widget = HistoryPanel(confirm=lambda text: confirms.pop(0),
                          ask_csv_path=lambda suggested: answers.pop(0))
    qtbot.addWidget(widget)
    widget.answers, widget.confirms = answers, confirms
    for rec in (record("conv3", [0.9, 0.95], [0.5, 0.3], date="2026-12-02T08:00:00"),
                record("fast", [0.96], [0.2], date="2026-12-02T08:05:00"),
                record("vgg", [0.8], [0.7], date="2026-12-02T08:10:00")):
        history.append_run(rec)
    widget.table.reload()
    return widget


def test_selected_history_rows_are_compared(panel, qtbot):
    assert not panel.compare_button.isEnabled()
    select_rows(panel.table, [0, 2])  # newest first: vgg, fast, conv3
    assert panel.compare_button.isEnabled() and panel.delete_button.isEnabled()
    panel.compare_button.click()
    dialog = panel.compare_dialog
    assert dialog is not None and dialog.isVisible()
    assert [r["arch"] for r in dialog.records] == ["vgg", "conv3"]
    assert [len(c.getData()[0]) for c in dialog.curves] == [1, 2]


def test_deleting_rows_asks_then_removes_them_from_the_file(panel):
    select_rows(panel.table, [1])
    panel.confirms.append(False)
    panel.delete_button.click()
    assert len(history.load_history()) == 3
    panel.confirms.append(True)
    panel.delete_button.click()
    assert [r["arch"] for r in history.load_history()] == ["conv3", "vgg"]
    assert panel.table.rowCount() == 2 and panel.note.text() == "Deleted 1 run(s)."


def test_the_history_is_exported_as_csv(panel, tmp_path):
    target = tmp_path / "runs.csv"
    panel.answers.append(str(target))
    panel.export_button.click()
    with target.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["arch"] for r in rows] == ["conv3", "fast", "vgg"]
    assert rows[0]["test_accuracy"] == "0.9" and "Wrote 3 run(s)" in panel.note.text()
    panel.answers.append(str(tmp_path / "missing" / "runs.csv"))
    panel.export_button.click()
    assert panel.note.text().startswith("Cannot write")


def test_the_train_tab_sweep_button_opens_a_sweep_over_its_settings(qtbot):
    tab = make_tab(qtbot)
    tab.sweep_button.click()
    dialog = tab.sweep_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.param_combo.setCurrentText("dropout")  # the form's fast has no dropout layers
    dialog.start_button.click()
    assert not tab.is_training() and "'fast' has no dropout layers" in tab.errors[-1][1]
    dialog.close()


@pytest.mark.slow
def test_two_real_runs_of_the_train_tab_are_overlaid(qtbot):
    tab = make_tab(qtbot)
    for epochs in (1, 2):
        tab.form.epochs_spin.setValue(epochs)
        tab.start_button.click()
        qtbot.waitUntil(tab.is_training, timeout=10_000)
        wait_idle(qtbot, tab)
    table = tab.results.history_table
    assert table.rowCount() == 2
    select_rows(table, [0, 1])
    tab.results.history_panel.compare_button.click()
    dialog = tab.results.history_panel.compare_dialog
    assert sorted(len(c.getData()[0]) for c in dialog.curves) == [1, 2]
    assert dialog.table.rowCount() == 2
