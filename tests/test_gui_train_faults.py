"""Train tab faults (pytest-qt, offscreen): worker exceptions, NaN loss, stop/start abuse, leaks,
shutdown during training, failed saves. Real Keras training on small real MNIST subsets."""

from __future__ import annotations

import gc
import os
import threading

import pytest

pytest.importorskip("pytestqt")

from gui_train_support import finish, make_tab, wait_idle  # noqa: E402

from digitpad.gui.train_tab import TrainTab  # noqa: E402

pytestmark = pytest.mark.slow  # every test here trains (or tries to) with Keras


@pytest.fixture
def tab(qtbot):
    t = make_tab(qtbot)
    yield t
    finish(qtbot, t)


def assert_idle(tab: TrainTab) -> None:
    assert not tab.is_training()
    assert tab.start_button.isEnabled()
    assert not tab.stop_button.isEnabled()


def status(tab: TrainTab) -> str:
    return str(tab.current_result().status.value)


def thread_counts() -> tuple[int, int]:
    """(Python threads, OS threads of this process).

    Python 3.11 keeps a ``_DummyThread`` entry for every foreign thread (QThread, TensorFlow) that
    ever ran Python code and reports it alive forever, so those are not counted; the OS count
    (``/proc/self/task``) shows whether threads really remain.
    """
    py = [t for t in threading.enumerate() if not isinstance(t, threading._DummyThread)]
    return len(py), len(os.listdir("/proc/self/task"))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def test_missing_data_source_is_reported(tab, qtbot, tmp_path):
    tab.set_data_source(str(tmp_path / "no-such-folder"))
    tab.start_training()
    wait_idle(qtbot, tab, 60000)
    assert_idle(tab)
    assert len(tab.errors) == 1
    title, text = tab.errors[0]
    assert title == "Training failed"
    assert "no-such-folder" in text and "\n" not in text and "Traceback" not in text
    assert "Training failed" in tab.results.progress.log.toPlainText()
    assert tab.current_model() is None and not tab.has_unsaved_model()


def test_unexpected_worker_exception_is_shown(tab, qtbot, monkeypatch):
    from digitpad.core.training import TrainingSession

    def boom(self):
        raise RuntimeError("simulated engine failure")

    monkeypatch.setattr(TrainingSession, "run", boom)
    tab.start_button.click()
    wait_idle(qtbot, tab, 60000)
    assert_idle(tab)
    assert tab.errors and "simulated engine failure" in tab.errors[0][1]
    assert "simulated engine failure" in tab.result_label.text()
    # the tab still works afterwards
    monkeypatch.undo()
    tab.errors.clear()
    tab.start_training()
    wait_idle(qtbot, tab)
    assert tab.errors == [] and status(tab) == "completed"


def test_absurd_learning_rate_reports_nan_reason(tab, qtbot):
    tab.form.optimizer_combo.setCurrentText("sgd")
    tab.form.lr_spin.setValue(1e6)
    assert tab.form.lr_spin.value() == pytest.approx(1e6)
    tab.start_training()
    wait_idle(qtbot, tab)
    assert_idle(tab)
    result = tab.current_result()
    assert status(tab) == "diverged"
    assert tab.errors, "the NaN reason must be shown"
    assert result.reason in tab.errors[0][1]
    assert result.reason in tab.results.progress.log.toPlainText()
    # a model that diverged in its first epoch is neither offered nor counted as unsaved work
    assert tab.current_model() is None
    assert not tab.has_unsaved_model()
    assert not tab.save_button.isEnabled() and not tab.use_button.isEnabled()
    assert tab.results.history_table.rowCount() == 1


def test_stop_in_first_batch_and_batch_larger_than_data(tab, qtbot):
    tab.form.limit_spin.setValue(200)
    tab.form.val_spin.setValue(0.0)
    tab.form.batch_spin.setValue(5000)
    tab.start_training()
    tab.request_stop()  # before the first batch has even run
    tab.request_stop()
    wait_idle(qtbot, tab, 60000)
    assert_idle(tab)
    assert tab.errors == []
    assert status(tab) == "stopped" and tab.current_result().epochs_done == 0
    assert "stopped by user before epoch 1 began" in tab.result_label.text()
    # now let it run: batch size 5000 > 200 images is clamped with a message, not an error
    tab.start_training()
    wait_idle(qtbot, tab, 60000)
    assert tab.errors == []
    assert status(tab) == "completed"
    assert "larger than the 200 training images" in tab.results.progress.log.toPlainText()


def test_twenty_start_stop_cycles_do_not_leak(qtbot):
    tab = make_tab(qtbot, epochs=50, limit=600)
    tab.form.val_spin.setValue(0.0)
    batches = lambda: tab.results.plots.point_counts()["batch_loss"]  # noqa: E731
    # warm up once (TensorFlow import, first graph) before taking the baseline
    tab.start_training()
    qtbot.waitUntil(lambda: batches() > 0, timeout=90000)
    tab.request_stop()
    wait_idle(qtbot, tab, 60000)
    assert tab.runner.wait_all(60000)
    gc.collect()
    py0, os0 = thread_counts()
    rss0 = rss_mb()
    for cycle in range(20):
        tab.start_button.click()
        assert tab.is_training()
        if cycle % 2:
            qtbot.waitUntil(lambda: batches() > 0, timeout=60000)
        tab.stop_button.click()
        tab.stop_button.click()
        wait_idle(qtbot, tab, 60000)
        assert_idle(tab)
    assert tab.runner.wait_all(60000)
    gc.collect()
    assert tab.errors == []
    assert tab.results.history_table.rowCount() == 21
    assert tab.runner.tasks() == []
    py1, os1 = thread_counts()
    growth = rss_mb() - rss0
    print(f"20 start/stop cycles: RSS growth {growth:.1f} MB, Python threads {py0}->{py1}, OS threads {os0}->{os1}")
    assert py1 <= py0
    assert os1 <= os0 + 2, f"OS threads {os0} -> {os1}"
    assert growth < 300, f"RSS grew {growth:.0f} MB over 20 cycles"
    finish(qtbot, tab)


def test_shutdown_while_training_stops_the_run(qtbot):
    tab = make_tab(qtbot, epochs=50, limit=1500)
    py0, _ = thread_counts()
    tab.start_training()
    qtbot.waitUntil(lambda: tab.results.plots.point_counts()["batch_loss"] >= 2, timeout=90000)
    tab.shutdown()
    wait_idle(qtbot, tab, 60000)
    assert tab.runner.wait_all(60000) and tab.runner.tasks() == []
    assert thread_counts()[0] <= py0
    result = tab.current_result()
    assert status(tab) == "stopped" and result.epochs_done < 50
    assert tab.has_unsaved_model()  # the stopped run's model is kept for a save prompt
    assert tab.errors == []
    finish(qtbot, tab)


def test_save_while_training_stops_and_saves(qtbot, tmp_path):
    tab = make_tab(qtbot, epochs=50, limit=1500)
    target = tmp_path / "while-training.keras"
    tab.save_answers.append((str(target), "Keras model (*.keras)"))
    tab.start_training()
    qtbot.waitUntil(lambda: tab.results.plots.point_counts()["batch_loss"] >= 2, timeout=90000)
    with qtbot.waitSignal(tab.model_saved, timeout=120000):
        assert tab.save_model_interactive() is True
    assert not tab.is_training() and target.exists()
    assert status(tab) == "stopped"
    assert not tab.has_unsaved_model()
    finish(qtbot, tab)


def test_save_to_unwritable_place_keeps_model(tab, qtbot, tmp_path):
    tab.start_training()
    wait_idle(qtbot, tab)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")  # unwritable even for root
    tab.save_answers.append((str(blocker / "m.keras"), "Keras model (*.keras)"))
    with qtbot.waitSignal(tab.current.failed, timeout=60000) as failed:
        assert tab.save_model_interactive() is True
    assert failed.args[0] == "Save failed"
    log = tab.results.progress.log.toPlainText()
    assert "Cannot save the model" in log and "still in memory" in log and "Traceback" not in log
    assert tab.has_unsaved_model() and tab.current_model() is not None
    assert tab.save_button.isEnabled()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]


def test_save_with_bad_suffix_gets_the_filter_suffix(tab, qtbot, tmp_path):
    tab.start_training()
    wait_idle(qtbot, tab)
    tab.save_answers.append((str(tmp_path / "mymodel"), "Legacy HDF5 model (*.h5)"))
    with qtbot.waitSignal(tab.model_saved, timeout=60000) as saved:
        assert tab.save_model_interactive() is True
    assert saved.args == [str(tmp_path / "mymodel.h5")]
    assert (tmp_path / "mymodel.h5").exists()
