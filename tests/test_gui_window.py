"""MainWindow: menus and shortcuts, About box, persistent settings, close handling (pytest-qt)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox

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
        win.close()  # waits for the Train tab's helper threads
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
    assert win.tabs.count() == 2
    assert [win.tabs.tabText(i) for i in range(2)] == ["Recognize", "Train"]
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
    assert "missing" in win.statusBar().currentMessage()
    assert win.current_model_name() is None
    assert win.errors == []  # no modal dialog at start-up; the status bar says it
    assert win.recognize_tab.bars.heights().sum() == 0.0


def test_settings_persist_geometry_recent_files_and_view(qtbot, make_window, tmp_path):
    model = tmp_path / "m.keras"
    model.write_bytes(b"x")
    first = make_window()
    first.show()
    first.resize(761, 733)  # fits the 800x800 offscreen screen
    qtbot.wait(20)
    size = (first.width(), first.height())
    assert size == (761, 733)
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
        real_shutdown()  # the tab's own helper threads must still be waited for

    def request_stop():
        if not state.get("after_shutdown"):
            rec.calls.append("stop")
        state["training"] = False

    def wait_finished(timeout_ms=30000):
        if not state.get("after_shutdown"):
            rec.calls.append("wait")
        return True

    def save():
        rec.calls.append("save")
        if save_ok:
            state["unsaved"] = False
        return save_ok

    monkeypatch.setattr(tab, "is_training", lambda: state["training"])
    monkeypatch.setattr(tab, "has_unsaved_model", lambda: state["unsaved"])
    monkeypatch.setattr(tab, "request_stop", request_stop)
    monkeypatch.setattr(tab, "wait_finished", wait_finished)
    monkeypatch.setattr(tab, "save_model_interactive", save)
    monkeypatch.setattr(tab, "shutdown", shutdown)
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
    assert win.close() is True  # Stop and Quit, then Discard the unsaved model
    assert asked[1] == "Training is running. Stop it and quit?"
    assert "not been saved" in asked[2]
    assert rec.calls == ["stop", "wait", "shutdown"]


def test_gui_modules_import_no_tensorflow():
    code = (
        "import sys; import digitpad.gui.app, digitpad.gui.main_window, digitpad.gui.recognize_tab;"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
