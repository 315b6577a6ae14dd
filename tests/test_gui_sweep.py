"""The sweep dialog driven with pytest-qt: a real tiny sweep, live curves, table, best run."""

from __future__ import annotations

import pytest

from digitpad.core import history
from digitpad.core.training import TrainConfig
from digitpad.gui.current_model import CurrentModel
from digitpad.gui.sweep_view import SweepDialog
from digitpad.gui.tasks import TaskRunner


def tiny_config():
    return TrainConfig(arch="fast", epochs=1, batch_size=32, device="cpu", train_limit=300,
                       test_limit=200)


@pytest.fixture
def dialog(qtbot):
    runner = TaskRunner()
    errors: list[tuple[str, str]] = []
    answers: list[str] = []
    dlg = SweepDialog(tiny_config, runner=runner, current=CurrentModel(runner),
                      show_error=lambda title, text: errors.append((title, text)),
                      ask_save_path=lambda suggested: answers.pop(0) if answers else None)
    qtbot.addWidget(dlg)
    dlg.errors, dlg.answers, dlg.runner = errors, answers, runner
    yield dlg
    dlg.request_stop()
    runner.wait_all(120_000)


def test_values_that_do_not_fit_are_said_and_nothing_starts(dialog):
    dialog.param_combo.setCurrentText("dropout")  # fast has no dropout layers
    assert dialog.values_edit.text().startswith("0.0,0.1")
    dialog.start_button.click()
    assert not dialog.is_running() and dialog.stop_button.isEnabled() is False
    ((title, text),) = dialog.errors
    assert title == "Cannot start the sweep" and "'fast' has no dropout layers" in text
    assert text in dialog.status_label.text() and history.load_history() == []


@pytest.mark.slow
def test_a_real_tiny_sweep_shows_curves_table_and_uses_the_best_run(dialog, qtbot, tmp_path):
    dialog.param_combo.setCurrentText("batch_size")
    dialog.values_edit.setText("32,64")
    with qtbot.waitSignal(dialog.running_changed, timeout=10_000):
        dialog.start_button.click()
    assert dialog.stop_button.isEnabled() and not dialog.start_button.isEnabled()
    with qtbot.waitSignal(dialog.finished_sweep, timeout=180_000) as finished:
        pass
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=10_000)
    result = finished.args[0]
    assert [r.value for r in result.rows] == [32, 64] and not dialog.errors
    # live curves, one per value, in different colours
    curves = dialog.plots.curves
    assert len(curves) == 2 and all(len(c.getData()[0]) > 0 for c in curves)
    assert curves[0].opts["pen"].color().name() != curves[1].opts["pen"].color().name()
    # the table and the accuracy-against-value plot
    assert dialog.table.rowCount() == 2
    assert [dialog.table.item(n, 0).text() for n in range(2)] == ["32", "64"]
    assert dialog.table.item(0, 1).text() == "completed"
    xs, ys = dialog.plots.accuracy_items["val_accuracy"].getData()
    assert list(xs) == [32.0, 64.0] and all(0 <= y <= 100 for y in ys)
    assert dialog.progress.value() == dialog.progress.maximum()
    assert "Best: batch_size = " in dialog.status_label.text()
    assert len(history.load_history()) == 2
    # the best run: use in Recognize, then save
    assert dialog.use_button.isEnabled() and dialog.save_button.isEnabled()
    with qtbot.waitSignal(dialog.current.changed, timeout=60_000):
        dialog.use_button.click()
    assert dialog.current.entry.model is result.best_model
    assert "best of sweep" in dialog.current.entry.name
    target = tmp_path / "best.keras"
    dialog.answers.append(str(target))
    with qtbot.waitSignal(dialog.current.saved, timeout=60_000):
        dialog.save_button.click()
    assert target.is_file() and dialog.current.is_saved
    assert "Saved the best run" in dialog.status_label.text()


@pytest.mark.slow
def test_stopping_keeps_the_finished_runs(dialog, qtbot):
    dialog.param_combo.setCurrentText("learning_rate")
    dialog.values_edit.setText("0.002,0.004,0.008")
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=180_000)
    dialog.stop_button.click()
    with qtbot.waitSignal(dialog.finished_sweep, timeout=120_000) as finished:
        pass
    result = finished.args[0]
    assert result.stopped and dialog.table.rowCount() == len(result.rows)
    statuses = [r.status.value for r in result.rows]
    assert statuses[0] == "completed" and all(s == "completed" for s in statuses[:-1])
    assert len(statuses) < 3 or statuses[-1] == "stopped"  # the third value never finished
    assert "Stopped after" in dialog.status_label.text()
    assert [r["sweep"]["value"] for r in history.load_history()] == [
        r.value for r in result.rows]
