"""Latest-only background work: at most one computation in flight and one pending, never a queue.

The live internals of the Recognize tab are recomputed for every change of the drawing; pen
moves come far faster than a computation ends. :class:`LatestOnly` runs one job at a time through
the app's :class:`~digitpad.gui.tasks.TaskRunner`; a job submitted meanwhile becomes the single
pending one, replacing any pending job before it. When the running job ends its result is
delivered (at most one job behind the drawing, so a continuous stroke still shows results) and
the pending job starts.

Usage::

    latest = LatestOnly(runner, name="internals")
    latest.submit(compute, image28, target, on_done=self._draw)   # on every pad change
    latest.in_flight, latest.pending, latest.started               # for tests and status
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QTimer

from digitpad.gui.tasks import TaskRunner


class LatestOnly(QObject):
    """Run the latest submitted job; superseded pending jobs are dropped, never queued.

    Parameters
    ----------
    runner
        The task runner that executes the jobs.
    name
        Task name given to the runner (``runner.busy(name)``).
    low_priority
        Run the jobs as the runner's low-priority tasks (niced thread, TensorFlow's pool threads
        reniced), so the GUI thread keeps its core while the pen moves (attribute, may be changed).
    gap_ms
        Pause between the end of one job and the start of the pending one, so that on a small
        machine the worker does not hold the cores (and the interpreter) all the time while the
        pen moves; the bars, computed on the GUI thread, stay within a frame.
    """

    def __init__(self, runner: TaskRunner, *, name: str, low_priority: bool = True,
                 gap_ms: int = 0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.gap_ms = int(gap_ms)
        self._cooling = False
        self._gap = QTimer(self)
        self._gap.setSingleShot(True)
        self._gap.timeout.connect(self._after_gap)
        self._runner = runner
        self._name = name
        self.low_priority = low_priority
        self._in_flight = False
        self._pending: tuple | None = None
        self.started = 0        # jobs started (for tests: far fewer than submitted)
        self.submitted = 0      # jobs submitted
        self.delivered = 0      # results handed to on_done

    @property
    def in_flight(self) -> bool:
        """True while a job runs."""
        return self._in_flight

    @property
    def pending(self) -> bool:
        """True when a job waits for the running one to end."""
        return self._pending is not None

    def submit(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None],
               on_error: Callable[[str], None] | None = None, **kwargs: Any) -> None:
        """Run ``fn(*args, **kwargs)`` now if idle, else make it the one pending job.

        A job pending already is replaced (dropped). ``on_done(value)`` / ``on_error(sentence)``
        are called on the GUI thread when this job ends.
        """
        self.submitted += 1
        job = (partial(fn, *args, **kwargs), on_done, on_error)
        if self._in_flight or self._cooling:
            self._pending = job
            return
        self._start(job)

    def cancel_pending(self) -> None:
        """Drop the pending job, if any (the running one still ends, its result delivered)."""
        self._pending = None

    # ------------------------------------------------------------------ internals
    def _start(self, job: tuple) -> None:
        fn, on_done, on_error = job
        self._in_flight = True
        self.started += 1
        self._runner.start(
            fn, name=self._name, on_done=partial(self._deliver, on_done),
            on_error=partial(self._deliver, on_error), on_finished=self._finished,
            low_priority=self.low_priority,
        )

    def _deliver(self, callback: Callable[[Any], None] | None, value: Any) -> None:
        self.delivered += 1
        if callback is not None:
            callback(value)

    def _finished(self) -> None:
        self._in_flight = False
        if self.gap_ms > 0:
            self._cooling = True
            self._gap.start(self.gap_ms)
            return
        self._after_gap()

    def _after_gap(self) -> None:
        self._cooling = False
        job, self._pending = self._pending, None
        if job is not None:
            self._start(job)
