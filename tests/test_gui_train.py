"""Train tab (pytest-qt, offscreen): form, live plots, stop, continue, use, save, history, k-fold.

Real Keras training of the ``fast`` architecture on ~1500 real MNIST images.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from digitpad.gui import workers  # noqa: E402
from digitpad.gui.train_tab import NO_GPU_REASON, TrainTab  # noqa: E402

LIMIT = 1500


def make_tab(qtbot, errors: list | None = None, *, epochs: int = 1, limit: int = LIMIT) -> TrainTab:
    tab = TrainTab()
    qtbot.addWidget(tab)
    sink = errors if errors is not None else []
    tab._show_error = lambda title, text: sink.append((title, text))
    idx = tab.arch_combo.findData("fast")
    tab.arch_combo.setCurrentIndex(idx)
    tab.epochs_spin.setValue(epochs)
    tab.limit_spin.setValue(limit)
    tab.config_overrides["test_limit"] = 500
    return tab


def finish(tab: TrainTab) -> None:
    tab.shutdown()
    assert workers.wait_all_jobs(60000)
    assert not tab.is_training()


@pytest.fixture
def tab(qtbot):
    errors: list = []
    t = make_tab(qtbot, errors)
    t.errors = errors
    yield t
    finish(t)


def test_arch_defaults_param_count_and_persistence(qtbot):
    from digitpad.core.archs import ARCHS, param_count

    tab = make_tab(qtbot)
    tab.arch_combo.setCurrentIndex(tab.arch_combo.findData("mnist_cnn"))
    spec = ARCHS["mnist_cnn"]
    assert tab.optimizer_combo.currentText() == spec.optimizer
    assert tab.lr_spin.value() == pytest.approx(spec.learning_rate)
    assert tab.batch_spin.value() == spec.batch_size
    assert tab.epochs_spin.value() == spec.epochs
    assert spec.description in tab.arch_info.text()
    expected = f"{param_count('mnist_cnn'):,} parameters"
    qtbot.waitUntil(lambda: expected in tab.arch_info.text(), timeout=60000)

    # learning-rate spin box steps on a log scale
    tab.lr_spin.setValue(0.01)
    tab.lr_spin.stepBy(2)
    assert tab.lr_spin.value() == pytest.approx(0.1)
    tab.lr_spin.stepBy(-1)
    assert tab.lr_spin.value() == pytest.approx(0.0316)

    tab.epochs_spin.setValue(7)
    tab.lr_spin.setValue(0.25)
    tab.val_spin.setValue(0.2)
    tab.seed_spin.setValue(42)
    tab.augment_check.setChecked(True)
    tab.set_data_source("/some/where/mnist.npz")
    finish(tab)

    again = TrainTab()
    qtbot.addWidget(again)
    try:
        assert again.arch_combo.currentData() == "mnist_cnn"
        assert again.epochs_spin.value() == 7
        assert again.lr_spin.value() == pytest.approx(0.25)
        assert again.val_spin.value() == pytest.approx(0.2)
        assert again.seed_spin.value() == 42
        assert again.augment_check.isChecked()
        assert again.limit_spin.value() == LIMIT
        assert again.data_source() == "/some/where/mnist.npz"
        again.set_data_source("")
        assert again.data_source() is None
        config = again.build_config()
        assert config.arch == "mnist_cnn" and config.epochs == 7 and config.train_limit == LIMIT
    finally:
        finish(again)


def test_device_combo_greys_out_missing_gpu(tab, qtbot):
    from digitpad.core.tfsetup import list_gpus

    qtbot.waitUntil(lambda: tab._gpus is not None, timeout=60000)
    texts = [tab.device_combo.itemText(i) for i in range(tab.device_combo.count())]
    assert texts[:2] == ["Auto (GPU if available)", "CPU"]
    model = tab.device_combo.model()
    if not list_gpus():
        gpu_row = texts.index("GPU")
        assert not model.item(gpu_row).isEnabled()
        assert model.item(gpu_row).toolTip() == NO_GPU_REASON
    else:  # pragma: no cover - machines with a GPU
        assert any(t.startswith("GPU:0") for t in texts)


def test_run_streams_points_then_stop_keeps_model(tab, qtbot):
    tab.epochs_spin.setValue(20)  # long enough to be stopped mid-run
    states: list[bool] = []
    tab.training_state_changed.connect(states.append)
    rows_before = tab.history_table.rowCount()
    tab.start_button.click()
    assert tab.is_training()
    assert not tab.start_button.isEnabled() and tab.stop_button.isEnabled()
    item = tab.plots.batch_items["loss"]
    qtbot.waitUntil(lambda: len(item.getData()[0] if item.getData()[0] is not None else []) >= 3, timeout=90000)
    first = len(item.getData()[0])
    first_bar = tab.progress.bar.value()
    qtbot.waitUntil(lambda: len(item.getData()[0]) > first + 3, timeout=60000)
    assert tab.progress.bar.value() > first_bar > 0 or tab.progress.bar.value() > 0
    assert "left" in tab.progress.bar.format()
    x, y = item.getData()
    assert np.all(np.diff(x) > 0) and np.all(np.isfinite(y))
    assert tab.has_unsaved_model()  # a model being trained counts as unsaved

    tab.stop_button.click()
    tab.request_stop()  # Stop twice: harmless
    assert tab.wait_finished(60000)
    assert not tab.is_training()
    result = tab.current_result()
    assert result.stopped and result.reason == "stopped by user"
    assert result.epochs_done < 20
    assert tab.current_model() is not None
    assert tab.has_unsaved_model()
    assert states == [True, False]
    assert tab.progress.bar.format().startswith("Stopped ·")
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()
    assert tab.save_button.isEnabled() and tab.use_button.isEnabled()
    assert tab.history_table.rowCount() == rows_before + 1
    assert tab.errors == []
    from digitpad.core.history import load_history

    runs = load_history()
    assert runs and runs[-1]["arch"] == "fast" and runs[-1]["stopped"] is True


def test_complete_continue_use_and_save(tab, qtbot, tmp_path, monkeypatch):
    tab.start_training()
    tab.start_training()  # Start pressed twice: still one run
    assert tab.wait_finished(120000)
    result = tab.current_result()
    assert result.reason == "completed" and result.epochs_done == 1
    assert tab.history_table.rowCount() == 1
    assert "test accuracy" in tab.result_label.text()
    assert result.test_accuracy > 0.5
    counts = tab.plots.point_counts()
    assert counts["epoch_loss"] == 1 and counts["val_accuracy"] == 1
    batches = counts["batch_loss"]
    assert batches >= 5
    assert "Epoch 1/1" in tab.progress.log.toPlainText()
    bar = tab.progress.bar
    assert bar.value() == bar.maximum() > 0 and bar.format().startswith("Done · test accuracy")

    tab.continue_spin.setValue(1)
    tab.continue_button.click()
    assert tab.is_training()
    assert tab.wait_finished(120000)
    result = tab.current_result()
    assert result.epochs_done == 2
    counts = tab.plots.point_counts()
    assert counts["epoch_loss"] == 2 and counts["batch_loss"] >= 2 * batches - 1
    assert tab.plots.epoch_items["loss"].getData()[0].tolist() == [1.0, 2.0]
    assert tab.history_table.rowCount() == 2

    # Use in Recognize: a softmax model with (28, 28, 1) input, a copy with the same weights
    with qtbot.waitSignal(tab.use_model_requested, timeout=60000) as blocker:
        tab.use_button.click()
    model, name, metadata = blocker.args
    assert model is not tab.current_model()
    assert tuple(model.input_shape) == (None, 28, 28, 1)
    assert tuple(model.output_shape) == (None, 10)
    assert "fast" in name and isinstance(metadata, dict)
    from digitpad.core.data import load_dataset, to_model_input

    x = to_model_input(load_dataset(None).x_test[:16])
    p_copy = np.asarray(model(x, training=False))
    p_orig = np.asarray(tab.current_model()(x, training=False))
    np.testing.assert_allclose(p_copy, p_orig, atol=1e-6)
    np.testing.assert_allclose(p_copy.sum(axis=1), 1.0, atol=1e-5)

    # Save Model…: .keras and .h5, both loadable
    from digitpad.core.modelfile import load_model

    assert tab.has_unsaved_model()
    for suffix, filt in ((".keras", "Keras model (*.keras)"), (".h5", "Legacy HDF5 model (*.h5)")):
        target = tmp_path / f"trained{suffix}"
        monkeypatch.setattr(
            "digitpad.gui.train_tab.QFileDialog.getSaveFileName",
            lambda *a, _t=target, _f=filt, **k: (str(_t), _f),
        )
        assert tab.save_model_interactive() is True
        assert target.exists() and target.stat().st_size > 0
        assert not tab.has_unsaved_model()
        loaded = load_model(target)
        np.testing.assert_allclose(np.asarray(loaded.model(x, training=False)), p_orig, atol=1e-5)
        assert loaded.metadata.get("arch") == "fast" or loaded.metadata.get("config", {}).get("arch") == "fast"

    # a cancelled dialog saves nothing and reports False
    monkeypatch.setattr("digitpad.gui.train_tab.QFileDialog.getSaveFileName", lambda *a, **k: ("", ""))
    assert tab.save_model_interactive() is False
    assert tab.errors == []


def test_start_twice_starts_one_run(tab, qtbot, monkeypatch):
    import digitpad.core.training as training

    created: list = []
    original_init = training.Trainer.__init__

    def counting_init(self, *a, **k):
        created.append(threading.get_ident())
        original_init(self, *a, **k)

    monkeypatch.setattr(training.Trainer, "__init__", counting_init)
    tab.start_button.click()
    tab.start_training()
    tab.start_button.click()
    assert tab.wait_finished(120000)
    assert len(created) == 1
    assert created[0] != threading.get_ident()  # built in the worker thread, not the GUI thread
    assert tab.history_table.rowCount() == 1


def test_history_table_persists_and_sorts(qtbot):
    from PySide6.QtCore import Qt

    from digitpad.core.history import append_run, load_history
    from digitpad.gui.history_table import COLUMNS

    append_run({"arch": "fast", "epochs": 1, "batch_size": 128, "optimizer": "adam", "learning_rate": 0.005,
                "augment": False, "device": "CPU", "elapsed_s": 12.0, "best_val_accuracy": 0.98,
                "test_accuracy": 0.991, "reason": "completed", "date": "2026-01-02T10:00:00"})
    append_run({"arch": "baseline", "epochs": 10, "batch_size": 32, "optimizer": "sgd", "learning_rate": 0.01,
                "augment": True, "device": "CPU", "elapsed_s": 300.0, "best_val_accuracy": 0.985,
                "test_accuracy": 0.9875, "reason": "stopped by user", "date": "2026-01-03T10:00:00"})
    assert len(load_history()) == 2
    tab = make_tab(qtbot)
    try:
        table = tab.history_table
        assert table.rowCount() == 2
        assert table.item(0, 0).text() == "baseline"  # newest first
        assert table.item(1, 9).text() == "99.10 %"
        epochs_col = [c[1] for c in COLUMNS].index("epochs")
        table.sortItems(epochs_col)
        assert [table.item(r, 0).text() for r in range(2)] == ["fast", "baseline"]  # 1 < 10 numerically
        table.sortItems(epochs_col, Qt.SortOrder.DescendingOrder)
        assert [table.item(r, 0).text() for r in range(2)] == ["baseline", "fast"]
    finally:
        finish(tab)


def test_kfold_dialog_shows_folds_and_box_plot(tab, qtbot):
    tab.limit_spin.setValue(800)
    tab.open_kfold()
    dlg = tab.kfold_dialog
    dlg._show_error = lambda title, text: tab.errors.append((title, text))
    dlg.k_spin.setValue(2)
    dlg.run_button.click()
    assert tab.is_training() and not tab.start_button.isEnabled()
    assert tab.wait_finished(180000)
    assert tab.errors == []
    assert dlg.result is not None and len(dlg.result.accuracies) == 2
    assert dlg.table.rowCount() == 2
    assert dlg.box.stats is not None
    xs, ys = dlg.box.points_item.getData()
    assert len(ys) == 2
    assert sorted(np.round(ys, 6)) == sorted(np.round(100 * np.array(dlg.result.accuracies), 6))
    assert "mean" in dlg.summary.text()
    assert tab.start_button.isEnabled()


def test_box_stats():
    from digitpad.gui.kfold_view import box_stats

    st = box_stats([0.1, 0.2, 0.3, 0.4, 5.0])
    assert st["median"] == pytest.approx(0.3)
    assert st["q1"] == pytest.approx(0.2) and st["q3"] == pytest.approx(0.4)
    assert st["outliers"] == [5.0]
    assert st["high"] == pytest.approx(0.4) and st["low"] == pytest.approx(0.1)


def test_progress_throttle_batches_events():
    from digitpad.core.training import Progress

    sent: list[list] = []
    throttle = workers.ProgressThrottle(sent.append, interval=10.0)
    mk = lambda kind, b: Progress(kind, 1, 1, b, 100, b, {"loss": 1.0}, 0.0, 0.0, None)  # noqa: E731
    throttle(mk("batch", 1))  # first one goes at once (nothing sent before)
    for b in range(2, 50):
        throttle(mk("batch", b))
    assert len(sent) == 1  # the rest are held back within the interval
    throttle(mk("epoch", 50))
    assert len(sent) == 2 and len(sent[1]) == 49 and sent[1][-1].kind == "epoch"
    throttle(mk("batch", 51))
    throttle.flush()
    assert len(sent) == 3 and sent[2][0].batch == 51
