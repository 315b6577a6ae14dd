"""The Evaluate tab in the real window: evaluate in a worker, confusion cell -> gallery -> Recognize.

The bundled model is evaluated on a small real data source: 400 MNIST test images written as an
``.npz`` (read through the tab's own data chooser path, ``load_dataset``), 12 of them deliberately
labelled wrong so there are confident mistakes to look at. Cells and gallery images are clicked
with real mouse events, as a user would.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from digitpad.core.paths import bundled_model_path
from digitpad.gui.evaluate.gallery import INDEX_ROLE

pytestmark = pytest.mark.slow

N_TEST = 400
RELABELLED = 12   # images whose label is changed to (label + 1) % 10: confident "mistakes"


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory):
    from digitpad.core.data import load_dataset

    ds = load_dataset(None).subset(n_train=20, n_test=N_TEST, seed=3)
    y_test = ds.y_test.copy()
    y_test[:RELABELLED] = (y_test[:RELABELLED] + 1) % 10
    path = tmp_path_factory.mktemp("eval") / "small.npz"
    np.savez(path, x_train=ds.x_train, y_train=ds.y_train, x_test=ds.x_test, y_test=y_test)
    return path, ds.x_test, y_test


@pytest.fixture
def window(qtbot):
    from digitpad.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.errors = []
    win._show_error = lambda title, text: win.errors.append((title, text))
    win.resize(1180, 800)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.model_ready, timeout=180_000):
        win.open_model(str(bundled_model_path()))
    # pytest-qt closes the window before this fixture's teardown: answer its question now
    win._ask = lambda *args: QMessageBox.StandardButton.Discard   # (an unsaved trained model)
    yield win
    win.train_tab.shutdown()
    win.runner.stop_all()
    assert win.runner.wait_all(60_000)


def _evaluate(qtbot, win, source) -> None:
    tab = win.evaluate_tab
    win.tabs.setCurrentWidget(tab)
    tab.set_data_source(str(source))
    assert tab.evaluation() is None
    main = threading.get_ident()
    threads: list[int] = []
    import digitpad.core.evaluation as core_evaluation

    real = core_evaluation.evaluate_model

    def spy(*args, **kwargs):
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    core_evaluation.evaluate_model = spy
    try:
        qtbot.mouseClick(tab.evaluate_button, Qt.MouseButton.LeftButton)
        assert tab.busy() and tab.stop_button.isEnabled() and not tab.evaluate_button.isEnabled()
        qtbot.waitUntil(lambda: tab.evaluation() is not None and not tab.busy(), timeout=120_000)
    finally:
        core_evaluation.evaluate_model = real
    assert threads and all(t != main for t in threads)   # never on the GUI thread


def _click_cell(qtbot, tab, true: int, pred: int) -> None:
    view = tab.confusion
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.cell_center(true, pred))


def _click_gallery_item(qtbot, gallery, row: int) -> None:
    item = gallery.list.item(row)
    gallery.list.scrollToItem(item)
    QApplication.processEvents()
    rect = gallery.list.visualItemRect(item)
    qtbot.mouseClick(gallery.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _click_check(qtbot, check) -> None:
    """Click a check box on its box (the widget may be wider than its text)."""
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(8, check.height() // 2))


def _pixel(widget, point):
    return widget.grab().toImage().pixelColor(point)


def test_evaluate_confusion_cell_gallery_opens_in_recognize(qtbot, window, small_npz):
    path, x, y = small_npz
    win, tab = window, window.evaluate_tab
    _evaluate(qtbot, win, path)
    ev = tab.evaluation()
    assert not win.errors

    # the figures agree with the model's own predictions, computed here independently
    probs = win.current.predictor.predict_batch(x.astype(np.float32) / 255.0)
    pred = probs.argmax(axis=1)
    assert ev.n == N_TEST
    np.testing.assert_array_equal(ev.y_pred, pred)
    accuracy = float(np.mean(pred == y))
    assert ev.accuracy == pytest.approx(accuracy)
    assert f"Accuracy {100 * accuracy:.2f} %" in tab.summary.text()
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    np.testing.assert_array_equal(ev.confusion, confusion)
    for d in range(10):
        assert tab.class_bars.values()[d] == pytest.approx(float(np.mean(pred[y == d] == d)))
    assert [tab.confusion.cell_text(t, p) for t in range(10) for p in range(10)] == \
        [str(confusion[t, p]) for t in range(10) for p in range(10)]

    # the heatmap is drawn as a heatmap: a full diagonal cell is bright, an empty one dark
    t_empty, p_empty = next((t, p) for t in range(10) for p in range(10) if confusion[t, p] == 0)
    bright = _pixel(tab.confusion, tab.confusion.cell_center(3, 3))
    dark = _pixel(tab.confusion, tab.confusion.cell_center(t_empty, p_empty))
    assert bright.lightness() > 150 and dark.lightness() < 40

    # row-normalised toggle, by mouse: each row's percentages
    _click_check(qtbot, tab.normalized_check)
    assert tab.normalized_check.isChecked() and tab.confusion.normalized()
    row = confusion[3] / confusion[3].sum()
    assert float(tab.confusion.cell_text(3, 3)) == pytest.approx(100 * row[3], abs=0.51)
    assert tab.confusion.cell_text(t_empty, p_empty) in ("0", "")
    _click_check(qtbot, tab.normalized_check)
    assert tab.confusion.cell_text(3, 3) == str(confusion[3, 3])

    # after evaluating, the gallery shows the most confident mistakes
    mistakes = tab.gallery.indices()
    assert len(mistakes) == int(np.sum(pred != y)) >= RELABELLED
    assert np.all(pred[mistakes] != y[mistakes])
    assert np.all(np.diff(ev.confidence[mistakes]) <= 1e-7)

    # click the mistake cell of a relabelled image: its images, most confident first
    t, p = int(y[0]), int(pred[0])
    assert t != p
    _click_cell(qtbot, tab, t, p)
    assert tab.confusion.selected() == (t, p)
    shown = tab.gallery.indices()
    expected = np.flatnonzero((y == t) & (pred == p))
    assert sorted(shown.tolist()) == sorted(expected.tolist())
    assert np.all(np.diff(ev.confidence[shown]) <= 1e-7)
    first = tab.gallery.list.item(0)
    i0 = int(shown[0])
    assert first.data(INDEX_ROLE) == i0
    assert first.text() == f"{t} → {p}\n{100 * ev.confidence[i0]:.1f} %"
    assert f"true {t}, predicted {p}" in tab.gallery.title.text()

    # a diagonal cell: all its images, correct ones
    _click_cell(qtbot, tab, 7, 7)
    shown = tab.gallery.indices()
    assert len(shown) == confusion[7, 7] and np.all(y[shown] == 7) and np.all(pred[shown] == 7)

    # click the third image: the Recognize tab shows it (pad, preview, bars)
    row_clicked = 2
    index = int(shown[row_clicked])
    _click_gallery_item(qtbot, tab.gallery, row_clicked)
    rec = win.recognize_tab
    assert win.tabs.currentWidget() is rec
    prediction = rec.last_prediction
    assert prediction is not None and prediction.digit == 7
    # recognised as an opened image file is (`digitpad predict`: normalised again, so close to,
    # not equal to, the evaluation's probabilities of the raw test image)
    from digitpad.core.inference import recognize

    again = recognize(win.current.predictor, x[index].astype(np.float32) / 255.0)
    np.testing.assert_allclose(prediction.probabilities, again.probabilities, atol=1e-6)
    np.testing.assert_allclose(prediction.probabilities, probs[index], atol=0.02)
    np.testing.assert_allclose(rec.bars.heights(), np.clip(again.probabilities, 0, 1), atol=1e-6)
    assert rec.bars.winner() == 7 and rec.digit_label.text() == "7"
    pad = rec.pad.canvas_array().astype(np.float32)
    assert pad.max() > 200   # the pad shows the picture
    big = np.kron(x[index].astype(np.float32), np.ones((10, 10)))
    assert np.corrcoef(pad.ravel(), big.ravel())[0, 1] > 0.95
    from digitpad.core.normalize import normalize_canvas

    np.testing.assert_allclose(prediction.normalized.image,
                               normalize_canvas(x[index].astype(np.float32) / 255.0).image,
                               atol=1e-6)
    assert rec.preview._normalized is prediction.normalized   # the 28x28 preview shows it

    # the "Most confident mistakes" button again
    win.tabs.setCurrentWidget(tab)
    qtbot.mouseClick(tab.mistakes_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(tab.gallery.indices(), mistakes)
    assert tab.confusion.selected() is None


def test_results_are_kept_per_model(qtbot, window, small_npz):
    from pathlib import Path

    path, _x, _y = small_npz
    win, tab = window, window.evaluate_tab
    _evaluate(qtbot, win, path)
    first = tab.evaluation()

    h5 = Path(__file__).parent / "fixtures" / "keras2_baseline.h5"
    with qtbot.waitSignal(win.model_ready, timeout=120_000):
        win.open_model(str(h5))
    assert tab.evaluation() is None and "Press <b>Evaluate</b>" in tab.summary.text()
    assert tab.confusion.cell_text(0, 0) == "" and tab.gallery.indices().size == 0
    _evaluate(qtbot, win, path)
    second = tab.evaluation()
    assert second is not first and second.n == N_TEST

    # opening the bundled file again finds its results at once (no new evaluation)
    with qtbot.waitSignal(win.model_ready, timeout=120_000):
        win.open_model(str(bundled_model_path()))
    assert tab.evaluation() is first and not tab.busy()
    assert "best" in tab.summary.text()
    with qtbot.waitSignal(win.model_ready, timeout=120_000):
        win.open_model(str(h5))
    assert tab.evaluation() is second


def test_loading_and_evaluating_while_a_training_run_starts(qtbot, window, small_npz):
    """A model opened (Model tab shown) and an evaluation started while training starts: no crash.

    Each runs on its own fresh worker thread (a reused TensorFlow thread once segfaulted here).
    """
    from pathlib import Path

    path, _x, _y = small_npz
    win = window
    train = win.train_tab
    form = train.form
    form.arch_combo.setCurrentIndex(form.arch_combo.findData("fast"))
    form.epochs_spin.setValue(1)
    form.limit_spin.setValue(300)
    train.config_overrides["test_limit"] = 300
    win.evaluate_tab.set_data_source(str(path))
    h5 = Path(__file__).parent / "fixtures" / "keras2_baseline.h5"

    win.tabs.setCurrentWidget(win.model_tab)
    train.start_training()
    win.open_model(str(h5))            # load + describe while the run starts
    win.evaluate_tab.evaluate()        # evaluates the bundled model, still in use until h5 is ready
    qtbot.waitUntil(lambda: win.current.name is not None and win.current.path == str(h5),
                    timeout=120_000)
    qtbot.waitUntil(lambda: win.model_tab.info is not None
                    and win.model_tab.info.get("path") == str(h5), timeout=60_000)
    qtbot.waitUntil(lambda: not train.is_training() and not win.evaluate_tab.busy(),
                    timeout=240_000)
    assert not win.errors
    assert train.has_model()                               # the run ended with a model
    assert win.model_tab.rows() and "could not" not in win.model_tab.overview.text()
    win.evaluate_tab.evaluate()                            # and the h5 model evaluates afterwards
    qtbot.waitUntil(lambda: win.evaluate_tab.evaluation() is not None
                    and not win.evaluate_tab.busy(), timeout=120_000)
    assert win.evaluate_tab.evaluation().n == N_TEST
