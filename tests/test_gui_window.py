"""MainWindow: menus and shortcuts, About box, persistent settings, close handling (pytest-qt)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

import digitpad.gui.main_window as main_window_module
from digitpad.gui.main_window import MNIST_ATTRIBUTION, MainWindow

SB = QMessageBox.StandardButton


@pytest.fixture
def make_window(qtbot, monkeypatch, tmp_path):
    # no real model in these tests: point the bundled model somewhere empty
    monkeypatch.setattr(main_window_module, "bundled_model_path", lambda: tmp_path / "none.keras")
    made = []

    def make() -> MainWindow:
        win = MainWindow()  # closed by this fixture (not qtbot), after the fakes are removed
        win.errors = []
        win._show_error = lambda title, text: win.errors.append((title, text))
        made.append(win)
        return win

    yield make
    monkeypatch.undo()  # the Train tabs' real methods again
    for win in made:
        win._ask = lambda *args: SB.Discard
        win.close()
        assert win.runner.wait_all(60_000)  # the Train tab's helper tasks
        win.deleteLater()
    qtbot.wait(10)


def _actions(win: MainWindow) -> dict[str, object]:
    found = {}
    for menu_action in win.menuBar().actions():
        menu = menu_action.menu()
        for a in menu.actions():
            if a.text():
                found[a.text().replace("&", "")] = a
    return found


def test_menus_and_shortcuts(make_window):
    win = make_window()
    titles = [a.text().replace("&", "") for a in win.menuBar().actions()]
    assert titles == ["File", "Edit", "View", "Help"]
    actions = _actions(win)
    expected = {
        "Open Model…": "Ctrl+O",
        "Open Image…": "Ctrl+I",
        "Save Model…": "Ctrl+S",
        "Quit": "Ctrl+Q",
        "Undo Stroke": "Ctrl+Z",
        "Redo Stroke": "Ctrl+Shift+Z",
        "Clear Pad": "Del",
    }
    for text, keys in expected.items():
        assert text in actions, text
        shortcuts = [s.toString() for s in actions[text].shortcuts()]
        assert keys in shortcuts, (text, shortcuts)
    assert "Ctrl+Y" in [s.toString() for s in actions["Redo Stroke"].shortcuts()]
    assert "Esc" in [s.toString() for s in actions["Clear Pad"].shortcuts()]
    assert "Open Recent" in actions and actions["Open Recent"].menu() is win.recent_menu
    assert actions["Open Model…"].toolTip()
    assert win.recognize_tab.clear_button.toolTip()
    assert [win.tabs.tabText(i) for i in range(win.tabs.count())] == [
        "Recognize", "Train", "Evaluate", "Model", "My drawings"]
    # the edit actions only act on the pad while the Recognize tab is shown
    win.tabs.setCurrentIndex(1)
    assert not win.undo_action.isEnabled()
    win.tabs.setCurrentIndex(0)
    assert win.undo_action.isEnabled()
    assert QKeySequence("Ctrl+Q") == win.quit_action.shortcut()


def test_about_box_text(make_window):
    win = make_window()
    text = win.about_text()
    assert MNIST_ATTRIBUTION in text
    assert "Yann LeCun" in text and "CC BY-SA 3.0" in text
    assert "digitpad 0." in text


def test_missing_bundled_model_is_a_message_not_a_crash(qtbot, make_window):
    win = make_window()
    win.show()
    with qtbot.waitSignal(win.model_failed, timeout=5000) as blocker:
        win.load_startup_model()
    assert "missing" in blocker.args[0]
    # said once, as the Recognize tab's headline (not again in the status bar, bars, model line)
    assert "missing" in win.recognize_tab.confidence_label.text()
    assert win.statusBar().currentMessage() == ""
    assert win.recognize_tab.bars.message() == "" and win.recognize_tab.model_label.text() == ""
    assert win.recognize_tab.digit_label.text() == ""  # no huge bold dash (it looked like a black bar)
    assert win.current_model_name() is None
    assert win.errors == []  # no modal dialog at start-up; the status bar says it
    assert win.recognize_tab.bars.heights().sum() == 0.0


def test_settings_persist_geometry_recent_files_and_view(qtbot, make_window, tmp_path):
    model = tmp_path / "m.keras"
    model.write_bytes(b"x")
    first = make_window()
    first.show()
    minimum = first.minimumSizeHint()
    wanted = (max(761, minimum.width()), max(733, minimum.height()))
    assert wanted[0] <= 1024 and wanted[1] <= 768  # fits a 1024x768 screen
    first.resize(*wanted)
    qtbot.wait(20)
    size = (first.width(), first.height())
    assert size == wanted
    main_window_module.add_recent_file(str(model))
    first.show_steps_action.trigger()
    assert first.recognize_tab.preview.steps_visible()
    first.tabs.setCurrentIndex(1)
    first.close()

    second = make_window()
    second.show()
    qtbot.waitExposed(second)
    assert (second.width(), second.height()) == size
    assert second.tabs.currentIndex() == 1
    assert second.show_steps_action.isChecked()
    assert second.recognize_tab.preview.steps_visible()
    second._fill_recent_menu()
    items = [a for a in second.recent_menu.actions() if a.data()]
    assert [a.data() for a in items] == [str(model)]
    with qtbot.waitSignal(second.model_failed, timeout=60_000):
        items[0].trigger()  # opens that file (not a real model: refused with a message)
    assert second.errors and second.errors[-1][0] == "Cannot open model"
    clear = [a for a in second.recent_menu.actions() if a.text() == "Clear Menu"][0]
    clear.trigger()
    second._fill_recent_menu()
    assert not [a for a in second.recent_menu.actions() if a.data()]


class _Calls:
    def __init__(self):
        self.calls: list[str] = []


def _fake_train_state(monkeypatch, tab, *, training: bool, unsaved: bool, save_ok: bool) -> _Calls:
    rec = _Calls()
    state = {"training": training, "unsaved": unsaved}
    real_shutdown = tab.shutdown

    def shutdown():
        rec.calls.append("shutdown")
        state["after_shutdown"] = True  # what the real shutdown calls next is not recorded
        real_shutdown()  # the tab's own helper tasks must still be stopped

    def request_stop():
        if not state.get("after_shutdown"):
            rec.calls.append("stop")

    def save():
        rec.calls.append("save")
        if save_ok:
            state["unsaved"] = False
        return save_ok

    def training_ends():
        state["training"] = False
        tab.training_state_changed.emit(False)

    monkeypatch.setattr(tab, "is_training", lambda: state["training"])
    monkeypatch.setattr(tab, "has_unsaved_model", lambda: state["unsaved"])
    monkeypatch.setattr(tab, "request_stop", request_stop)
    monkeypatch.setattr(tab, "save_model_interactive", save)
    monkeypatch.setattr(tab, "shutdown", shutdown)
    rec.training_ends = training_ends
    return rec


@pytest.mark.parametrize(
    "answers, save_ok, closes, calls",
    [
        ([SB.Cancel], True, False, []),
        ([SB.Discard], True, True, ["shutdown"]),
        ([SB.Save], True, True, ["save", "shutdown"]),
        ([SB.Save], False, False, ["save"]),
    ],
)
def test_close_with_unsaved_model_asks(qtbot, make_window, monkeypatch, answers, save_ok, closes, calls):
    win = make_window()
    win.show()
    rec = _fake_train_state(monkeypatch, win.train_tab, training=False, unsaved=True, save_ok=save_ok)
    asked = []

    def ask(title, text, buttons, default):
        asked.append(text)
        return answers[len(asked) - 1]

    win._ask = ask
    assert win.close() is closes
    assert len(asked) == 1 and "not been saved" in asked[0]
    assert rec.calls == calls
    assert win.isVisible() is not closes


def test_close_during_training_asks_then_stops(qtbot, make_window, monkeypatch):
    win = make_window()
    win.show()
    rec = _fake_train_state(monkeypatch, win.train_tab, training=True, unsaved=True, save_ok=True)
    asked = []
    replies = iter([SB.Cancel, SB.Yes, SB.Discard])

    def ask(title, text, buttons, default):
        asked.append(text)
        return next(replies)

    win._ask = ask
    assert win.close() is False  # Cancel: training keeps running
    assert asked == ["Training is running. Stop it and quit?"] and rec.calls == []
    # Stop and Quit: the stop is requested and nothing blocks; the window waits for the run to end
    assert win.close() is False
    assert asked[1] == "Training is running. Stop it and quit?"
    assert rec.calls == ["stop"] and win.isVisible()
    assert win.statusBar().currentMessage() == "Stopping training…"
    rec.training_ends()  # the run ended: the window closes by itself, asking about the model
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=5000)
    assert len(asked) == 3 and "not been saved" in asked[2]
    assert rec.calls == ["stop", "shutdown"]


def test_title_names_the_app_once_while_training(qtbot, make_window):
    app = QApplication.instance()
    before = app.applicationDisplayName()
    app.setApplicationDisplayName("digitpad")
    try:
        win = make_window()
        for running in (True, False):
            win.train_tab.training_state_changed.emit(running)
            title = win.windowTitle()
            # Qt appends the display name to a title that does not end with it (Linux, Windows)
            assert title.endswith(app.applicationDisplayName()), title
            assert title.count("digitpad") == 1, title
            assert ("Training…" in title) is running
    finally:
        app.setApplicationDisplayName(before)


def test_status_messages_belong_to_their_tab(qtbot, make_window):
    win = make_window()
    win.show()
    win.tabs.setCurrentWidget(win.recognize_tab)
    win.train_tab.status_message.emit("Epoch 3/5 done")
    assert win.statusBar().currentMessage() == ""  # the Train tab's news waits for the Train tab
    win.tabs.setCurrentWidget(win.train_tab)
    assert win.statusBar().currentMessage() == "Epoch 3/5 done"
    win.tabs.setCurrentWidget(win.recognize_tab)
    assert win.statusBar().currentMessage() == ""  # it does not linger over Recognize
    win.open_image("/nonexistent/picture.png")
    qtbot.waitUntil(lambda: bool(win.errors), timeout=10_000)
    assert win.statusBar().currentMessage() == "picture.png was not opened."
    win.tabs.setCurrentWidget(win.train_tab)
    assert win.statusBar().currentMessage() == "Epoch 3/5 done"


def test_save_shortcut_saves_the_train_tabs_model_when_that_tab_is_shown(qtbot, make_window,
                                                                          monkeypatch):
    win = make_window()
    saves = []
    monkeypatch.setattr(win.train_tab, "has_model", lambda: True)
    monkeypatch.setattr(win.train_tab, "save_model_interactive", lambda: saves.append(1) or True)
    win.tabs.setCurrentWidget(win.train_tab)
    for _ in range(3):  # any number of times
        win.save_model_action.trigger()
    assert saves == [1, 1, 1]
    win.tabs.setCurrentWidget(win.recognize_tab)  # Recognize shown and no model in use
    win.save_model_action.trigger()
    assert saves == [1, 1, 1]
    assert win.statusBar().currentMessage().startswith("Nothing to save")


def test_recognize_controls_keep_their_shape_at_the_minimum_size(qtbot, make_window):
    from digitpad.gui.recognize_tab import PEN_SLIDER_MIN_WIDTH

    win = make_window()
    win.tabs.setCurrentWidget(win.recognize_tab)
    win.show()
    qtbot.waitExposed(win)
    minimum = win.minimumSizeHint()
    win.resize(minimum)
    qtbot.waitUntil(lambda: win.size() == minimum, timeout=5000)
    tab = win.recognize_tab
    slider = tab.pen_slider
    assert slider.width() >= PEN_SLIDER_MIN_WIDTH and slider.width() > 4 * slider.height()
    for button in (tab.undo_button, tab.redo_button, tab.clear_button):
        assert button.width() >= button.minimumSizeHint().width()
    assert tab.pad.width() >= 200 and tab.bars.width() >= tab.bars.minimumWidth()


@pytest.mark.slow  # starts a Python process
def test_gui_modules_import_no_tensorflow():
    code = (
        "import sys; import digitpad.gui.app, digitpad.gui.main_window, digitpad.gui.recognize_tab;"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
