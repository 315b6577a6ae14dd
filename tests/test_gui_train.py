"""Train tab (pytest-qt, offscreen): form, live plots, stop, continue, use, save, history, k-fold.

Real Keras training of the ``fast`` architecture on a few hundred real MNIST images.
"""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from gui_train_support import LIMIT, finish, make_tab, wait_idle  # noqa: E402

from digitpad.gui.train_tab import NO_GPU_REASON  # noqa: E402


@pytest.fixture
def tab(qtbot):
    t = make_tab(qtbot)
    yield t
    finish(qtbot, t)


def xs(item) -> np.ndarray:
    x = item.getData()[0]
    return np.asarray([] if x is None else x)


def test_arch_defaults_param_count_and_persistence(qtbot):
    from digitpad.core.archs import ARCHS, param_count

    tab = make_tab(qtbot)
    form = tab.form
    form.arch_combo.setCurrentIndex(form.arch_combo.findData("mnist_cnn"))
    spec = ARCHS["mnist_cnn"]
    assert form.optimizer_combo.currentText() == spec.optimizer
    assert form.lr_spin.value() == pytest.approx(spec.learning_rate)
    assert form.batch_spin.value() == spec.batch_size
    assert form.epochs_spin.value() == spec.epochs
    assert spec.description in form.arch_info.text()
    expected = f"{param_count('mnist_cnn'):,} parameters"
    qtbot.waitUntil(lambda: expected in form.arch_info.text(), timeout=60000)

    # learning-rate spin box steps on a log scale
    form.lr_spin.setValue(0.01)
    form.lr_spin.stepBy(2)
    assert form.lr_spin.value() == pytest.approx(0.1)
    form.lr_spin.stepBy(-1)
    assert form.lr_spin.value() == pytest.approx(0.0316)

    form.epochs_spin.setValue(7)
    form.lr_spin.setValue(0.25)
    form.val_spin.setValue(0.2)
    form.seed_spin.setValue(42)
    form.augment_combo.set_mode("mnist")
    tab.continue_spin.setValue(3)
    tab.set_data_source("/some/where/mnist.npz")
    finish(qtbot, tab)

    again = make_tab(qtbot, configure=False)
    try:
        f = again.form
        assert f.arch_combo.currentData() == "mnist_cnn"
        assert f.epochs_spin.value() == 7
        assert f.lr_spin.value() == pytest.approx(0.25)
        assert f.val_spin.value() == pytest.approx(0.2)
        assert f.seed_spin.value() == 42
        assert f.augment_combo.mode() == "mnist"
        assert f.limit_spin.value() == LIMIT
        assert again.continue_spin.value() == 3
        assert again.data_source() == "/some/where/mnist.npz"
        again.set_data_source("")
        assert again.data_source() is None
        config = again.build_config()
        assert config.arch == "mnist_cnn" and config.epochs == 7 and config.train_limit == LIMIT
    finally:
        finish(qtbot, again)


def test_optimizer_and_schedule_names_come_from_the_core(tab):
    from digitpad.core.training import OPTIMIZERS, SCHEDULES

    combo = tab.form.optimizer_combo
    assert [combo.itemText(i) for i in range(combo.count())] == list(OPTIMIZERS)
    combo = tab.form.schedule_combo
    assert [combo.itemText(i) for i in range(combo.count())] == list(SCHEDULES)


def test_device_combo_greys_out_missing_gpu(tab, qtbot):
    from digitpad.core.tfsetup import list_gpus

    qtbot.waitUntil(lambda: tab.form.device_combo.gpus is not None, timeout=60000)
    combo = tab.form.device_combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts[:2] == ["Auto (GPU if available)", "CPU"]
    if not list_gpus():
        gpu_row = texts.index("GPU")
        assert not combo.model().item(gpu_row).isEnabled()
        assert combo.model().item(gpu_row).toolTip() == NO_GPU_REASON
    else:  # pragma: no cover - machines with a GPU
        assert any(t.startswith("GPU:0") for t in texts)


def test_plots_keep_their_width_at_the_window_minimum_size(qtbot):
    """Bug 6: at 713×697 the plots were ~100 px wide; the form now scrolls instead."""
    from PySide6.QtWidgets import QTabWidget

    holder = QTabWidget()
    qtbot.addWidget(holder)
    tab = make_tab(qtbot)
    holder.addTab(tab, "Train")
    holder.resize(713, 650)  # the tab area of the window at its minimum size
    holder.show()
    qtbot.waitExposed(holder)
    qtbot.waitUntil(lambda: tab.width() <= 713)
    plots = tab.results.plots.plots
    assert all(p.width() >= 300 for p in plots.values()), {k: p.width() for k, p in plots.items()}
    assert tab.form_scroll.width() < tab.results.width()
    assert tab.form_scroll.verticalScrollBar().maximum() > 0  # the form scrolls rather than squeezes
    finish(qtbot, tab)


@pytest.mark.slow
def test_run_streams_points_then_stop_keeps_model(tab, qtbot):
    tab.form.epochs_spin.setValue(50)  # long enough to be stopped mid-run
    tab.form.batch_spin.setValue(8)
    states: list[bool] = []
    tab.training_state_changed.connect(states.append)
    tab.start_button.click()
    assert tab.is_training()
    assert not tab.start_button.isEnabled() and tab.stop_button.isEnabled()
    assert "the weights trained so far are kept" in tab.stop_button.toolTip()
    item = tab.results.plots.batch_items["loss"]
    bar = tab.results.progress.bar
    qtbot.waitUntil(lambda: len(xs(item)) >= 3 and bar.value() > 0, timeout=90000)
    first, first_bar = len(xs(item)), bar.value()
    qtbot.waitUntil(lambda: len(xs(item)) > first + 3 and bar.value() > first_bar, timeout=60000)
    assert "left" in bar.format()
    x, y = item.getData()
    assert np.all(np.diff(x) > 0) and np.all(np.isfinite(y))
    assert tab.has_unsaved_model()  # a model being trained counts as unsaved

    tab.stop_button.click()
    tab.request_stop()  # Stop twice: harmless
    wait_idle(qtbot, tab)
    result = tab.current_result()
    assert str(result.status.value) == "stopped"
    assert result.epochs_done < 50
    assert tab.current_model() is not None and tab.has_model() and tab.has_unsaved_model()
    assert states == [True, False]
    assert bar.format().startswith("Stopped ·")
    assert "the weights trained so far are kept" in tab.result_label.text()
    assert "restored the weights" not in tab.results.progress.log.toPlainText()
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()
    assert tab.save_button.isEnabled() and tab.use_button.isEnabled()
    assert tab.errors == []
    from digitpad.core.history import load_history

    runs = load_history()
    assert len(runs) == 1 and runs[-1]["arch"] == "fast" and runs[-1]["stopped"] is True
    assert tab.results.history_table.rowCount() == 1  # the core's record, shown once


@pytest.mark.slow
def test_stop_inside_epoch_then_continue_goes_on_where_it_stopped(tab, qtbot):
    """Bug 4: the continued curve restarted at x = 0 (zig-zag) and the summary said
    'Stopped by user after 0 epoch(s)' after 400 of 422 batches."""
    tab.form.batch_spin.setValue(4)  # ~68 batches in the epoch: room to stop inside it
    tab.form.val_spin.setValue(0.1)
    item = tab.results.plots.batch_items["loss"]
    tab.start_training()
    qtbot.waitUntil(lambda: len(xs(item)) >= 3, timeout=90000)
    tab.request_stop()
    wait_idle(qtbot, tab)
    result = tab.current_result()
    assert str(result.status.value) == "stopped" and result.epochs_done == 0
    summary = tab.result_label.text()
    found = re.search(r"stopped by user in epoch 1 after (\d+) of (\d+) batches \(0 full epochs done\); "
                      r"the weights trained so far are kept", summary)
    assert found, summary
    done, total = int(found.group(1)), int(found.group(2))
    assert 0 < done < total
    before = xs(item)
    assert 0 < before[-1] < 1
    assert before[-1] == pytest.approx(done / total)

    tab.continue_spin.setValue(1)
    tab.continue_button.click()
    wait_idle(qtbot, tab)
    assert str(tab.current_result().status.value) == "completed"
    after = xs(item)
    assert len(after) > len(before)
    assert np.all(np.diff(after) > 0), "the continued curve must not jump back"
    assert after[len(before)] > before[-1]
    epochs = tab.results.plots.epoch_items["loss"].getData()[0]
    assert len(epochs) == 1 and epochs[0] > before[-1]
    assert tab.errors == []


@pytest.mark.slow
def test_complete_continue_use_and_save(tab, qtbot, tmp_path):
    tab.form.batch_spin.setValue(16)  # ~17 batches: enough to learn something from 270 images
    tab.start_training()
    tab.start_training()  # Start pressed twice: still one run
    wait_idle(qtbot, tab)
    result = tab.current_result()
    assert str(result.status.value) == "completed" and result.epochs_done == 1
    assert tab.results.history_table.rowCount() == 1
    assert "test accuracy" in tab.result_label.text()
    assert result.test_accuracy > 0.3
    plots = tab.results.plots
    counts = plots.point_counts()
    assert counts["epoch_loss"] == 1 and counts["val_accuracy"] == 1
    batches = counts["batch_loss"]
    assert batches >= 10
    assert "Epoch 1/1" in tab.results.progress.log.toPlainText()
    bar = tab.results.progress.bar
    assert bar.value() == bar.maximum() > 0 and bar.format().startswith("Done · test accuracy")

    tab.continue_spin.setValue(1)
    tab.continue_button.click()
    assert tab.is_training()
    wait_idle(qtbot, tab)
    result = tab.current_result()
    assert result.epochs_done == 2
    counts = plots.point_counts()
    assert counts["epoch_loss"] == 2 and counts["batch_loss"] >= 2 * batches - 1
    assert plots.epoch_items["loss"].getData()[0].tolist() == [1.0, 2.0]
    assert "Epoch 2/2" in tab.results.progress.log.toPlainText()
    assert tab.results.history_table.rowCount() == 2

    # Use in Recognize: the current model becomes a copy with (28, 28, 1) input and the same weights
    with qtbot.waitSignal(tab.use_model_requested, timeout=60000) as blocker:
        tab.use_button.click()
    qtbot.waitUntil(lambda: tab.current.entry is not None, timeout=60000)
    entry = tab.current.entry
    assert blocker.args == [entry.name] and "fast" in entry.name
    assert entry.model is not tab.current_model()
    assert tuple(entry.model.input_shape) == (None, 28, 28, 1)
    assert tuple(entry.model.output_shape) == (None, 10)
    assert entry.metadata["arch"] == "fast" and entry.path is None and not tab.current.is_saved
    from digitpad.core.data import load_dataset, to_model_input

    x = to_model_input(load_dataset(None).x_test[:16])
    p_copy = np.asarray(entry.model(x, training=False))
    p_orig = np.asarray(tab.current_model()(x, training=False))
    np.testing.assert_allclose(p_copy, p_orig, atol=1e-6)
    np.testing.assert_allclose(p_copy.sum(axis=1), 1.0, atol=1e-5)

    # Save Model…: .keras and .h5, both loadable; the copy in use shares the saved state
    from digitpad.core.modelfile import load_model

    assert tab.has_unsaved_model()
    for suffix, filt in ((".keras", "Keras model (*.keras)"), (".h5", "Legacy HDF5 model (*.h5)")):
        target = tmp_path / f"trained{suffix}"
        tab.save_answers.append((str(target), filt))
        with qtbot.waitSignal(tab.model_saved, timeout=120000) as saved:
            assert tab.save_model_interactive() is True
        assert saved.args == [str(target)]
        assert target.exists() and target.stat().st_size > 0
        assert not tab.has_unsaved_model()
        assert tab.current.is_saved and tab.current.path == str(target)
        loaded = load_model(target)
        np.testing.assert_allclose(np.asarray(loaded.model(x, training=False)), p_orig, atol=1e-5)
        assert loaded.metadata["arch"] == "fast"

    # a cancelled dialog saves nothing and reports False
    assert tab.save_model_interactive() is False
    assert tab.errors == []


@pytest.mark.slow
def test_start_twice_starts_one_run(tab, qtbot, monkeypatch):
    from digitpad.core.training import TrainingSession

    ran: list = []
    original_run = TrainingSession.run

    def counting_run(self):
        ran.append(threading.get_ident())
        return original_run(self)

    monkeypatch.setattr(TrainingSession, "run", counting_run)
    tab.start_button.click()
    tab.start_training()
    tab.start_button.click()
    wait_idle(qtbot, tab)
    assert len(ran) == 1
    assert ran[0] != threading.get_ident()  # trained in a worker thread, not the GUI thread
    assert tab.results.history_table.rowCount() == 1


def test_history_table_persists_and_sorts(qtbot):
    from PySide6.QtCore import Qt

    from digitpad.core.history import append_run, load_history
    from digitpad.gui.history_table import COLUMNS

    append_run({"arch": "fast", "epochs": 1, "batch_size": 128, "optimizer": "adam", "learning_rate": 0.005,
                "augment": False, "device": "CPU", "elapsed_s": 12.0, "best_val_accuracy": 0.98,
                "test_accuracy": 0.991, "reason": "completed", "date": "2026-01-02T10:00:00"})
    append_run({"arch": "baseline", "epochs": 10, "batch_size": 32, "optimizer": "sgd", "learning_rate": 0.01,
                "augment": True, "device": "CPU", "elapsed_s": 300.0, "best_val_accuracy": 0.985,
                "test_accuracy": 0.9875, "status": "stopped", "kind": "train",
                "reason": "stopped by user in epoch 3 after 5 of 422 batches (2 full epochs done); "
                          "the weights trained so far are kept", "date": "2026-01-03T10:00:00"})
    assert len(load_history()) == 2
    tab = make_tab(qtbot)
    try:
        table = tab.results.history_table
        assert table.rowCount() == 2
        assert table.item(0, 0).text() == "baseline"  # newest first
        assert table.item(1, 9).text() == "99.10 %"
        result_col = [c[0] for c in COLUMNS].index("Result")
        assert table.item(0, result_col).text() == "stopped"  # the status; the reason is its tooltip
        assert "in epoch 3 after 5 of 422 batches" in table.item(0, result_col).toolTip()
        assert table.item(1, result_col).text() == "completed"  # an older record: its reason
        epochs_col = [c[1] for c in COLUMNS].index("epochs")
        table.sortItems(epochs_col)
        assert [table.item(r, 0).text() for r in range(2)] == ["fast", "baseline"]  # 1 < 10 numerically
        table.sortItems(epochs_col, Qt.SortOrder.DescendingOrder)
        assert [table.item(r, 0).text() for r in range(2)] == ["baseline", "fast"]
    finally:
        finish(qtbot, tab)


def test_box_stats():
    from digitpad.gui.kfold_view import box_stats

    st = box_stats([0.1, 0.2, 0.3, 0.4, 5.0])
    assert st["median"] == pytest.approx(0.3)
    assert st["q1"] == pytest.approx(0.2) and st["q3"] == pytest.approx(0.4)
    assert st["outliers"] == [5.0]
    assert st["high"] == pytest.approx(0.4) and st["low"] == pytest.approx(0.1)


@pytest.mark.slow
def test_kfold_dialog_says_the_fold_and_records_the_runs(tab, qtbot):
    """Bug 7: the progress line did not say which fold; k-fold runs were not in the history."""
    from digitpad.core.history import load_history

    tab.form.limit_spin.setValue(400)
    tab.form.batch_spin.setValue(8)
    tab.open_kfold()
    dlg = tab.kfold_dialog
    dlg.k_spin.setValue(2)
    lines: set[str] = set()
    dlg.status_message.connect(lines.add)
    # every line the status label shows, in order: polling the label can miss a line when the
    # GUI thread gets the CPU late and two progress deliveries arrive in one event-loop pass
    shown: list[str] = []
    set_text = dlg.status.setText
    dlg.status.setText = lambda text: (shown.append(text), set_text(text))
    dlg.run_button.click()
    assert tab.is_training() and not tab.start_button.isEnabled()
    try:
        wait_idle(qtbot, tab, timeout=300000)
    except qtbot.TimeoutError:
        pytest.fail(f"the k-fold run did not end; the last status lines: {shown[-6:]}")
    assert any(re.match(r"fold 1/2 · epoch 1/1 · batch \d+/\d+", t) for t in shown), shown
    assert any(re.match(r"fold 2/2 · epoch 1/1 · batch \d+/\d+", t) for t in shown), shown
    first_fold_2 = next(i for i, t in enumerate(shown) if t.startswith("fold 2/2"))
    assert not any(t.startswith("fold 1/2") for t in shown[first_fold_2:])  # folds in order
    assert shown[-1] == "Done."
    assert tab.errors == []
    assert dlg.result is not None and len(dlg.result.accuracies) == 2
    assert dlg.table.rowCount() == 2
    ys = dlg.box.points_item.getData()[1]
    assert sorted(np.round(ys, 6)) == sorted(np.round(100 * np.array(dlg.result.accuracies), 6))
    assert "mean" in dlg.summary.text()
    assert tab.start_button.isEnabled()
    runs = load_history()
    assert [r["kind"] for r in runs] == ["kfold"] and runs[0]["k"] == 2
    assert runs[0]["accuracies"] == pytest.approx(dlg.result.accuracies)
    assert tab.results.history_table.rowCount() == 1


def test_progress_throttle_batches_events():
    from digitpad.core.training import Progress
    from digitpad.gui import workers

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

