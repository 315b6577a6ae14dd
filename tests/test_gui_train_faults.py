"""Train tab faults (pytest-qt, offscreen): worker exceptions, NaN loss, stop/start abuse, leaks,
shutdown during training, failed saves. Real Keras training on small real MNIST subsets."""

from __future__ import annotations

import gc
import os
import threading
import time

import pytest

pytest.importorskip("pytestqt")

from digitpad.gui import workers  # noqa: E402
from digitpad.gui.train_tab import TrainTab  # noqa: E402


def make_tab(qtbot, *, epochs: int = 1, limit: int = 1500) -> TrainTab:
    tab = TrainTab()
    qtbot.addWidget(tab)
    tab.errors = []
    tab._show_error = lambda title, text: tab.errors.append((title, text))
    tab.arch_combo.setCurrentIndex(tab.arch_combo.findData("fast"))
    tab.epochs_spin.setValue(epochs)
    tab.limit_spin.setValue(limit)
    tab.config_overrides["test_limit"] = 300
    return tab


@pytest.fixture
def tab(qtbot):
    t = make_tab(qtbot)
    yield t
    t.shutdown()
    assert workers.wait_all_jobs(60000)


def assert_idle(tab: TrainTab) -> None:
    assert not tab.is_training()
    assert tab.start_button.isEnabled()
    assert not tab.stop_button.isEnabled()


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


def test_missing_data_source_is_reported(tab, tmp_path):
    tab.set_data_source(str(tmp_path / "no-such-folder"))
    tab.start_training()
    assert tab.wait_finished(60000)
    assert_idle(tab)
    assert len(tab.errors) == 1
    title, text = tab.errors[0]
    assert title == "Training failed"
    assert "no-such-folder" in text and "\n" not in text and "Traceback" not in text
    assert "Training failed" in tab.progress.log.toPlainText()
    assert tab.current_model() is None and not tab.has_unsaved_model()


def test_unexpected_worker_exception_is_shown(tab, monkeypatch):
    import digitpad.core.training as training

    def boom(self):
        raise RuntimeError("simulated engine failure")

    monkeypatch.setattr(training.Trainer, "run", boom)
    tab.start_button.click()
    assert tab.wait_finished(60000)
    assert_idle(tab)
    assert tab.errors and "simulated engine failure" in tab.errors[0][1]
    assert "simulated engine failure" in tab.result_label.text()
    # the tab still works afterwards
    monkeypatch.undo()
    tab.errors.clear()
    tab.start_training()
    assert tab.wait_finished(120000)
    assert tab.errors == [] and tab.current_result().reason == "completed"


def test_absurd_learning_rate_reports_nan_reason(tab):
    tab.optimizer_combo.setCurrentText("sgd")
    tab.lr_spin.setValue(1e6)
    assert tab.lr_spin.value() == pytest.approx(1e6)
    tab.start_training()
    assert tab.wait_finished(120000)
    assert_idle(tab)
    result = tab.current_result()
    assert any(w in result.reason for w in ("NaN", "infinite", "diverged"))
    assert tab.errors, "the NaN reason must be shown"
    assert result.reason in tab.errors[0][1]
    assert result.reason in tab.progress.log.toPlainText()
    # a model that diverged in its first epoch is neither offered nor counted as unsaved work
    assert tab.current_model() is None
    assert not tab.has_unsaved_model()
    assert not tab.save_button.isEnabled() and not tab.use_button.isEnabled()
    assert tab.history_table.rowCount() == 1


def test_stop_in_first_batch_and_batch_larger_than_data(tab):
    tab.limit_spin.setValue(200)
    tab.val_spin.setValue(0.0)
    tab.batch_spin.setValue(5000)
    tab.start_training()
    tab.request_stop()  # before the first batch has even run
    tab.request_stop()
    assert tab.wait_finished(60000)
    assert_idle(tab)
    assert tab.errors == []
    result = tab.current_result()
    assert result.stopped and result.epochs_done == 0
    # now let it run: batch size 5000 > 200 images is clamped with a message, not an error
    tab.start_training()
    assert tab.wait_finished(60000)
    assert tab.errors == []
    assert tab.current_result().reason == "completed"
    assert "larger than the 200 training images" in tab.progress.log.toPlainText()


def test_twenty_start_stop_cycles_do_not_leak(qtbot):
    tab = make_tab(qtbot, epochs=50, limit=600)
    tab.val_spin.setValue(0.0)
    # warm up once (TensorFlow import, first graph) before taking the baseline
    tab.start_training()
    qtbot.waitUntil(lambda: tab.plots.point_counts()["batch_loss"] > 0, timeout=90000)
    tab.request_stop()
    assert tab.wait_finished(60000)
    assert workers.wait_all_jobs(60000)
    gc.collect()
    py0, os0 = thread_counts()
    rss0 = rss_mb()
    for cycle in range(20):
        tab.start_button.click()
        assert tab.is_training()
        if cycle % 2:
            qtbot.waitUntil(lambda: tab.plots.point_counts()["batch_loss"] > 0, timeout=60000)
        tab.stop_button.click()
        tab.stop_button.click()
        assert tab.wait_finished(60000), f"cycle {cycle} did not stop"
        assert_idle(tab)
    assert workers.wait_all_jobs(60000)
    gc.collect()
    assert tab.errors == []
    assert tab.history_table.rowCount() == 21
    assert workers.live_jobs() == []
    py1, os1 = thread_counts()
    growth = rss_mb() - rss0
    print(f"20 start/stop cycles: RSS growth {growth:.1f} MB, Python threads {py0}->{py1}, OS threads {os0}->{os1}")
    assert py1 <= py0
    assert os1 <= os0 + 2, f"OS threads {os0} -> {os1}"
    assert growth < 300, f"RSS grew {growth:.0f} MB over 20 cycles"
    tab.shutdown()


def test_shutdown_while_training_stops_cleanly(qtbot):
    tab = make_tab(qtbot, epochs=50, limit=1500)
    py0, _ = thread_counts()
    tab.start_training()
    qtbot.waitUntil(lambda: tab.plots.point_counts()["batch_loss"] >= 2, timeout=90000)
    t0 = time.monotonic()
    tab.shutdown()
    assert time.monotonic() - t0 < 30
    assert not tab.is_training()
    assert workers.live_jobs() == []
    assert thread_counts()[0] <= py0
    result = tab.current_result()
    assert result is not None and result.stopped
    assert tab.has_unsaved_model()  # the stopped run's model is kept for a save prompt
    assert tab.errors == []


def test_save_while_training_stops_and_saves(qtbot, tmp_path, monkeypatch):
    tab = make_tab(qtbot, epochs=50, limit=1500)
    target = tmp_path / "while-training.keras"
    monkeypatch.setattr("digitpad.gui.train_tab.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), "Keras model (*.keras)"))
    tab.start_training()
    qtbot.waitUntil(lambda: tab.plots.point_counts()["batch_loss"] >= 2, timeout=90000)
    assert tab.save_model_interactive() is True
    assert not tab.is_training() and target.exists()
    assert not tab.has_unsaved_model()
    tab.shutdown()


def test_save_to_unwritable_place_keeps_model(tab, tmp_path, monkeypatch):
    tab.start_training()
    assert tab.wait_finished(120000)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")  # unwritable even for root
    monkeypatch.setattr("digitpad.gui.train_tab.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(blocker / "m.keras"), "Keras model (*.keras)"))
    assert tab.save_model_interactive() is False
    assert tab.errors and tab.errors[0][0] == "Cannot save the model"
    assert "still in memory" in tab.errors[0][1] and "Traceback" not in tab.errors[0][1]
    assert tab.has_unsaved_model() and tab.current_model() is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]


def test_save_with_bad_suffix_gets_keras_suffix(tab, tmp_path, monkeypatch):
    tab.start_training()
    assert tab.wait_finished(120000)
    monkeypatch.setattr("digitpad.gui.train_tab.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "mymodel"), "Legacy HDF5 model (*.h5)"))
    assert tab.save_model_interactive() is True
    assert (tmp_path / "mymodel.h5").exists()
