"""The PySide6 desktop app: a thin layer of widgets over :mod:`digitpad.core`."""

from digitpad.gui import qtcompat as _qtcompat

_qtcompat.immortalize_bools()
