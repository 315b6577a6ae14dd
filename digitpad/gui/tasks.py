"""The one way the GUI runs background work: :class:`TaskRunner` over superqt workers.

Model and image loading, saving, evaluation, training and k-fold all go through a runner. A task
is a plain function run in a worker thread (a superqt ``FunctionWorker`` started on one of the
runner's thread pools); everything it reports arrives on the GUI thread through the runner's own
queued signals, in the order it was sent, and ends with exactly one of ``on_done`` / ``on_error``
followed by ``on_finished``. The function never touches widgets. A callback that is a method
(or a ``functools.partial`` of a method) of a Qt object deleted meanwhile, e.g. a closed tab, is
skipped.

Usage::

    runner = shared_runner()

    def work(path, report):              # worker thread; report(obj) forwards obj (throttled)
        report("reading")
        return load_image(path)

    runner.start(work, "digit.png", name="open-image",
                 on_done=self._show_image,          # GUI thread, with work()'s return value
                 on_error=self._say,                # GUI thread, one sentence
                 on_progress=self._on_reports)      # GUI thread, a list of reports

    runner.busy("open-image")   # True until on_finished has been delivered
    runner.stop_all(); runner.wait_all(60000)      # on QApplication.aboutToQuit (gui/app.py)

Training passes ``low_priority=True``: the worker thread is niced, TensorFlow's pool threads are
reniced while progress flows (:class:`~digitpad.gui.workers.ProgressThrottle`), Python's switch
interval is shortened, and long-lived objects are frozen out of the garbage collector once.
Low-priority tasks run on a pool whose threads exit when their task ends, so a niced thread is
never reused for GUI-facing work. Cyclic garbage collection runs on the GUI thread only
(:func:`~digitpad.gui.gc_guard.collect_on_gui_thread`).
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThreadPool, Signal, Slot
from superqt.utils import FunctionWorker, create_worker

import digitpad.gui.qtcompat  # noqa: F401  (PySide6 emit() refcount work-around)
from digitpad.core.errors import DigitpadError
from digitpad.gui import workers  # module attributes: benchmarks switch measures off
from digitpad.gui.gc_guard import collect_on_gui_thread

#: Threads of the pool for ordinary tasks (loading, saving, evaluating run side by side).
POOL_THREADS = 8

_shared: TaskRunner | None = None


def error_reason(exc: BaseException) -> str:
    """One sentence describing ``exc`` for the user (a DigitpadError's own text)."""
    if isinstance(exc, DigitpadError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"Unexpected {name}: {text}" if text else f"Unexpected {name}."


class _TaskWorker(FunctionWorker):
    """superqt's FunctionWorker without its per-run ``warnings.catch_warnings``.

    That context manager swaps the ``warnings`` module's global ``showwarning`` and filters; with
    two workers overlapping (training while a model loads) one restored the other's, leaving the
    GUI thread with a worker's ``showwarning`` (seen here: endless recursion on the next
    warning) and every DeprecationWarning switched on. Warnings of a task are printed by Python
    as in any thread. The task body (:meth:`TaskRunner._body`) never raises.
    """

    def run(self) -> None:  # noqa: D401 - QRunnable API
        """Thread body (called by the thread pool)."""
        self._running = True
        try:
            self.work()
        finally:
            self._running = False


@dataclass(eq=False)
class Task:
    """Handle of one started task (created by :meth:`TaskRunner.start`)."""

    name: str
    id: int
    stop: Callable[[], None] | None = None
    low_priority: bool = False
    _running: bool = True
    _ended: threading.Event = field(default_factory=threading.Event)
    _callbacks: dict[str, Callable | None] = field(default_factory=dict)
    _job: tuple | None = None               # (fn, args, throttle) until the worker takes it
    _worker: FunctionWorker | None = None

    def request_stop(self) -> None:
        """Ask the task to stop (calls the ``stop`` callable given to ``start``, if any)."""
        if self._running and self.stop is not None:
            self.stop()

    @property
    def running(self) -> bool:
        """True until the task's last callback (``on_finished``) has been delivered."""
        return self._running


class TaskRunner(QObject):
    """Starts tasks in worker threads and delivers their results on the GUI thread."""

    _progress = Signal(int, object)     # (task id, list of reports)  - emitted in worker threads
    _outcome = Signal(int, bool, object)  # (task id, ok, value or sentence)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        collect_on_gui_thread()  # no cyclic GC (and so no Qt destructors) in worker threads
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(POOL_THREADS, QThreadPool.globalInstance().maxThreadCount()))
        # Every task runs on a fresh thread: a pool thread reused for a second TensorFlow job hung or
        # crashed (segfault in eager conv2d) when a model was loaded, then described/explained.
        self._pool.setExpiryTimeout(0)
        self._low_pool = QThreadPool(self)
        self._low_pool.setMaxThreadCount(POOL_THREADS)
        self._low_pool.setExpiryTimeout(0)  # a niced thread ends with its task
        self._tasks: dict[int, Task] = {}
        self._ids = itertools.count(1)
        self._progress.connect(self._on_progress)
        self._outcome.connect(self._on_outcome)

    # ---------------------------------------------------------------- public API
    def start(
        self,
        fn: Callable[..., Any],
        *args: Any,
        name: str,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_progress: Callable[[list], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        stop: Callable[[], None] | None = None,
        low_priority: bool = False,
    ) -> Task:
        """Run ``fn(*args)`` in a worker thread; see the module docstring.

        With ``on_progress``, ``fn`` is called as ``fn(*args, report=report)``; ``report(obj)``
        may be called from the worker thread any number of times and ``on_progress`` receives
        lists of those objects (per-batch training progress is coalesced, see ProgressThrottle).
        """
        task = Task(name=name, id=next(self._ids), stop=stop, low_priority=low_priority)
        task._callbacks = {
            "done": on_done, "error": on_error, "progress": on_progress, "finished": on_finished,
        }
        throttle = None
        if on_progress is not None:
            throttle = workers.ProgressThrottle(
                self._sink(task.id), renice_interval=None if low_priority else 0
            )
        task._job = (fn, args, throttle)
        worker = create_worker(self._body, task, _start_thread=False, _ignore_errors=True,
                               _worker_class=_TaskWorker)
        task._worker = worker
        self._tasks[task.id] = task
        (self._low_pool if low_priority else self._pool).start(worker)
        return task

    def busy(self, name: str | None = None) -> bool:
        """Whether a task (called ``name``, when given) is running."""
        return any(name is None or t.name == name for t in self._tasks.values())

    def tasks(self) -> list[Task]:
        """The running tasks, oldest first."""
        return list(self._tasks.values())

    def stop_all(self) -> None:
        """Ask every running task to stop (tasks without a stop callable run to the end)."""
        for task in self.tasks():
            task.request_stop()

    def wait_all(self, timeout_ms: int = 60000) -> bool:
        """Block until every task's function has returned (no event processing); False on timeout.

        Results still queued for the GUI thread are delivered later by the event loop, if any.
        """
        deadline = time.monotonic() + timeout_ms / 1000.0
        for task in self.tasks():
            if not task._ended.wait(max(0.0, deadline - time.monotonic())):
                return False
        for pool in (self._pool, self._low_pool):
            if not pool.waitForDone(max(0, int((deadline - time.monotonic()) * 1000))):
                return False
        return True

    # ---------------------------------------------------------- worker thread
    def _sink(self, task_id: int) -> Callable[[list], None]:
        emit = self._progress.emit

        def sink(batch: list) -> None:
            emit(task_id, batch)

        return sink

    def _body(self, task: Task) -> None:
        """Worker thread: run the task's function and send its outcome; never raises."""
        fn, args, throttle = task._job
        task._job = None
        if task.low_priority:
            workers.lower_current_thread_priority()
            workers.enter_job_switch_interval()
        try:
            if task.low_priority:
                workers.freeze_long_lived_objects()  # full GCs over TF objects stalled the GUI
            if throttle is not None:
                value = fn(*args, report=throttle)
                throttle.flush()
            else:
                value = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a sentence
            if throttle is not None:
                throttle.flush()
            if not isinstance(exc, DigitpadError):  # a refusal is expected; a bug is not
                print(f"digitpad: task {task.name!r} failed:\n{traceback.format_exc()}",
                      file=sys.stderr, flush=True)
            ok, payload = False, error_reason(exc)
        else:
            ok, payload = True, value
        finally:
            if task.low_priority:
                workers.leave_job_switch_interval()
        del fn, args, throttle  # no references to models/data while the thread idles
        value = None  # the result travels in payload only
        try:
            self._outcome.emit(task.id, ok, payload)
        finally:
            del payload
            task._ended.set()

    # ------------------------------------------------------------- GUI thread
    @Slot(int, object)
    def _on_progress(self, task_id: int, batch: list) -> None:
        task = self._tasks.get(task_id)
        if task is not None:
            _deliver(task._callbacks.get("progress"), batch)

    @Slot(int, bool, object)
    def _on_outcome(self, task_id: int, ok: bool, payload: object) -> None:
        task = self._tasks.get(task_id)
        if task is None:
            return
        callbacks, task._callbacks = task._callbacks, {}
        try:
            _deliver(callbacks.get("done" if ok else "error"), payload)
        finally:
            del self._tasks[task_id]
            task._running = False
            task._worker = None
            _deliver(callbacks.get("finished"))


def _deliver(callback: Callable | None, *args: Any) -> None:
    """Call ``callback`` unless it is a method of a Qt object deleted meanwhile (a closed tab)."""
    if callback is None:
        return
    target = callback.func if isinstance(callback, partial) else callback
    owner = getattr(target, "__self__", None)
    if isinstance(owner, QObject) and not shiboken6.isValid(owner):
        return
    callback(*args)


def shared_runner() -> TaskRunner:
    """The application-wide runner (created on first use, parented to the QApplication)."""
    global _shared
    if _shared is None:
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("shared_runner() needs a QApplication.")
        _shared = TaskRunner(app)
        _shared.destroyed.connect(_forget_shared)
    return _shared


def _forget_shared() -> None:
    global _shared
    _shared = None
