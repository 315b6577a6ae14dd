"""Continue, then Stop before the continued run has begun: the Stop is not lost."""

from __future__ import annotations

import threading

import pytest
from gui_train_support import finish, make_tab, wait_idle


@pytest.mark.slow
def test_stop_pressed_before_continue_begins_is_honoured(qtbot):
    tab = make_tab(qtbot, epochs=1)
    tab.start_training()
    wait_idle(qtbot, tab)
    session = tab.session.session
    original = session.continue_training
    pressed = threading.Event()

    def late_start(n):
        pressed.wait(60)  # the worker reaches the session only after the user has pressed Stop
        return original(n)

    session.continue_training = late_start
    tab.continue_spin.setValue(30)
    tab.continue_training()
    assert tab.is_training()
    tab.request_stop()
    pressed.set()
    wait_idle(qtbot, tab)
    result = tab.current_result()
    assert str(result.status.value) == "stopped"
    assert result.epochs_done < 1 + 30
    assert "stopped by user" in tab.result_label.text()
    finish(qtbot, tab)
