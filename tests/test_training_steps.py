"""Several batches per call of the train function (large data): progress and stop stay exact."""

from __future__ import annotations

import pytest

from digitpad.core import training
from digitpad.core.training import TrainConfig, Trainer

pytestmark = pytest.mark.slow  # every test here trains with Keras


@pytest.fixture(scope="module")
def many_batches(mnist_small):
    # 3000 images in batches of 8: 338 batches per epoch (10 % held out), enough for 8 per call
    return TrainConfig(arch="fast", epochs=1, batch_size=8, learning_rate=1e-3, schedule="constant",
                       val_split=0.1, seed=0, device="cpu")


def test_steps_and_samples_are_counted_per_batch(mnist_small, many_batches):
    events = []
    trainer = Trainer(many_batches, dataset=mnist_small, on_progress=events.append)
    result = trainer.run()
    assert trainer.model.steps_per_execution == training.STEPS_PER_EXECUTION  # several per call
    batches = [e for e in events if e.kind == "batch"]
    assert batches[-1].batch == batches[-1].batches == trainer.batches == 338
    steps = [e.step for e in batches]
    assert steps == sorted(steps) and steps[-1] == 338
    assert all(b - a <= training.STEPS_PER_EXECUTION for a, b in zip(steps, steps[1:], strict=False))
    assert result.reason == "completed" and result.epochs_done == 1
    assert result.samples_per_s > 0
    assert result.test_accuracy > 0.8


def test_stop_within_one_call(mnist_small, many_batches):
    trainer = Trainer(many_batches, dataset=mnist_small)
    seen = []

    def on_progress(p):
        if p.kind == "batch":
            seen.append(p.batch)
            if len(seen) == 3:
                trainer.request_stop()

    trainer.on_progress = on_progress
    result = trainer.run()
    assert result.stopped and result.reason.startswith("stopped by user in epoch 1 after ")
    # asked during the 3rd call's progress report: that call is the last
    assert seen[-1] == result.batches_done == 3 * training.STEPS_PER_EXECUTION < trainer.batches
