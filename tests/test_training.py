"""The training engine, with real Keras training on small real MNIST subsets."""

from __future__ import annotations

import json
import math
import re
import threading

import numpy as np
import pytest

from digitpad.core.data import Dataset
from digitpad.core.errors import DataError, DeviceError, TrainingError
from digitpad.core.training import (
    Progress,
    RunStatus,
    TrainConfig,
    Trainer,
    evaluate,
    kfold,
    lr_at,
)
from digitpad.core.training.pipeline import augment_batch


@pytest.fixture(scope="module")
def tiny(mnist_small):
    """600 train / 300 test images: enough to learn something in a second or two."""
    return mnist_small.subset(n_train=600, n_test=300, seed=1)


class Recorder:
    def __init__(self):
        self.events: list[Progress] = []

    def __call__(self, p: Progress) -> None:
        self.events.append(p)

    def kinds(self, kind):
        return [e for e in self.events if e.kind == kind]


# ------------------------------------------------------------------------------------ config


@pytest.mark.parametrize(
    "changes,match",
    [
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"epochs": -3}, "epochs must be at least 1"),
        ({"epochs": 2.5}, "epochs must be a whole number"),
        ({"batch_size": 0}, "batch size must be at least 1"),
        ({"learning_rate": 0.0}, "learning rate must be a positive finite number"),
        ({"learning_rate": float("nan")}, "learning rate must be a positive finite number"),
        ({"learning_rate": float("inf")}, "learning rate must be a positive finite number"),
        ({"learning_rate": "fast"}, "learning rate 'fast' is not a number"),
        ({"val_split": 0.7}, "validation split must be between 0 and 0.5"),
        ({"optimizer": "lbfgs"}, "unknown optimizer 'lbfgs'"),
        ({"schedule": "zigzag"}, "unknown schedule 'zigzag'"),
    ],
)
def test_bad_config_is_a_one_sentence_training_error(changes, match):
    with pytest.raises(TrainingError, match=match) as info:
        TrainConfig(**changes).resolved()
    assert str(info.value).count(". ") == 0 and str(info.value).endswith(".")


def test_resolved_fills_arch_defaults_and_keeps_overrides():
    cfg = TrainConfig(arch="mnist_cnn", epochs=3).resolved()
    assert (cfg.epochs, cfg.batch_size, cfg.optimizer, cfg.learning_rate) == (3, 128, "adadelta", 1.0)
    assert cfg.schedule == "constant" and cfg.augment is False and cfg.label_smoothing == 0.0
    assert json.loads(json.dumps(cfg.to_dict()))["arch"] == "mnist_cnn"


def test_zero_epochs_refused_by_trainer_and_continue(tiny):
    with pytest.raises(TrainingError, match="epochs must be at least 1"):
        Trainer(TrainConfig(epochs=0), dataset=tiny)
    trainer = Trainer(TrainConfig(epochs=1), dataset=tiny)
    with pytest.raises(TrainingError, match="epochs must be at least 1"):
        trainer.continue_training(0)


# ------------------------------------------------------------------------------------ schedules


def test_learning_rate_schedules():
    total = 100
    one = [lr_at("onecycle", 1.0, s, total) for s in range(total)]
    assert one[0] == pytest.approx(0.1)
    assert max(one) == pytest.approx(1.0, abs=0.01) and int(np.argmax(one)) == pytest.approx(20, abs=1)
    assert one[-1] < 0.01
    assert all(a >= b for a, b in zip(one[21:], one[22:], strict=False))  # decreasing after peak
    cos = [lr_at("cosine", 2.0, s, total) for s in range(total)]
    assert cos[0] == 2.0 and cos[50] == pytest.approx(1.0) and cos[-1] < 0.01
    assert lr_at("step", 1.0, 10, total) == 1.0
    assert lr_at("step", 1.0, 60, total) == pytest.approx(0.1)
    assert lr_at("step", 1.0, 80, total) == pytest.approx(0.01)
    assert lr_at("constant", 0.3, 99, total) == 0.3
    assert lr_at("onecycle", 1.0, 0, total, warmup=False) == 1.0  # continuation skips warm-up


def test_augmentation_moves_pixels_but_keeps_the_digit(mnist_small):
    from digitpad.core.data import to_model_input
    from digitpad.core.tfsetup import tf

    x = to_model_input(mnist_small.x_train[:64])
    out = np.asarray(augment_batch(tf().constant(x), tf()))
    assert out.shape == x.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 + 1e-6
    changed = np.abs(out - x).reshape(64, -1).max(axis=1)
    assert (changed > 0.1).mean() > 0.9  # nearly every image moved
    ratio = out.reshape(64, -1).sum(1) / x.reshape(64, -1).sum(1)
    assert np.all((ratio > 0.6) & (ratio < 1.5))  # zoom within +-10 %: ink mostly kept


# ------------------------------------------------------------------------------------ training


@pytest.mark.slow
def test_fast_learns_in_one_epoch_with_progress(mnist_small):
    rec = Recorder()
    trainer = Trainer(TrainConfig(arch="fast", epochs=1), dataset=mnist_small, on_progress=rec)
    result = trainer.run()
    assert result.reason == "completed" and not result.stopped
    assert result.epochs_done == 1 and result.best_epoch == 1
    # 3000 training images, 1 epoch: measured 0.91-0.92 on the 1000 test images (seeds 0-2);
    # broken training gives ~0.1
    assert result.test_accuracy > 0.88, result.test_accuracy
    assert 0 < result.test_loss < 1.0
    assert result.device == "CPU"
    assert set(result.history) >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert result.history["val_accuracy"][0] > 0.8
    # progress: start, one batch per batch, one epoch, end
    assert rec.events[0].kind == "start" and rec.events[-1].kind == "end"
    batches = rec.kinds("batch")
    n_batches = math.ceil(2700 / result.config.batch_size)  # the arch's batch size (96)
    assert len(batches) == n_batches and batches[-1].batches == n_batches
    steps = [b.step for b in batches]
    assert steps == list(range(1, n_batches + 1))
    assert all(b.epoch == 1 and b.epochs == 1 for b in batches)
    assert all(math.isfinite(b.logs["loss"]) and 0 <= b.logs["accuracy"] <= 1 for b in batches)
    etas = [b.eta_s for b in batches[2:]]
    assert all(e is not None and e >= 0 for e in etas) and etas[-1] == 0
    assert all(b.samples_per_s > 0 for b in batches)
    elapsed = [e.elapsed for e in rec.events]
    assert elapsed == sorted(elapsed)
    (epoch,) = rec.kinds("epoch")
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epoch.logs)
    assert rec.events[-1].logs["test_accuracy"] == result.test_accuracy
    meta = json.loads(json.dumps(result.metadata()))
    assert meta["arch"] == "fast" and meta["test_accuracy"] == result.test_accuracy
    assert meta["best_epoch"] == 1 and meta["device"] == "CPU" and meta["data"]
    assert meta["versions"]["keras"].startswith("3.") and "T" in meta["date"]
    assert meta["config"]["epochs"] == 1 and meta["history"]["loss"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "optimizer,schedule",
    [("sgd", "step"), ("adam", "cosine"), ("adadelta", "constant"), ("rmsprop", "onecycle"),
     ("adamw", "cosine"), ("nadam", "step")],
)
def test_every_optimizer_and_schedule_trains(tiny, optimizer, schedule):
    lrs = []
    cfg = TrainConfig(arch="fast", epochs=2, batch_size=32, optimizer=optimizer, schedule=schedule,
                      learning_rate={"adadelta": 1.0, "sgd": 0.2}.get(optimizer, 0.003), val_split=0.0)
    result = Trainer(cfg, dataset=tiny, on_progress=lambda p: p.kind == "batch" and lrs.append(p.logs["lr"])).run()
    assert result.reason == "completed" and result.epochs_done == 2
    assert type(result.model.optimizer).__name__.lower() == optimizer
    assert result.test_accuracy > 0.3  # well above chance after 38 small batches
    if schedule == "constant":
        assert len(set(lrs)) == 1
    else:
        assert lrs[-1] < lrs[0] or schedule == "onecycle" and lrs[-1] < max(lrs)


@pytest.mark.slow
def test_augmented_training_runs(tiny):
    result = Trainer(TrainConfig(arch="fast", epochs=2, batch_size=32, augment=True, val_split=0.0),
                     dataset=tiny).run()
    assert result.reason == "completed" and result.config.augment is True
    assert result.test_accuracy > 0.3


@pytest.mark.slow
def test_batch_interval_thins_batch_reports(tiny):
    rec = Recorder()
    Trainer(TrainConfig(arch="fast", epochs=1, batch_size=32, val_split=0.0), dataset=tiny,
            on_progress=rec, batch_interval=5).run()
    got = [b.batch for b in rec.kinds("batch")]
    assert got == [5, 10, 15, 19]  # 600 / 32 -> 19 batches; the last one is always reported


@pytest.mark.slow
def test_stop_from_another_thread_in_the_first_batch(mnist_small):
    rec = Recorder()
    started = threading.Event()
    captured = {}

    def on_progress(p):
        rec(p)
        if p.kind == "start":
            captured["initial"] = [w.copy() for w in trainer.model.get_weights()]
            started.set()

    trainer = Trainer(TrainConfig(arch="baseline", epochs=3, batch_size=32), dataset=mnist_small,
                      on_progress=on_progress)
    stopper = threading.Thread(target=lambda: (started.wait(60), trainer.request_stop()))
    stopper.start()
    result = trainer.run()
    stopper.join()
    assert result.stopped and result.status is RunStatus.STOPPED
    assert result.epochs_done == 0 and result.history == {}
    assert trainer.step <= 2  # within a batch or two of the request (85 batches per epoch)
    assert result.batches_done == trainer.step and result.batches == 85
    assert result.reason == (f"stopped by user in epoch 1 after {trainer.step} of 85 batches "
                             "(0 full epochs done); the weights trained so far are kept")
    assert not rec.kinds("epoch")  # no validation was run after the stop
    after = result.model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(after, captured["initial"], strict=True))
    assert all(np.isfinite(w).all() for w in after)
    assert not trainer.stop_requested  # the run consumed the request
    # a stop asked between runs (twice: harmless) stops the next run before its first batch
    trainer.request_stop()
    trainer.request_stop()
    step = trainer.step
    idle = trainer.continue_training(1)
    assert idle.status is RunStatus.STOPPED and trainer.step == step and idle.epochs_done == 0
    assert idle.reason.startswith("stopped by user before epoch 1 began (0 full epochs done)")
    more = trainer.continue_training(1)
    assert more.status is RunStatus.COMPLETED and more.reason == "completed"
    assert more.epochs_done == 1 and more.epoch_float == pytest.approx((step + 85) / 85)


@pytest.mark.slow
def test_stop_mid_epoch_keeps_the_weights_trained_so_far(tiny):
    rec = Recorder()
    at_stop = {}

    def on_progress(p):
        rec(p)
        if p.kind == "batch" and p.epoch == 2 and p.batch == 5:
            at_stop["weights"] = [w.copy() for w in trainer.model.get_weights()]
            trainer.request_stop()

    trainer = Trainer(TrainConfig(arch="fast", epochs=3, batch_size=32, val_split=0.2), dataset=tiny,
                      on_progress=on_progress)
    result = trainer.run()
    assert result.status is RunStatus.STOPPED and result.epochs_done == 1 and result.best_epoch == 1
    assert result.reason == ("stopped by user in epoch 2 after 5 of 15 batches (1 full epoch done); "
                             "the weights trained so far are kept")
    assert result.batches_done == 5 and result.step == 20 and result.restored_epoch is None
    assert result.epoch_float == pytest.approx(20 / 15)
    assert not any("restored" in e.message for e in rec.kinds("message"))
    # the model in hand is the model as it was when the stop was asked: 5 batches into epoch 2
    assert all(np.array_equal(a, b) for a, b in
               zip(result.model.get_weights(), at_stop["weights"], strict=True))
    assert rec.kinds("batch")[-1].batch == 5 and rec.events[-1].message == result.reason


@pytest.mark.slow
def test_completed_run_restores_the_best_validation_epoch(tiny):
    rec = Recorder()

    def on_progress(p):
        rec(p)
        if p.kind == "batch" and p.epoch == 2 and p.batch == p.batches:
            # ruin the classifier at the end of epoch 2: uniform outputs validate far worse
            probs = trainer.model.get_layer("probs")
            probs.set_weights([np.zeros_like(w) for w in probs.get_weights()])

    trainer = Trainer(TrainConfig(arch="fast", epochs=2, batch_size=32, val_split=0.2), dataset=tiny,
                      on_progress=on_progress)
    result = trainer.run()
    accs = result.history["val_accuracy"]
    assert result.status is RunStatus.COMPLETED and result.reason == "completed"
    assert accs[1] < accs[0] and result.best_epoch == 1 and result.restored_epoch == 1
    assert any(e.message.startswith("restored the weights of epoch 1 (best validation accuracy")
               for e in rec.kinds("message"))
    # the model in hand is exactly the epoch-1 model: same validation accuracy as recorded then
    val = evaluate(result.model, trainer.x_val, trainer.y_val)
    assert val.accuracy == pytest.approx(accs[0], abs=1e-6)


@pytest.mark.slow
def test_best_epoch_is_the_best_validation_epoch(tiny):
    result = Trainer(TrainConfig(arch="fast", epochs=3, batch_size=32, val_split=0.2),
                     dataset=tiny).run()
    accs = result.history["val_accuracy"]
    assert len(accs) == 3 and result.best_epoch == int(np.argmax(accs)) + 1


@pytest.mark.slow
def test_absurd_learning_rate_stops_with_a_nan_reason(tiny):
    rec = Recorder()
    trainer = Trainer(TrainConfig(arch="baseline", epochs=2, learning_rate=1e6, val_split=0.0),
                      dataset=tiny, on_progress=rec)
    result = trainer.run()
    assert result.status is RunStatus.DIVERGED and result.epochs_done == 0
    assert re.fullmatch(
        r"loss (became (NaN|infinite)|diverged to \S+) at epoch 1, batch \d+( \(.*\))?", result.reason
    ), result.reason
    assert rec.events[-1].kind == "end" and rec.events[-1].message == result.reason
    # weights fall back to the last finite ones, so the model still predicts something finite
    assert all(np.isfinite(w).all() for w in result.model.get_weights())


def test_nan_in_the_input_data_is_a_data_error(tiny):
    x = tiny.x_train.astype(np.float32) / 255.0
    x[3, 10, 10] = np.nan
    bad = Dataset(x, tiny.y_train, None, None, "scenario with a NaN pixel")
    with pytest.raises(DataError, match="NaN"):
        Trainer(TrainConfig(arch="fast", epochs=1, val_split=0.0), dataset=bad).run()


@pytest.mark.slow
def test_nan_inside_the_model_stops_at_the_first_batch(tiny):
    from digitpad.core.archs import build_model

    model = build_model("fast")
    bias = model.get_layer("probs").bias
    poisoned = np.array(bias)
    poisoned[0] = np.nan  # a NaN logit: every forward pass now produces a NaN loss
    bias.assign(poisoned)
    rec = Recorder()
    result = Trainer(TrainConfig(arch="fast", epochs=2, val_split=0.0), dataset=tiny, model=model,
                     on_progress=rec).run()
    assert result.reason == "loss became NaN at epoch 1, batch 1"
    assert result.epochs_done == 0 and result.status is RunStatus.DIVERGED
    assert len(rec.kinds("batch")) == 1 and not rec.kinds("epoch")
    meta = result.metadata()  # strict JSON even though the test loss of this model is NaN
    assert json.loads(json.dumps(meta, allow_nan=False))["reason"] == result.reason


@pytest.mark.slow
def test_batch_larger_than_the_data_is_clamped(tiny):
    rec = Recorder()
    result = Trainer(TrainConfig(arch="fast", epochs=2, batch_size=100_000, val_split=0.0),
                     dataset=tiny, on_progress=rec).run()
    assert result.reason == "completed" and result.epochs_done == 2
    assert any("larger than the 600 training images; using 600" in m.message
               for m in rec.kinds("message"))
    assert [b.batches for b in rec.kinds("batch")] == [1, 1]


@pytest.mark.slow
def test_continue_training_keeps_the_optimizer_state(tiny):
    trainer = Trainer(TrainConfig(arch="fast", epochs=1, batch_size=64, val_split=0.1), dataset=tiny)
    first = trainer.run()
    optimizer = first.model.optimizer
    iterations = int(optimizer.iterations.numpy())
    assert iterations == 9  # 540 / 64
    moments = [np.array(v) for v in optimizer.variables if "momentum" in v.path]
    assert moments and any(np.abs(m).sum() > 0 for m in moments)
    second = trainer.continue_training(2)
    assert second.model is first.model and second.model.optimizer is optimizer
    assert int(optimizer.iterations.numpy()) == iterations + 18  # counter kept growing
    assert second.epochs_done == 3 and len(second.history["loss"]) == 3
    assert second.reason == "completed"


@pytest.mark.slow
def test_given_uncompiled_model_gets_a_fresh_optimizer(tiny):
    from digitpad.core.archs import build_model

    rec = Recorder()
    model = build_model("fast")
    result = Trainer(TrainConfig(arch="fast", epochs=1, val_split=0.0), dataset=tiny, model=model,
                     on_progress=rec).run()
    assert result.model is model and result.reason == "completed"
    assert any("continuing with a fresh optimizer" in m.message for m in rec.kinds("message"))


@pytest.mark.slow
def test_given_compiled_model_keeps_its_optimizer(tiny):
    first = Trainer(TrainConfig(arch="fast", epochs=1, val_split=0.0), dataset=tiny).run()
    optimizer = first.model.optimizer
    before = int(optimizer.iterations.numpy())
    rec = Recorder()
    again = Trainer(TrainConfig(arch="fast", epochs=1, val_split=0.0), dataset=tiny,
                    model=first.model, on_progress=rec).run()
    assert again.model.optimizer is optimizer
    assert int(optimizer.iterations.numpy()) == before + first.batches  # 600 / 96 -> 7
    assert any("own Adam optimizer" in m.message for m in rec.kinds("message"))


@pytest.mark.slow
def test_second_start_while_running_is_refused(tiny):
    errors = []
    trainer = None

    def on_progress(p):
        if p.kind == "batch" and p.batch == 1 and not errors:
            try:
                trainer.run()
            except TrainingError as exc:
                errors.append(str(exc))

    trainer = Trainer(TrainConfig(arch="fast", epochs=1, val_split=0.0), dataset=tiny,
                      on_progress=on_progress)
    trainer.run()
    assert errors == ["training is already running; stop it before starting again."]


def test_gpu_without_a_gpu_says_so(tiny):
    from digitpad.core.tfsetup import list_gpus

    if list_gpus():
        pytest.skip("this machine has a GPU")
    with pytest.raises(DeviceError, match="no GPU"):
        Trainer(TrainConfig(arch="fast", device="gpu"), dataset=tiny).run()


# ------------------------------------------------------------------------------------ evaluate


@pytest.mark.slow
def test_evaluate_is_consistent(mnist_small):
    result = Trainer(TrainConfig(arch="fast", epochs=1, val_split=0.0), dataset=mnist_small).run()
    ev = evaluate(result.model, mnist_small.x_test, mnist_small.y_test)
    assert ev.n == 1000 and ev.confusion.shape == (10, 10) and ev.confusion.sum() == 1000
    assert ev.accuracy == pytest.approx(np.trace(ev.confusion) / 1000)
    assert ev.accuracy == pytest.approx(result.test_accuracy)
    counts = np.bincount(mnist_small.y_test, minlength=10)
    assert np.array_equal(ev.confusion.sum(axis=1), counts)
    assert np.allclose(ev.per_class, np.diag(ev.confusion) / counts)
    # float input in [0, 1] gives the same answer as uint8
    ev2 = evaluate(result.model, mnist_small.x_test.astype(np.float32) / 255, mnist_small.y_test)
    assert ev2.accuracy == ev.accuracy
    with pytest.raises(DataError, match="1000 images but 999 labels"):
        evaluate(result.model, mnist_small.x_test, mnist_small.y_test[:-1])


# ------------------------------------------------------------------------------------ k-fold


@pytest.mark.slow
def test_kfold_returns_one_accuracy_per_fold(tiny):
    rec = Recorder()
    res = kfold(TrainConfig(arch="fast", epochs=2, batch_size=32, val_split=0.0), k=3, dataset=tiny,
                on_progress=rec)
    assert len(res.accuracies) == 3 and len(res.histories) == 3 and res.status is RunStatus.COMPLETED
    assert all(0.6 < a <= 1.0 for a in res.accuracies), res.accuracies
    assert res.mean == pytest.approx(np.mean(res.accuracies))
    assert res.std == pytest.approx(np.std(res.accuracies))
    folds = [m.message for m in rec.kinds("message") if m.message.startswith("fold ")]
    assert "fold 1/3: training on 400, testing on 200" in folds
    # every event says which fold it belongs to
    assert all(e.folds == 3 and e.fold in (1, 2, 3) for e in rec.events)
    assert [e.fold for e in rec.kinds("start")] == [1, 2, 3]
    assert rec.kinds("batch")[0].where() == "fold 1/3 · epoch 1/2 · batch 1/13"
    assert all(e.message.startswith("fold ") for e in rec.events if e.message)


@pytest.mark.slow
def test_kfold_respects_the_stop_event(tiny):
    stop = threading.Event()

    def on_progress(p):
        if p.kind == "batch" and p.step == 2:
            stop.set()

    res = kfold(TrainConfig(arch="fast", epochs=1, val_split=0.0), k=3, dataset=tiny,
                on_progress=on_progress, stop_event=stop)
    assert res.stopped and res.status is RunStatus.STOPPED and res.accuracies == []
    assert math.isnan(res.mean) and res.reason == "stopped by user after 0 of 3 folds"
    assert stop.is_set()  # the caller's event is left as the caller set it


def test_kfold_bad_k(tiny):
    with pytest.raises(TrainingError, match="k must be at least 2"):
        kfold(TrainConfig(arch="fast"), k=1, dataset=tiny)


# ------------------------------------------------------------------------------------ model files


@pytest.mark.slow
def test_continue_a_saved_keras_model_with_its_optimizer_and_an_h5_with_a_fresh_one(tiny, tmp_path):
    from digitpad.core.modelfile import load_model, save_model

    first = Trainer(TrainConfig(arch="fast", epochs=1, val_split=0.0), dataset=tiny).run()
    n = first.batches  # ceil(600 / the arch's batch size)
    assert n == 7 and int(first.model.optimizer.iterations.numpy()) == n
    save_model(first.model, tmp_path / "m.keras", metadata=first.metadata())
    save_model(first.model, tmp_path / "m.h5", metadata=first.metadata())

    rec = Recorder()
    loaded = load_model(tmp_path / "m.keras")
    again = Trainer(TrainConfig(arch="fast", epochs=1, val_split=0.0), dataset=tiny,
                    model=loaded.model, on_progress=rec).run()
    assert again.reason == "completed"
    assert int(again.model.optimizer.iterations.numpy()) == 2 * n  # saved state carried on
    assert any("saved state" in m.message for m in rec.kinds("message"))

    rec = Recorder()
    loaded = load_model(tmp_path / "m.h5")
    trainer = Trainer(TrainConfig(arch="fast", epochs=1, val_split=0.0), dataset=tiny,
                      model=loaded.model, on_progress=rec)
    h5 = trainer.run()
    assert h5.reason == "completed" and int(h5.model.optimizer.iterations.numpy()) == n
    assert any("continuing with a fresh optimizer" in m.message for m in rec.kinds("message"))
    assert trainer.continue_training(1).reason == "completed"
    assert int(h5.model.optimizer.iterations.numpy()) == 2 * n


@pytest.mark.slow
def test_validation_scores_and_predictions_match_keras(tiny):
    """The trainer's numpy validation loss/accuracy equal Keras's evaluate of the same model."""
    from digitpad.core.data import to_model_input
    from digitpad.core.tfsetup import keras
    from digitpad.core.training.evaluate import predict_probabilities, scores

    result = Trainer(TrainConfig(arch="fast", epochs=1, batch_size=32, val_split=0.0),
                     dataset=tiny).run()
    model = result.model
    x, y = to_model_input(tiny.x_test[:257]), np.asarray(tiny.y_test[:257]).astype(np.int64)
    probs = predict_probabilities(model, x, batch_size=100)  # 3 batches, the last one partial
    assert probs.shape == (257, 10)
    assert np.allclose(probs, model.predict(x, verbose=0), atol=1e-5)
    assert np.allclose(predict_probabilities(model, x[:7]), probs[:7], atol=1e-6)
    k = keras()
    for smoothing in (0.0, 0.1):
        model.compile(loss=k.losses.CategoricalCrossentropy(label_smoothing=smoothing),
                      metrics=["accuracy"])
        ref = model.evaluate(x, np.eye(10)[y], verbose=0, return_dict=True)
        loss, acc = scores(probs, y, smoothing)
        assert loss == pytest.approx(ref["loss"], rel=1e-4)
        assert acc == pytest.approx(ref["accuracy"], abs=1e-6)


@pytest.mark.slow
def test_a_run_with_validation_calibrates_on_its_last_validation(tiny, monkeypatch):
    """Calibration reuses the validation probabilities of the weights kept (no second predict)."""
    from digitpad.core.training import trainer as trainer_module

    calls = []
    real = trainer_module.fit_on_validation

    def spy(*args, probs=None, **kwargs):
        calls.append(probs)
        return real(*args, probs=probs, **kwargs)

    monkeypatch.setattr(trainer_module, "fit_on_validation", spy)
    result = Trainer(TrainConfig(arch="fast", epochs=2, batch_size=32, val_split=0.2),
                     dataset=tiny).run()
    assert len(calls) == 1 and calls[0] is not None and calls[0].shape == (120, 10)
    assert result.calibration is not None and result.calibration["n"] == 120
    from digitpad.core.data import to_model_input
    from digitpad.core.training.pipeline import split_data

    _, _, _, y_val = split_data(to_model_input(tiny.x_train), np.asarray(tiny.y_train), 0.2, 0)
    # the probabilities are those of the best validation epoch, whose weights the run kept
    assert result.history["val_accuracy"][result.best_epoch - 1] == pytest.approx(
        float(np.mean(calls[0].argmax(1) == y_val)), abs=1e-9)
