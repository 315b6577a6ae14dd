"""Ctrl-C during training: each press asks the run to stop gracefully, never a traceback."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

FIRST_NOTICE = "stopping after the current batch (the weights so far will be saved)…"
LATER_NOTICE = "stopping…"


class StopOnSigint:
    """Context manager: while inside, SIGINT calls ``stop()`` and ``notify()`` instead of raising.

    Parameters
    ----------
    stop
        Asks the run to stop (called on every Ctrl-C; must be idempotent).
    notify
        Prints a notice; called from the signal handler, so it must not do buffered writes.
    first_notice
        The notice for the first Ctrl-C (later ones print :data:`LATER_NOTICE`).
    """

    def __init__(
        self,
        stop: Callable[[], None],
        notify: Callable[[str], None],
        first_notice: str = FIRST_NOTICE,
    ) -> None:
        self._stop = stop
        self._notify = notify
        self._first_notice = first_notice
        self.count = 0
        self._previous: Any = None
        self._installed = False

    def handle(self, signum: int, frame: Any) -> None:
        """The SIGINT handler (public so that tests can call it as the interpreter would)."""
        self.count += 1
        self._stop()
        self._notify(self._first_notice if self.count == 1 else LATER_NOTICE)

    def __enter__(self) -> StopOnSigint:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self.handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            # After a Ctrl-C the command is about to exit 130: a late extra Ctrl-C must not turn
            # into a KeyboardInterrupt traceback while the interpreter shuts down.
            signal.signal(signal.SIGINT, signal.SIG_IGN if self.count else self._previous)
            self._installed = False

    @property
    def interrupted(self) -> bool:
        """Whether Ctrl-C was pressed inside the block."""
        return self.count > 0
