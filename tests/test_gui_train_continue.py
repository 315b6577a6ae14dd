"""Continue, then Stop before the continued run has begun: the Stop is not lost."""

from __future__ import annotations

import time

from test_gui_train import finish, make_tab


def test_stop_pressed_before_continue_begins_is_honoured(qtbot):
    tab = make_tab(qtbot, epochs=1)
    tab.start_training()
    assert tab.wait_finished(120_000)
    trainer = tab._trainer
    original = trainer.continue_training

    def late_start(n):
        time.sleep(0.5)  # the worker reaches the trainer only after the user has pressed Stop
        return original(n)

    trainer.continue_training = late_start
    tab.continue_spin.setValue(30)
    tab.continue_training()
    assert tab.is_training()
    tab.request_stop()
    assert tab.wait_finished(120_000)
    result = tab.current_result()
    assert result.stopped and result.reason == "stopped by user"
    assert result.epochs_done < 1 + 30
    finish(tab)
