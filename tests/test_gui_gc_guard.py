"""Cyclic garbage holding Qt objects is collected on the GUI thread, never in a worker.

Regression test for a hang seen in a full test run: Python's collector ran inside a worker thread
(building a model), destroyed a closed window's Qt objects there, and deadlocked against the GUI
thread (Qt's object mutex vs. the GIL).
"""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject

from digitpad.gui import gc_guard
from digitpad.gui.tasks import TaskRunner


class _Cyclic(QObject):
    deleted_in: list[str] = []

    def __init__(self):
        super().__init__()
        self.me = self  # a reference cycle: only the cyclic collector can free it

    def __del__(self):
        _Cyclic.deleted_in.append(threading.current_thread().name)


def test_cyclic_qt_garbage_is_collected_on_gui_thread(qtbot):
    _Cyclic.deleted_in.clear()

    def allocate():
        # Far more container allocations than generation 0's threshold: with automatic GC on,
        # a collection (and the QObject's destruction) would happen right here, in the worker.
        junk = [[i] for i in range(200_000)]
        return len(junk)

    runner = TaskRunner()
    assert gc_guard.is_active() and not gc.isenabled()
    for _ in range(50):
        _Cyclic()
    results = []
    runner.start(allocate, name="digitpad-gc-test", on_done=results.append)
    assert runner.wait_all(30_000)
    qtbot.waitUntil(lambda: results == [200_000], timeout=10_000)
    main = threading.main_thread().name
    assert set(_Cyclic.deleted_in) <= {main}  # nothing was collected in the worker
    # The GUI-thread timer collects once generation 0 is over its threshold; the worker's
    # temporaries are freed again, so pass the threshold here with objects kept alive.
    keep = [[i] for i in range(3 * gc.get_threshold()[0])]
    qtbot.waitUntil(lambda: len(_Cyclic.deleted_in) == 50, timeout=10_000)
    del keep
    assert set(_Cyclic.deleted_in) == {main}
