"""Helpers shared by the Train tab tests: a tab with its own runner and injected dialogs."""

from __future__ import annotations

from digitpad.gui.current_model import CurrentModel
from digitpad.gui.tasks import TaskRunner
from digitpad.gui.train_tab import TrainTab

#: training images per run (``train_limit``) and test images (``test_limit``): small and real
LIMIT = 300
TEST_LIMIT = 300


def make_tab(qtbot, *, epochs: int = 1, limit: int = LIMIT, configure: bool = True) -> TrainTab:
    """A Train tab on its own TaskRunner; ``tab.errors`` collects what it would show the user and
    ``tab.save_answers`` holds the (path, filter) answers its Save dialog gives, in order.
    ``configure``: set the form to a quick run (``fast``, ``epochs``, ``limit`` images)."""
    runner = TaskRunner()
    errors: list[tuple[str, str]] = []
    answers: list[tuple[str, str]] = []
    tab = TrainTab(runner=runner, current=CurrentModel(runner),
                   show_error=lambda title, text: errors.append((title, text)),
                   ask_save_path=lambda suggested: answers.pop(0) if answers else ("", ""))
    qtbot.addWidget(tab)
    tab.errors, tab.save_answers, tab.runner = errors, answers, runner
    if not configure:
        return tab
    form = tab.form
    form.arch_combo.setCurrentIndex(form.arch_combo.findData("fast"))
    form.epochs_spin.setValue(epochs)
    form.limit_spin.setValue(limit)
    tab.config_overrides["test_limit"] = TEST_LIMIT
    return tab


def wait_idle(qtbot, tab: TrainTab, timeout: int = 120_000) -> None:
    """Wait until the tab's run (or k-fold) has ended and its result has been shown."""
    qtbot.waitUntil(lambda: not tab.is_training(), timeout=timeout)


def finish(qtbot, tab: TrainTab) -> None:
    """Stop whatever the tab runs and wait until all of its runner's tasks have ended."""
    tab.shutdown()
    qtbot.waitUntil(lambda: not tab.runner.busy(), timeout=120_000)
    assert tab.runner.wait_all(60_000)
    assert not tab.is_training()
