"""CurrentModel: the one owner of the model in use (real Keras models, real files, real workers)."""

from __future__ import annotations

import pytest
from model_corpus import tiny_model

from digitpad.gui.current_model import CurrentModel
from digitpad.gui.tasks import TaskRunner

pytestmark = pytest.mark.slow


@pytest.fixture
def current(qtbot):
    runner = TaskRunner()
    made = CurrentModel(runner)
    yield made
    assert runner.wait_all(60_000)
    qtbot.waitUntil(lambda: not made.busy, timeout=10_000)


def test_use_save_twice_then_load(qtbot, current, tmp_path):
    model = tiny_model()
    busy: list[bool] = []
    saved: list[str] = []
    current.busy_changed.connect(busy.append)
    current.saved.connect(saved.append)
    with qtbot.waitSignal(current.changed, timeout=60_000):
        current.use(model, "tiny", {"test_accuracy": 0.5}, key="run-1")
    assert current.name == "tiny" and current.predictor is not None
    assert current.path is None and not current.is_saved
    assert busy == [True, False]

    for name in ("a.keras", "b.keras"):  # a model saved twice stays saved, at its last path
        target = tmp_path / name
        with qtbot.waitSignals([current.saved, current.changed], timeout=60_000):
            current.save(str(target))
        assert saved[-1] == str(target)
        assert target.is_file()
        assert current.path == str(target) and current.is_saved
    assert current.metadata == {"test_accuracy": 0.5}

    current.mark_unsaved("other-run")
    assert current.is_saved
    with qtbot.waitSignal(current.changed, timeout=5_000):
        current.mark_unsaved("run-1")
    assert not current.is_saved

    with qtbot.waitSignal(current.changed, timeout=60_000):
        current.load_file(str(tmp_path / "a.keras"))
    assert current.path == str(tmp_path / "a.keras") and current.is_saved
    assert current.metadata.get("test_accuracy") == 0.5


def test_save_of_another_copy_with_the_same_key_marks_the_entry_saved(qtbot, current, tmp_path):
    """The Train tab hands Recognize a copy; saving its own model of that run updates the entry."""
    with qtbot.waitSignal(current.changed, timeout=60_000):
        current.use(tiny_model(), "copy", {}, key=("run", 7))
    unrelated = tmp_path / "unrelated.keras"
    with qtbot.waitSignal(current.saved, timeout=60_000):
        current.save(str(unrelated), tiny_model(), {}, key=("run", 8))
    assert unrelated.is_file() and current.path is None and not current.is_saved
    target = tmp_path / "run7.keras"
    with qtbot.waitSignals([current.saved, current.changed], timeout=60_000):
        current.save(str(target), tiny_model(), {"arch": "tiny"}, key=("run", 7))
    assert current.name == "copy" and current.path == str(target) and current.is_saved


def test_failures_keep_the_previous_entry(qtbot, current, tmp_path):
    with qtbot.waitSignal(current.changed, timeout=60_000):
        current.use(tiny_model(), "kept", {})
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a model")
    with qtbot.waitSignal(current.failed, timeout=60_000) as blocker:
        current.load_file(str(bad))
    title, reason = blocker.args
    assert title == "Cannot open model" and reason.strip() and "\n" not in reason
    assert current.name == "kept"
    with qtbot.waitSignal(current.failed, timeout=60_000) as blocker:
        current.save(str(tmp_path / "no-such-dir" / "x.keras"))
    assert blocker.args[0] == "Save failed" and "\n" not in blocker.args[1]
    assert current.name == "kept" and not current.is_saved


def test_newer_request_supersedes_an_older_one(qtbot, current, tmp_path):
    changes: list[str] = []
    current.changed.connect(lambda: changes.append(current.name))
    current.use(tiny_model(), "first", {})
    with qtbot.waitSignal(current.busy_changed, timeout=60_000, check_params_cb=lambda b: not b):
        current.use(tiny_model(), "second", {})
    assert current.name == "second"
    assert changes == ["second"]  # the first result arrived after the second request: dropped


def test_the_stored_temperature_is_applied_in_memory_and_from_the_file(qtbot, current, tmp_path):
    """The window shows calibrated confidence like ``digitpad predict`` (one predictor factory)."""
    import numpy as np

    from digitpad.core.calibration import apply_temperature

    model = tiny_model()
    metadata = {"calibration": {"method": "temperature scaling", "temperature": 0.5}}
    with qtbot.waitSignal(current.changed, timeout=60_000):
        current.use(model, "tiny", metadata, key="run-t")
    assert current.predictor.temperature == pytest.approx(0.5)
    x = np.zeros((28, 28), np.float32)
    x[6:22, 12:16] = 1.0
    own = np.asarray(model(x.reshape(1, 28, 28, 1), training=False))[0]
    assert np.allclose(current.predictor.predict_one(x), apply_temperature(own, 0.5), atol=1e-4)

    target = tmp_path / "calibrated.keras"
    with qtbot.waitSignal(current.saved, timeout=60_000):
        current.save(str(target))
    with qtbot.waitSignal(current.changed, timeout=60_000):
        current.load_file(str(target))
    assert current.predictor.temperature == pytest.approx(0.5)

    with qtbot.waitSignal(current.changed, timeout=60_000):
        current.use(model, "plain", {}, key="run-u")
    assert current.predictor.temperature is None
