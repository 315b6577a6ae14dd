"""Run Python's cyclic garbage collector on the GUI thread only.

Python's cyclic collector runs in whichever thread happens to allocate when a generation's
threshold is passed. When that is a worker thread (training, model loading) and the garbage holds
Qt objects (a closed window's widgets, menus, actions), their C++ destructors run in the worker
while the GUI thread may be deleting other Qt objects: Qt's object mutex and Python's GIL are then
taken in opposite orders and both threads wait forever. This was seen here: a full test run hung
with the GUI thread in ``QObject::~QObject`` waiting for Qt's mutex and a parameter-count worker
inside ``gc_collect_main`` -> ``QObject::~QObject`` waiting for the GIL.

The cure (pyqtgraph's :class:`~pyqtgraph.util.garbage_collector.GarbageCollector`, after Erik
Janssens): disable automatic collection and collect on a GUI-thread timer instead, with the same
generation thresholds. Every GUI entry point that starts threads calls :func:`collect_on_gui_thread`.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QThread

COLLECT_INTERVAL_S = 0.5

_collector = None


def collect_on_gui_thread() -> bool:
    """Move cyclic garbage collection to the GUI thread (idempotent).

    Returns
    -------
    bool
        True once collection is driven by the GUI-thread timer; False when there is no
        QCoreApplication yet or this is not the GUI thread (nothing is changed then).
    """
    global _collector
    if _collector is not None:
        return True
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return False
    from pyqtgraph.util.garbage_collector import GarbageCollector

    _collector = GarbageCollector(interval=COLLECT_INTERVAL_S)
    gc.disable()
    return True


def is_active() -> bool:
    """Whether collection has been moved to the GUI thread."""
    return _collector is not None and not gc.isenabled()
