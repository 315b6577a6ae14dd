"""Work-arounds for bugs in the Qt bindings, applied once on import.

PySide6 6.12.0 on CPython 3.11: ``SignalInstance.emit()`` returns ``True`` without taking a
reference, so every emit from Python lowers ``True``'s reference count by one. After a few
thousand emits (drawing on the pad emits on every mouse move, training on every batch) the count
reaches zero and the interpreter aborts with "Fatal Python error: bool_dealloc: deallocating True
or False". Measured here: 100 ``emit()`` calls lower ``sys.getrefcount(True)`` by exactly 100.

CPython 3.12+ makes ``True``/``False`` immortal, which hides the bug. On older CPython we give both
objects a huge extra reference count, i.e. make them effectively immortal too: they are never
freed anyway, so extra references cost nothing, and the work-around stays harmless once PySide6
is fixed.
"""

from __future__ import annotations

import ctypes
import sys

_EXTRA = 1 << 40
_applied = False


def immortalize_bools() -> bool:
    """Give ``True`` and ``False`` a huge reference count on CPython < 3.12 (idempotent).

    Returns True when the work-around is in effect (or not needed).
    """
    global _applied
    if _applied or sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        _applied = True
        return True
    for obj in (True, False):
        cell = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is the first field
        before = sys.getrefcount(obj)
        if abs(cell.value - before) > 16:  # unexpected object layout: leave it alone
            return False
        cell.value += _EXTRA
    _applied = True
    return True


immortalize_bools()
