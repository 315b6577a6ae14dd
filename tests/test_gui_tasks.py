"""TaskRunner: results, errors and progress arrive on the GUI thread, in order; stop and wait."""

from __future__ import annotations

import os
import sys
import threading

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from digitpad.core.errors import DataError
from digitpad.gui import workers
from digitpad.gui.tasks import TaskRunner, shared_runner


@pytest.fixture
def runner(qtbot):
    made = TaskRunner()
    yield made
    made.stop_all()
    assert made.wait_all(30_000)
    made.deleteLater()


def _gui_thread() -> bool:
    return QThread.currentThread() is QApplication.instance().thread()


def test_result_progress_and_finished_arrive_on_gui_thread_in_order(qtbot, runner):
    events: list[tuple] = []
    worker_threads: list[int] = []

    def work(n, report):
        worker_threads.append(threading.get_ident())
        for i in range(n):
            report(("step", i))
        return n * 10

    task = runner.start(
        work, 5, name="count",
        on_done=lambda v: events.append(("done", v, _gui_thread())),
        on_error=lambda s: events.append(("error", s)),
        on_progress=lambda batch: events.extend(("progress", p, _gui_thread()) for p in batch),
        on_finished=lambda: events.append(("finished", _gui_thread())),
    )
    assert task.running and runner.busy("count") and runner.busy()
    qtbot.waitUntil(lambda: not task.running, timeout=10_000)
    assert worker_threads and worker_threads[0] != threading.get_ident()
    assert events == (
        [("progress", ("step", i), True) for i in range(5)]
        + [("done", 50, True), ("finished", True)]
    )
    assert not runner.busy() and runner.tasks() == []


def test_error_is_one_sentence_and_finished_still_comes(qtbot, runner, capfd):
    got: list = []

    def fails_digitpad():
        raise DataError("The labels are not digits 0..9.")

    def fails_other():
        raise KeyError("x")

    printed = []
    for fn in (fails_digitpad, fails_other):
        runner.start(fn, name="bad", on_done=lambda v: got.append(("done", v)),
                     on_error=lambda s: got.append(("error", s)),
                     on_finished=lambda: got.append("finished"))
        qtbot.waitUntil(lambda: not runner.busy(), timeout=10_000)
        printed.append(capfd.readouterr().err)
    assert got == [
        ("error", "The labels are not digits 0..9."), "finished",
        ("error", "Unexpected KeyError: 'x'"), "finished",
    ]
    # a refusal (DigitpadError) is only its sentence; an unexpected error's details go to stderr
    assert "Traceback" not in printed[0]
    assert "Traceback" in printed[1] and "KeyError" in printed[1]


def test_stop_all_calls_the_stop_callable_and_wait_all_blocks_until_done(qtbot, runner):
    stop = threading.Event()
    started = threading.Event()

    def loop():
        started.set()
        while not stop.wait(0.01):
            pass
        return "stopped"

    results: list = []
    task = runner.start(loop, name="loop", stop=stop.set, on_done=results.append)
    assert started.wait(10)
    assert runner.wait_all(50) is False  # still running: a timeout, not a hang
    runner.stop_all()
    assert stop.is_set()
    assert runner.wait_all(10_000)
    assert task.running  # the function returned; its result is still queued for the GUI thread
    qtbot.waitUntil(lambda: not task.running, timeout=10_000)
    assert results == ["stopped"]


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="per-thread nice values are Linux-only")
def test_low_priority_task_runs_niced_with_short_switch_interval(qtbot, runner, monkeypatch):
    monkeypatch.setattr(workers, "_frozen", True)  # do not import TensorFlow for this test
    monkeypatch.setattr(workers, "WORKER_NICENESS", 10)  # the app's value (conftest sets 0)
    before = sys.getswitchinterval()
    seen = {}

    def probe():
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        seen["switch"] = sys.getswitchinterval()

    def plain():
        seen["plain_nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    main_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    runner.start(probe, name="train", low_priority=True)
    qtbot.waitUntil(lambda: not runner.busy(), timeout=10_000)
    runner.start(plain, name="load")
    qtbot.waitUntil(lambda: not runner.busy(), timeout=10_000)
    assert seen["nice"] >= max(main_nice, 10)
    assert seen["switch"] == pytest.approx(min(before, workers.JOB_SWITCH_INTERVAL_S))
    assert seen["plain_nice"] == main_nice  # ordinary tasks never run on a niced thread
    assert sys.getswitchinterval() == pytest.approx(before)


def test_shared_runner_is_one_per_application(qtbot):
    assert shared_runner() is shared_runner()
    assert shared_runner().parent() is QApplication.instance()


def test_overlapping_tasks_leave_the_warnings_module_alone(qtbot, runner):
    """superqt's own worker swapped warnings' global state per run; overlapping runs left the GUI
    thread with a finished worker's showwarning (endless recursion on the next warning)."""
    import warnings

    before = (warnings.showwarning, list(warnings.filters))
    both_running = threading.Barrier(2)

    def warns(n):
        both_running.wait(10)
        warnings.warn(f"task {n} says hello", UserWarning, stacklevel=1)
        both_running.wait(10)
        return n

    with pytest.warns(UserWarning, match="says hello") as caught:
        for n in (1, 2):
            runner.start(warns, n, name=f"warns-{n}")
        assert runner.wait_all(20_000)
    qtbot.waitUntil(lambda: not runner.busy(), timeout=10_000)
    assert len(caught) == 2  # the tasks' warnings reached Python's normal machinery
    assert warnings.showwarning is before[0] and warnings.filters == before[1]


def test_quitting_the_app_stops_and_awaits_the_shared_runners_tasks(qtbot):
    from digitpad.gui import app as app_module

    qapp = app_module._application([])
    try:
        stop = threading.Event()
        ended = []

        def loop():
            while not stop.wait(0.01):
                pass
            ended.append(True)

        task = shared_runner().start(loop, name="train", stop=stop.set)
        qapp.aboutToQuit.emit()  # what QApplication.quit() emits before the event loop ends
        assert stop.is_set() and ended == [True]  # stopped and awaited, in that call
        qtbot.waitUntil(lambda: not task.running, timeout=10_000)
    finally:
        qapp.aboutToQuit.disconnect(app_module.stop_tasks)
