"""The session layer: typed run status, stop semantics, continue, and the run history."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from digitpad.core import history
from digitpad.core.errors import DataError, TrainingError
from digitpad.core.training import (
    RunStatus,
    TrainConfig,
    TrainingSession,
    run_kfold,
)


@pytest.fixture(autouse=True)
def _own_history(tmp_path, monkeypatch):
    """Each test writes its own run history (also without conftest's isolation)."""
    monkeypatch.setenv("DIGITPAD_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def small(mnist_small):
    """400 train / 200 test images: one epoch of ``fast`` in batches of 32 is 12 batches."""
    return mnist_small.subset(n_train=400, n_test=200, seed=2)


def fast(**changes):
    values = dict(arch="fast", epochs=1, batch_size=32, val_split=0.1, device="cpu")
    values.update(changes)
    return TrainConfig(**values)


class Recorder:
    def __init__(self):
        self.events = []

    def __call__(self, p):
        self.events.append(p)

    def kinds(self, kind):
        return [e for e in self.events if e.kind == kind]


@pytest.mark.slow
def test_completed_run_is_typed_and_recorded_with_its_curves(small):
    rec = Recorder()
    session = TrainingSession(fast(), dataset=small, on_progress=rec)
    assert session.result is None and session.trainer is None and not session.running
    result = session.run()
    assert result is session.result and not session.running
    assert result.status is RunStatus.COMPLETED and result.reason == "completed"
    assert result.batches_done == result.batches == 12 and result.epoch_float == 1.0
    (record,) = history.load_history()
    assert [r["date"] for r in session.records] == [record["date"]]
    assert record["kind"] == "train" and record["status"] == "completed"
    assert record["reason"] == "completed" and record["arch"] == "fast" and record["epochs"] == 1
    assert record["config"]["batch_size"] == 32 and record["config"]["val_split"] == 0.1
    assert record["test_accuracy"] == pytest.approx(result.test_accuracy)
    assert record["history"]["loss"] == pytest.approx(result.history["loss"])
    assert record["history"]["val_accuracy"] == pytest.approx(result.history["val_accuracy"])
    assert record["best_val_accuracy"] == pytest.approx(result.history["val_accuracy"][0])
    assert session.record_error is None
    x = [e.epoch_float for e in rec.events if e.kind in ("batch", "epoch")]
    assert x == sorted(x) and x[-1] == 1.0 and x[0] == pytest.approx(1 / 12)


@pytest.mark.slow
def test_stopped_run_then_continue_keeps_epoch_float_monotonic(small):
    rec = Recorder()
    session = None

    def on_progress(p):
        rec(p)
        if p.kind == "batch" and p.batch == 3 and len(session.records) == 0:
            session.request_stop()

    session = TrainingSession(fast(), dataset=small, on_progress=on_progress)
    stopped = session.run()
    assert stopped.status is RunStatus.STOPPED and stopped.stopped
    assert stopped.reason == ("stopped by user in epoch 1 after 3 of 12 batches (0 full epochs "
                              "done); the weights trained so far are kept")
    assert stopped.batches_done == 3 and stopped.epochs_done == 0
    assert not session.stop_requested  # consumed by the run it stopped
    first_run = len(rec.events)
    later = Recorder()
    session.on_progress = lambda p: (rec(p), later(p))  # replaced between runs: the new one hears
    more = session.continue_training(1)
    assert more.status is RunStatus.COMPLETED and more.epochs_done == 1
    assert more.step == 15 and more.epoch_float == pytest.approx(15 / 12)
    x = [e.epoch_float for e in rec.events if e.kind in ("batch", "epoch")]
    assert np.all(np.diff(x) > -1e-12), x  # never back to 0: no zig-zag in the plots
    assert later.events == rec.events[first_run:] and later.kinds("end")
    continued = [e for e in rec.events[first_run:] if e.kind == "batch"]
    assert continued[0].epoch_float == pytest.approx(4 / 12) and continued[0].step == 4
    runs = history.load_history()
    assert [r["status"] for r in runs] == ["stopped", "completed"]
    assert [r["kind"] for r in runs] == ["train", "continue"]
    assert runs[0]["reason"] == stopped.reason and runs[0]["batches_done"] == 3
    assert runs[0]["epoch_float"] == pytest.approx(3 / 12)


@pytest.mark.slow
def test_stop_before_continue_stops_the_continued_run(small):
    session = TrainingSession(fast(), dataset=small)
    first = session.run()
    step = first.step
    weights = [w.copy() for w in session.model.get_weights()]
    session.request_stop()  # pressed before the continued run begins
    assert session.stop_requested
    continued = session.continue_training(3)
    assert continued.status is RunStatus.STOPPED and continued.step == step
    assert continued.reason.startswith("stopped by user before epoch 2 began (1 full epoch done)")
    assert all(np.array_equal(a, b) for a, b in zip(session.model.get_weights(), weights, strict=True))
    assert not session.stop_requested
    again = session.continue_training(1)
    assert again.status is RunStatus.COMPLETED and again.epochs_done == 2
    assert [r["status"] for r in history.load_history()] == ["completed", "stopped", "completed"]


@pytest.mark.slow
def test_stop_requested_while_the_run_is_starting_stops_it_at_once(small):
    rec = Recorder()
    session = TrainingSession(fast(), dataset=small, on_progress=rec)
    session.request_stop()  # e.g. Stop pressed while the worker is still loading
    result = session.run()
    assert result.status is RunStatus.STOPPED and result.step == 0 and not rec.kinds("batch")
    assert result.reason.startswith("stopped by user before epoch 1 began (0 full epochs done)")


@pytest.mark.slow
def test_diverged_run_is_typed_and_recorded(small):
    session = TrainingSession(TrainConfig(arch="baseline", epochs=2, learning_rate=1e6,
                                          val_split=0.0, device="cpu"), dataset=small)
    result = session.run()
    assert result.status is RunStatus.DIVERGED and not result.stopped
    assert "at epoch 1, batch" in result.reason and result.epochs_done == 0
    (record,) = history.load_history()
    assert record["status"] == "diverged" and record["reason"] == result.reason


def test_failed_run_is_recorded_then_raised(tmp_path):
    session = TrainingSession(fast(data=str(tmp_path / "no-such-folder")))
    with pytest.raises(DataError) as info:
        session.run()
    assert session.result.status is RunStatus.FAILED
    assert session.result.reason == str(info.value) and "no-such-folder" in str(info.value)
    assert not session.running and not session.stop_requested
    (record,) = history.load_history()
    assert record["status"] == "failed" and record["reason"] == str(info.value)
    assert record["arch"] == "fast" and record["epochs"] == 0


def test_bad_config_is_refused_before_any_run():
    with pytest.raises(TrainingError, match="learning rate must be a positive finite number"):
        TrainingSession(fast(learning_rate=-1.0))
    assert history.load_history() == []


@pytest.mark.slow
def test_record_false_and_an_unwritable_history_keep_the_result(small, tmp_path, monkeypatch):
    session = TrainingSession(fast(), dataset=small, record=False)
    assert session.run().status is RunStatus.COMPLETED
    assert history.load_history() == [] and len(session.records) == 1
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DIGITPAD_HOME", str(blocker / "home"))  # cannot be created
    rec = Recorder()
    session = TrainingSession(fast(), dataset=small, on_progress=rec)
    result = session.run()
    assert result.status is RunStatus.COMPLETED and result.model is not None
    assert session.record_error and "run history was not updated" in session.record_error
    assert rec.events[-1].kind == "message" and rec.events[-1].message == session.record_error


@pytest.mark.slow
def test_kfold_is_recorded_with_folds_mean_std_and_curves(small):
    rec = Recorder()
    config = fast(val_split=0.0)
    res = run_kfold(config, k=2, dataset=small, on_progress=rec)
    assert res.status is RunStatus.COMPLETED and len(res.accuracies) == 2
    assert all(e.fold in (1, 2) and e.folds == 2 for e in rec.events)
    (record,) = history.load_history()
    assert record["kind"] == "kfold" and record["status"] == "completed" and record["k"] == 2
    assert record["accuracies"] == pytest.approx(res.accuracies)
    assert record["mean"] == pytest.approx(res.mean) and record["std"] == pytest.approx(res.std)
    assert len(record["histories"]) == 2 and record["histories"][0]["loss"]
    assert record["arch"] == "fast" and record["epochs"] == 1


@pytest.mark.slow
def test_stopped_and_failed_kfold_are_recorded(small, tmp_path):
    stop = threading.Event()

    def on_progress(p):
        if p.kind == "batch" and p.fold == 2 and p.batch == 2:
            stop.set()

    res = run_kfold(fast(val_split=0.0), k=3, dataset=small, on_progress=on_progress,
                    stop_event=stop)
    assert res.status is RunStatus.STOPPED and len(res.accuracies) == 1
    with pytest.raises(DataError):
        run_kfold(fast(data=str(tmp_path / "missing")), k=3)
    runs = history.load_history()
    assert [r["status"] for r in runs] == ["stopped", "failed"]
    assert runs[0]["reason"] == "stopped by user after 1 of 3 folds"
    assert len(runs[0]["accuracies"]) == 1 and "missing" in runs[1]["reason"]
