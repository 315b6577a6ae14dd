"""What keeps the GUI responsive while a task trains: thread priorities, GIL switch interval,
a one-time heap freeze, and a throttle for per-batch progress.

:class:`~digitpad.gui.tasks.TaskRunner` applies these to ``low_priority`` tasks; nothing here
starts threads. Each measure was measured as a real trap here (``bench/bench_gui_training.py``).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

#: Nice value given to worker threads (Linux): higher = lower priority than the GUI thread.
WORKER_NICENESS = 10

#: Minimum time between two forwarded batches of per-batch progress events (seconds).
PROGRESS_INTERVAL_S = 0.05

#: Name prefixes of the native threads that do a training's arithmetic: TensorFlow's thread pools
#: ("tf_Compute", "tf_graph_runner", "tf_data_…"). They are created when TensorFlow starts, usually
#: by the GUI thread (model loading at start-up), so they do not inherit the worker's nice value.
COMPUTE_THREAD_PREFIXES = ("tf_",)

#: How often (seconds) a running :class:`ProgressThrottle` lowers the priority of compute threads
#: TensorFlow created since the last pass (``None`` or 0: never).
RENICE_INTERVAL_S: float | None = 1.0

#: Python's GIL switch interval while a low-priority task runs (``None``: leave it alone). The
#: default 5 ms lets a worker running Python code keep the GUI thread waiting 5 ms per request.
JOB_SWITCH_INTERVAL_S: float | None = 0.001

_freeze_lock = threading.Lock()
_frozen = False

_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved: float | None = None



def lower_current_thread_priority(niceness: int | None = None) -> bool:
    """Lower the OS scheduling priority of the calling thread (Linux: per-thread nice value).

    Measured here: with the training thread at nice 10 the GUI thread's 10 ms timer p99 fell from
    16–33 ms to 11–15 ms. Threads created afterwards by this thread inherit the value.

    Returns
    -------
    bool
        True if the priority was changed, False where the platform does not support it.
    """
    niceness = WORKER_NICENESS if niceness is None else niceness
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        if current < niceness:
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
        return True
    except (AttributeError, OSError):
        return False


def _task_ids() -> list[int]:
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except (OSError, ValueError):
        return []


def _thread_name(tid: int) -> str:
    try:
        with open(f"/proc/self/task/{tid}/comm", encoding="utf-8", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def lower_compute_threads_priority(
    niceness: int | None = None, prefixes: tuple[str, ...] = COMPUTE_THREAD_PREFIXES
) -> int:
    """Lower the OS priority of this process's TensorFlow thread-pool threads (Linux).

    The GUI thread (the process's main thread) and threads with other names (Qt's own, LiteRT's)
    are left alone. Measured with ``bench/bench_gui_training.py``: while training, TensorFlow's
    pool threads at nice 0 compete with the GUI thread for the cores on equal terms; at nice 10
    the GUI thread gets a core as soon as it wakes, and training still uses every idle cycle.

    Returns
    -------
    int
        Number of threads whose priority was lowered by this call (0 where unsupported).
    """
    if not hasattr(os, "setpriority"):
        return 0
    niceness = WORKER_NICENESS if niceness is None else niceness
    main = os.getpid()
    changed = 0
    for tid in _task_ids():
        if tid == main or not _thread_name(tid).startswith(prefixes):
            continue
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < niceness:
                os.setpriority(os.PRIO_PROCESS, tid, niceness)
                changed += 1
        except OSError:  # the thread ended meanwhile, or not permitted
            continue
    return changed


def restore_compute_threads_priority(prefixes: tuple[str, ...] = COMPUTE_THREAD_PREFIXES) -> int:
    """Give TensorFlow's pool threads the GUI thread's priority back where the OS permits it.

    Raising a priority needs ``CAP_SYS_NICE`` (or an ``RLIMIT_NICE`` allowance) on Linux, so for a
    normal user they keep the lowered priority, which only matters for TensorFlow work on the GUI
    thread (the Recognize tab uses LiteRT, whose threads are not touched).

    Returns
    -------
    int
        Number of threads restored.
    """
    if not hasattr(os, "setpriority"):
        return 0
    main = os.getpid()
    try:
        target = os.getpriority(os.PRIO_PROCESS, main)
    except OSError:
        return 0
    restored = 0
    for tid in _task_ids():
        if tid == main or not _thread_name(tid).startswith(prefixes):
            continue
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) > target:
                os.setpriority(os.PRIO_PROCESS, tid, target)
                restored += 1
        except OSError:
            continue
    return restored


def freeze_long_lived_objects() -> bool:
    """Move every object alive now out of the garbage collector's reach, once per process.

    Measured with ``bench/bench_gui_training.py --trace``: the stalls of 200-250 ms left while
    training were full (generation 2) garbage collections triggered in the worker thread. They
    traverse the ~350,000 objects of TensorFlow, Keras and Qt, all with the GIL held. Those
    objects live as long as the process, so :func:`gc.freeze` puts them in the permanent
    generation; a full collection then scans only what was made since (a training run adds
    ~20,000 objects: 7 ms). TensorFlow and Keras are imported first, so their objects are
    included. Called at the start of the first low-priority (training) task; later calls do nothing, so
    models of later runs stay collectable. Garbage cycles that exist at that moment (and
    objects alive then that die later inside reference cycles) are never freed: a one-time cost.

    Returns
    -------
    bool
        True if this call froze the heap.
    """
    global _frozen
    with _freeze_lock:
        if _frozen:
            return False
        from digitpad.core.tfsetup import keras, tf

        tf()
        keras()
        gc.freeze()
        _frozen = True
        return True


def enter_job_switch_interval() -> None:
    """Shorten Python's switch interval to JOB_SWITCH_INTERVAL_S while a low-priority task runs."""
    global _switch_users, _switch_saved
    if not JOB_SWITCH_INTERVAL_S:
        return
    with _switch_lock:
        if _switch_users == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_saved, JOB_SWITCH_INTERVAL_S))
        _switch_users += 1


def leave_job_switch_interval() -> None:
    """Undo one :func:`enter_job_switch_interval` (the last one restores the interval)."""
    global _switch_users, _switch_saved
    with _switch_lock:
        if _switch_users == 0:
            return
        _switch_users -= 1
        if _switch_users == 0 and _switch_saved is not None:
            sys.setswitchinterval(_switch_saved)
            _switch_saved = None


class ProgressThrottle:
    """Callable for the core Trainer's ``on_progress`` (runs in the worker thread).

    Per-batch events are accumulated and forwarded as one list at most every ``interval``
    seconds; any other event (start, epoch, end, message) flushes the pending batches and is
    forwarded at once. ``sink`` receives ``list`` objects and must be thread-safe (a Qt signal's
    ``emit``). The sink can be swapped (for a continued run on the same Trainer).

    Every ``renice_interval`` seconds it also lowers the priority of TensorFlow's pool threads
    (:func:`lower_compute_threads_priority`): they are created lazily, some during the run.
    """

    def __init__(self, sink: Callable[[list], None] | None = None, interval: float = PROGRESS_INTERVAL_S,
                 renice_interval: float | None = None):
        self.sink = sink
        self.interval = float(interval)
        self.renice_interval = RENICE_INTERVAL_S if renice_interval is None else renice_interval
        self._pending: list = []
        self._last = 0.0
        self._last_renice: float | None = None
        self._lock = threading.Lock()
        self.emitted = 0  # number of lists forwarded (for tests and benchmarks)
        self.reniced = 0  # number of compute threads whose priority was lowered

    def __call__(self, progress: Any) -> None:
        kind = getattr(progress, "kind", "batch")
        now = time.monotonic()
        if self.renice_interval:
            if kind == "end":  # the run is over: TensorFlow work may serve the GUI again
                restore_compute_threads_priority()
                self._last_renice = None
            elif self._last_renice is None or now - self._last_renice >= self.renice_interval:
                self._last_renice = now
                self.reniced += lower_compute_threads_priority()
        with self._lock:
            self._pending.append(progress)
            if kind == "batch" and now - self._last < self.interval:
                return
            batch, self._pending = self._pending, []
            self._last = now
            sink = self.sink
            self.emitted += 1
        if sink is not None:
            sink(batch)

    def flush(self) -> None:
        """Forward whatever is pending now."""
        with self._lock:
            batch, self._pending = self._pending, []
            sink = self.sink
        if batch and sink is not None:
            sink(batch)
