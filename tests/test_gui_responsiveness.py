"""The measures that keep the GUI responsive while training (issue 5).

Each test checks one mechanism directly: thread priorities, the GIL switch interval of low-priority tasks (tests/test_gui_tasks.py),
the one-time heap freeze and the rate-limited plot redraw. The timing goals themselves live in
``bench/bench_gui_training.py`` (no timed assertions here).
"""

from __future__ import annotations

import gc
import os
import sys
import threading

import pytest

from digitpad.gui import workers
from digitpad.gui.training_plots import TrainingPlots

linux_only = pytest.mark.skipif(not os.path.isdir("/proc/self/task") or not hasattr(os, "setpriority"),
                                reason="per-thread priorities are read from /proc (Linux)")


class _NamedThread:
    """A thread that sets its OS-level name (``comm``) and waits until released."""

    def __init__(self, name: str):
        self.name = name
        self.tid: int | None = None
        self._ready = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.tid = threading.get_native_id()
        with open(f"/proc/self/task/{self.tid}/comm", "w") as fh:
            fh.write(self.name)
        self._ready.set()
        self._release.wait(30)

    def __enter__(self) -> _NamedThread:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self._thread.join(10)

    @property
    def nice(self) -> int:
        return os.getpriority(os.PRIO_PROCESS, self.tid)


@linux_only
def test_compute_threads_are_lowered_and_others_left_alone():
    main_before = os.getpriority(os.PRIO_PROCESS, os.getpid())
    with _NamedThread("tf_testpool") as tf_thread, _NamedThread("QXcbEventQueue") as qt_thread:
        assert tf_thread.nice == main_before
        changed = workers.lower_compute_threads_priority(niceness=main_before + 7)
        assert changed >= 1
        assert tf_thread.nice == main_before + 7
        assert qt_thread.nice == main_before  # Qt's own threads keep the GUI's priority
        assert os.getpriority(os.PRIO_PROCESS, os.getpid()) == main_before
        assert workers.lower_compute_threads_priority(niceness=main_before + 7) == 0  # idempotent
        restored = workers.restore_compute_threads_priority()
        if restored:  # raising a priority back needs CAP_SYS_NICE
            assert tf_thread.nice == main_before


@linux_only
def test_throttle_renices_periodically_and_restores_at_end(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(workers, "lower_compute_threads_priority", lambda: calls.append("lower") or 2)
    monkeypatch.setattr(workers, "restore_compute_threads_priority", lambda: calls.append("restore") or 0)

    class P:
        def __init__(self, kind):
            self.kind = kind

    sent: list[list] = []
    throttle = workers.ProgressThrottle(sent.append, interval=0.0, renice_interval=3600.0)
    throttle(P("start"))
    throttle(P("batch"))
    throttle(P("batch"))
    assert calls == ["lower"]  # once per interval, not per event
    assert throttle.reniced == 2
    throttle(P("end"))
    assert calls == ["lower", "restore"]
    throttle(P("start"))  # a continued run lowers again at once
    assert calls == ["lower", "restore", "lower"]
    assert sum(len(b) for b in sent) == 5

    off = workers.ProgressThrottle(sent.append, interval=0.0, renice_interval=0)
    off(P("batch"))
    assert calls == ["lower", "restore", "lower"]


def test_freeze_happens_once(monkeypatch):
    monkeypatch.setattr(workers, "_frozen", False)
    frozen_before = gc.get_freeze_count()
    try:
        assert workers.freeze_long_lived_objects() is True
        assert gc.get_freeze_count() > frozen_before
        assert "tensorflow" in sys.modules and "keras" in sys.modules  # their objects are included
        assert workers.freeze_long_lived_objects() is False
    finally:
        gc.unfreeze()


def test_batch_redraw_is_rate_limited_and_flushed(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.redraw_interval_ms = 200
    start = plots.redraws
    for i in range(10):
        plots.add_batches([i / 10], [{"loss": 2.0 - i / 10, "accuracy": i / 10}])
    assert plots.point_counts()["batch_loss"] == 10  # data are kept at once
    assert plots.redraws == start  # but not drawn per call
    qtbot.waitUntil(lambda: plots.redraws == start + 1, timeout=5000)
    x, y = plots.batch_items["loss"].getData()
    assert len(x) == 10 and y[-1] == pytest.approx(1.1)

    plots.add_batches([1.05], [{"loss": 0.5, "accuracy": 0.9}])
    plots.add_epoch(1, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.2, "val_accuracy": 0.4})
    assert len(plots.batch_items["loss"].getData()[0]) == 11  # an epoch point draws pending batches
    assert plots.epoch_items["loss"].getData()[0].tolist() == [1.0]

    plots.add_batches([1.1], [{"loss": 0.4, "accuracy": 0.95}])
    plots.flush()
    assert len(plots.batch_items["loss"].getData()[0]) == 12

    plots.redraw_interval_ms = 0  # 0 = draw at once
    plots.add_batches([1.2], [{"loss": 0.3, "accuracy": 0.96}])
    assert len(plots.batch_items["loss"].getData()[0]) == 13
