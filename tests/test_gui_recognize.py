"""The Recognize tab with real widgets, real mouse events and a real trained model (pytest-qt)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from digitpad.gui.draw_pad import CANVAS_SIZE, DrawPad
from digitpad.gui.recognize_tab import LOADING_TEXT, RecognizeTab

pytestmark = pytest.mark.slow


# --------------------------------------------------------------------- helpers
def _mouse(widget, kind, pos: QPointF, button, buttons) -> None:
    event = QMouseEvent(
        kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)


def press(pad, x: float, y: float) -> None:
    """Press the left button at (x, y) in [0, 1] pad coordinates."""
    _mouse(pad, QMouseEvent.Type.MouseButtonPress, _at(pad, x, y), Qt.MouseButton.LeftButton,
           Qt.MouseButton.LeftButton)


def move(pad, x: float, y: float) -> None:
    _mouse(pad, QMouseEvent.Type.MouseMove, _at(pad, x, y), Qt.MouseButton.NoButton,
           Qt.MouseButton.LeftButton)


def release(pad, x: float, y: float) -> None:
    _mouse(pad, QMouseEvent.Type.MouseButtonRelease, _at(pad, x, y), Qt.MouseButton.LeftButton,
           Qt.MouseButton.NoButton)


def _at(pad, x: float, y: float) -> QPointF:
    side = min(pad.width(), pad.height())
    left = (pad.width() - side) / 2
    top = (pad.height() - side) / 2
    return QPointF(left + x * side, top + y * side)


def stroke(pad, points, *, process_every: int = 0, on_process=None) -> None:
    """Draw one stroke through ``points`` (pad coordinates in [0, 1]) with real mouse events."""
    press(pad, *points[0])
    for i, p in enumerate(points[1:], 1):
        move(pad, *p)
        if process_every and i % process_every == 0:
            QApplication.processEvents()
            if on_process:
                on_process(i)
    release(pad, *points[-1])


def one_points(n: int = 24):
    return [(0.52 - 0.04 * t / n, 0.18 + 0.64 * t / n) for t in range(n + 1)]


def zero_points(n: int = 48):
    return [
        (0.5 + 0.2 * math.sin(2 * math.pi * t / n), 0.5 - 0.3 * math.cos(2 * math.pi * t / n))
        for t in range(n + 3)
    ]


def settle(qtbot, ms: int = 30) -> None:
    QApplication.processEvents()
    qtbot.wait(ms)


# -------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def predictor(model_file):
    from digitpad.core.inference import Predictor
    from digitpad.core.modelfile import load_model

    return Predictor(load_model(model_file))  # with its stored temperature, as the window


@pytest.fixture
def window(qtbot, model_file):
    from digitpad.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    errors: list[tuple[str, str]] = []
    win._show_error = lambda title, text: errors.append((title, text))
    win.errors = errors
    win.resize(1100, 760)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.model_ready, timeout=120_000):
        win.open_model(str(model_file))
    yield win
    win.train_tab.shutdown()
    assert win.runner.wait_all(30_000)


def canvas01(pad) -> np.ndarray:
    """The pad's uint8 canvas as floats in [0, 1]."""
    return pad.canvas_array().astype(np.float32) / 255.0


# ----------------------------------------------------------------------- tests
def test_pad_undo_redo_clear_with_mouse(qtbot):
    pad = DrawPad()
    qtbot.addWidget(pad)
    pad.resize(400, 400)
    pad.show()
    qtbot.waitExposed(pad)
    assert pad.canvas_array().shape == (CANVAS_SIZE, CANVAS_SIZE)
    assert pad.canvas_array().dtype == np.uint8  # the pad hands the core its uint8 canvas
    assert canvas01(pad).max() == 0.0

    stroke(pad, one_points())
    first = canvas01(pad)
    assert first.max() > 0.99 and first[:, :100].max() == 0.0  # a vertical line in the middle
    stroke(pad, [(0.2, 0.3), (0.8, 0.3)])
    both = canvas01(pad)
    assert both.sum() > first.sum() + 100
    assert len(pad.strokes()) == 2

    pad.undo()
    np.testing.assert_allclose(canvas01(pad), first, atol=1 / 255)
    pad.redo()
    np.testing.assert_allclose(canvas01(pad), both, atol=1 / 255)

    pad.clear()
    assert canvas01(pad).max() == 0.0 and pad.is_empty()
    pad.undo()  # clear is undoable
    np.testing.assert_allclose(canvas01(pad), both, atol=1 / 255)

    pad.setFocus()
    qtbot.keyClick(pad, Qt.Key.Key_Escape)
    assert pad.is_empty()
    qtbot.keyClick(pad, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(pad.strokes()) == 2
    qtbot.keyClick(pad, Qt.Key.Key_Delete)
    assert pad.is_empty()


def test_canvas_does_not_depend_on_widget_size(qtbot):
    arrays = []
    for side in (300, 620):
        pad = DrawPad()
        qtbot.addWidget(pad)
        pad.resize(side, side)
        pad.show()
        qtbot.waitExposed(pad)
        stroke(pad, zero_points())
        arrays.append(canvas01(pad))
    small, big = arrays
    assert small.sum() > 500
    # same strokes in pad coordinates -> nearly the same canvas (mouse positions are whole pixels)
    assert np.abs(small - big).mean() < 0.02


def test_incremental_rendering_equals_full_rerender(qtbot):
    pad = DrawPad()
    qtbot.addWidget(pad)
    pad.resize(420, 420)
    pad.show()
    qtbot.waitExposed(pad)
    stroke(pad, zero_points())
    stroke(pad, one_points())
    incremental = canvas01(pad)
    pad._rerender()  # what undo/redo/resize do
    np.testing.assert_allclose(canvas01(pad), incremental, atol=2 / 255)


def test_without_model_bars_stay_empty_with_loading_note(qtbot):
    tab = RecognizeTab()
    qtbot.addWidget(tab)
    tab.resize(1000, 700)
    tab.show()
    qtbot.waitExposed(tab)
    stroke(tab.pad, one_points())
    settle(qtbot)
    assert tab.bars.heights().sum() == 0.0
    assert tab.last_prediction is None
    # the note is said once, as the headline; the bars and the model line do not repeat it
    assert tab.confidence_label.text() == LOADING_TEXT
    assert tab.bars.message() == "" and tab.model_label.text() == ""
    assert tab.digit_label.text() == ""


def test_draw_one_and_zero_live_bars_and_digits(qtbot, window):
    tab = window.recognize_tab
    pad = tab.pad
    assert tab.bars.message() == "Draw a digit"
    assert tab.bars.heights().sum() == 0.0

    seen_during_move: list[float] = []

    def during(_i):
        if not pad._current:  # still pressed: the stroke is being drawn
            return
        seen_during_move.append(float(tab.bars.heights().sum()))

    stroke(pad, one_points(), process_every=4, on_process=during)
    # bars were updated while the button was still down, not only on release
    assert seen_during_move and max(seen_during_move) > 0.9
    settle(qtbot)
    prediction = tab.last_prediction
    assert prediction is not None and not prediction.blank
    assert prediction.digit == 1, prediction.probabilities
    heights = tab.bars.heights()
    assert abs(heights.sum() - 1.0) < 1e-3
    assert tab.bars.winner() == 1
    assert tab.digit_label.text() in ("1", "?")
    assert tab.preview._normalized is prediction.normalized

    window.clear_action.trigger()
    settle(qtbot)
    assert tab.bars.heights().sum() == 0.0
    assert tab.bars.message() == "Draw a digit"
    assert tab.last_prediction.blank

    stroke(pad, zero_points())
    settle(qtbot)
    assert tab.last_prediction.digit == 0, tab.last_prediction.probabilities
    assert tab.bars.winner() == 0

    window.undo_action.trigger()
    settle(qtbot)
    assert tab.last_prediction.blank and tab.bars.heights().sum() == 0.0
    window.redo_action.trigger()
    settle(qtbot)
    assert tab.last_prediction.digit == 0


def test_open_refused_models_keeps_previous(qtbot, window, tmp_path):
    before = window.current_model_name()
    assert before
    text_model = tmp_path / "notes.keras"
    text_model.write_text("this is a shopping list, not a model\n")
    empty_h5 = tmp_path / "empty.h5"
    empty_h5.write_bytes(b"")
    for bad in (text_model, empty_h5):
        with qtbot.waitSignal(window.model_failed, timeout=60_000) as blocker:
            window.open_model(str(bad))
        reason = blocker.args[0]
        assert window.errors and window.errors[-1][1] == reason
        assert "\n" not in reason and "Traceback" not in reason
        assert window.current_model_name() == before
        assert window.recognize_tab.predictor is not None
    assert len(window.errors) == 2
    # the previous model still recognises
    stroke(window.recognize_tab.pad, one_points())
    settle(qtbot)
    assert window.recognize_tab.last_prediction.digit == 1


def _drop(window, path: Path) -> None:
    """Drag a file over the window and drop it (the event sequence a real drop produces)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(200, 200), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPoint(200, 200).toPointF(), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)


def test_drop_image_is_recognised(qtbot, window, mnist_small, predictor, tmp_path):
    from digitpad.core.inference import recognize

    # a real MNIST test digit the model knows, saved as dark ink on white paper, 4x larger
    for i in range(50):
        img = mnist_small.x_test[i]
        label = int(mnist_small.y_test[i])
        direct = recognize(predictor, img.astype(np.float32) / 255.0)
        if direct.digit == label and direct.confidence > 0.9 and label not in (0, 1):
            break
    else:
        pytest.fail("the trained model recognises none of the first 50 test digits")
    path = tmp_path / "digit.png"
    Image.fromarray(255 - img).resize((112, 112), Image.BILINEAR).save(path)

    with qtbot.waitSignal(window.image_opened, timeout=30_000):
        _drop(window, path)
    settle(qtbot)
    tab = window.recognize_tab
    assert not tab.pad.is_empty()
    assert tab.last_prediction.digit == label
    assert tab.bars.winner() == label


def test_open_bad_image_shows_message(qtbot, window, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    window.open_image(str(bad))
    qtbot.waitUntil(lambda: bool(window.errors), timeout=30_000)
    title, text = window.errors[-1]
    assert "image" in title.lower() and "\n" not in text
    assert window.current_model_name() is not None


def test_low_confidence_says_not_sure(qtbot, window, mnist_small, predictor):
    from digitpad.core.inference import recognize

    # blends of two real digits of different classes: find one the model is unsure about
    xs = mnist_small.x_test.astype(np.float32) / 255.0
    ys = mnist_small.y_test
    candidate = None
    for i in range(200):
        a, b = xs[i], xs[i + 1]
        if ys[i] == ys[i + 1]:
            continue
        blend = np.clip(0.5 * a + 0.5 * b, 0.0, 1.0)
        if recognize(predictor, blend).low_confidence:
            candidate = blend
            break
    assert candidate is not None, "no ambiguous blend found"
    tab = window.recognize_tab
    tab.show_image(candidate)
    settle(qtbot)
    pred = tab.last_prediction
    assert pred.low_confidence
    verdict = tab.verdict_panel.verdict
    if verdict.kind == "digit":  # a clear runner-up margin: the headline names the digit plainly
        assert tab.digit_label.text() == str(pred.digit) and tab.bars.message() == ""
        assert tab.confidence_label.text() == f"{100 * pred.confidence:.1f} % sure"
    else:  # the headline, the bars and the verdict agree: one "?" and no second message
        assert tab.digit_label.text() == "?" and tab.bars.message() == ""
        assert tab.bars.winner() == pred.digit
        if verdict.kind == "unsure":
            a, b = verdict.alternatives
            assert tab.confidence_label.text().startswith(f"Not sure: {a} ")
            assert tab.verdict_panel.words_label.text() == f"{a} or {b}?"


def test_use_in_memory_model(qtbot, window, model_file):
    from digitpad.core.modelfile import load_model

    loaded = load_model(model_file)
    with qtbot.waitSignal(window.model_ready, timeout=120_000) as blocker:
        window.use_model(loaded.model, "trained just now", {"test_accuracy": 0.975, "arch": "fast"})
    assert blocker.args == ["trained just now"]
    assert window.current_model_name() == "trained just now"
    line = window.recognize_tab.model_label.text()
    assert "97.50 %" in line and "not saved" in line
    assert window.statusBar().currentMessage().startswith("Model ready: trained just now")


def _visible_texts(win) -> list[str]:
    from PySide6.QtWidgets import QLabel

    texts = [label.text() for label in win.findChildren(QLabel) if label.isVisible()]
    return [*texts, win.statusBar().currentMessage(), win.recognize_tab.bars.message()]


def test_loading_is_said_once_at_start(qtbot, model_file, monkeypatch):
    import digitpad.gui.main_window as main_window_module

    monkeypatch.setattr(main_window_module, "bundled_model_path", lambda: model_file)
    win = main_window_module.MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.model_ready, timeout=120_000):
        win.load_startup_model()
        loading = [t for t in _visible_texts(win) if "Loading" in t or "loading" in t]
        assert len(loading) == 1, loading
    assert not [t for t in _visible_texts(win) if "oading" in t]
    assert win.current.path == str(model_file) and win.current.is_saved
    win.train_tab.shutdown()
    assert win.runner.wait_all(30_000)


def test_opened_image_is_recognised_exactly_like_digitpad_predict(qtbot, window, mnist_small,
                                                                 tmp_path):
    """The window recognises the file's own array: the probabilities of `digitpad predict`."""
    from digitpad.core.inference import recognize_file

    path = tmp_path / "digit.png"
    img = 255 - mnist_small.x_test[3]  # dark ink on white paper, 4x larger, smoothly scaled
    Image.fromarray(img).resize((112, 112), Image.BILINEAR).save(path)
    with qtbot.waitSignal(window.image_opened, timeout=30_000):
        window.open_image(str(path))
    settle(qtbot)
    tab = window.recognize_tab
    assert not tab.pad.is_empty()  # the pad shows the image
    shown = tab.last_prediction
    expected = recognize_file(window.current.predictor, path)
    assert shown.digit == expected.digit
    assert np.max(np.abs(shown.probabilities - expected.probabilities)) <= 1e-6
    # drawing on it makes the pad's pixels the picture again
    from digitpad.core.normalize import normalize_canvas

    stroke(tab.pad, one_points())
    settle(qtbot)
    drawn = normalize_canvas(tab.pad.canvas_array()).image
    np.testing.assert_array_equal(tab.last_prediction.normalized.image, drawn)


def test_save_model_works_every_time(qtbot, window, tmp_path, monkeypatch):
    """Ctrl+S on the Recognize tab saves the model in use, any number of times (bug 3)."""
    from PySide6.QtWidgets import QFileDialog

    targets = [tmp_path / "first.keras", tmp_path / "second.keras", tmp_path / "third"]
    asked = []

    def get_save_file_name(parent, title, suggested, filters):
        asked.append(suggested)
        return str(targets[len(asked) - 1]), "Keras model (*.keras)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(get_save_file_name))
    for target in targets:
        with qtbot.waitSignal(window.current.saved, timeout=60_000) as blocker:
            window.save_model_action.trigger()
        written = Path(blocker.args[0])
        assert written == (target if target.suffix else target.with_name("third.keras"))
        assert written.is_file()
        assert window.current.path == str(written) and window.current.is_saved
        assert f"file {written.name}" in window.recognize_tab.model_label.text()
    assert Path(asked[0]).name == "fast_small.keras"
    assert window.errors == []


def test_model_saved_then_used_names_its_file_and_accuracy_once(qtbot, window, tmp_path):
    """What the Train tab does: save the run's model twice, then Use in Recognize (a copy)."""
    from digitpad.core.modelfile import load_model

    current = window.current
    trained = load_model(window.current.path).model
    metadata = {"arch": "fast", "test_accuracy": 0.975}
    for name in ("run.keras", "run-again.keras"):
        with qtbot.waitSignal(current.saved, timeout=60_000):
            current.save(str(tmp_path / name), trained, metadata, key="run-1")
    copy = load_model(tmp_path / "run-again.keras").model
    with qtbot.waitSignal(window.model_ready, timeout=120_000):
        current.use(copy, "fast (trained 08:00, test 97.50 %)", metadata,
                    path=str(tmp_path / "run-again.keras"), saved=True, key="run-1")
    line = window.recognize_tab.model_label.text()
    assert "file run-again.keras" in line and "not saved" not in line
    assert line.count("97.50 %") == 1
    current.mark_unsaved("run-1")  # trained further in the Train tab
    assert "not saved to a file" in window.recognize_tab.model_label.text()
