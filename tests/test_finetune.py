"""A real small fine-tune: a style the starting model misreads is learnt, MNIST holds."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.core.finetune import MNIST_DROP_BOUND, FinetuneConfig, Finetuner, split_held_out
from digitpad.core.personal import DrawingStore, PenStroke, load_drawings
from digitpad.core.strokes import draw_digit

STYLES = ("0_narrow", "1_flag_base", "2_loop", "3_flat_top", "4_closed", "5_one_stroke",
          "6_loop_first", "7_crossed", "8_two_loops", "9_straight")


def test_held_out_split_per_digit():
    y = np.repeat(np.arange(10), [1, 2, 10, 10, 10, 10, 10, 10, 10, 5])
    train, held = split_held_out(y, 0.2, seed=0)
    assert len(np.intersect1d(train, held)) == 0 and len(train) + len(held) == len(y)
    counts = np.bincount(y[held], minlength=10).tolist()
    assert counts == [0, 1, 2, 2, 2, 2, 2, 2, 2, 1]


def person_folder(root, per_digit: int, seed: int):
    rng = np.random.default_rng(seed)
    store = DrawingStore(root)
    for style in STYLES:
        for _ in range(per_digit):
            d = draw_digit(style, "clean", rng)
            store.save(d.label, d.canvas,
                       [PenStroke(d.pose.width, [(float(x), float(y), 1.0) for x, y in s])
                        for s in d.strokes])
    return root


@pytest.mark.slow
def test_finetune_learns_a_style_and_keeps_mnist(tmp_path, model_file):
    from digitpad.core.modelfile import load_model

    loaded = load_model(model_file)
    model = loaded.model
    base_metadata = {**loaded.metadata, "config": {"label_smoothing": 0.1},
                     "calibration": {"temperature": 0.6, "method": "temperature scaling",
                                     "fitted_on": "validation split (300 images)"}}
    drawings = load_drawings(person_folder(tmp_path / "me", 12, seed=5))
    before_weights = [w.copy() for w in model.get_weights()]
    config = FinetuneConfig(epochs=2, mnist_images=3000, hold_out=0.25, learning_rate=3e-4,
                            drawings_share=0.15,
                            device="cpu")
    result = Finetuner(model, drawings, config=config, record=False,
                       base_metadata=base_metadata).run()
    assert result.held_out == 30
    assert result.after.drawings_accuracy > result.before.drawings_accuracy
    assert result.before.drawings_accuracy < 1.0  # the starting model misreads this hand
    assert result.mnist_drop <= MNIST_DROP_BOUND
    assert result.base_model is model and all(  # the starting model is kept unchanged
        np.array_equal(a, b) for a, b in zip(before_weights, model.get_weights(), strict=True))
    assert result.metadata["finetune"]["held_out"] == 30
    assert result.metadata["config"]["label_smoothing"] == pytest.approx(0.1)  # the model's own
    carried = result.metadata["calibration"]
    assert carried["temperature"] == 0.6 and "carried over from the starting model" in carried["fitted_on"]
    from digitpad.core.modelfile.describe import describe_model

    shown = describe_model(result.model, name="tuned", metadata=result.metadata)["confidence"]
    assert shown == "calibrated (temperature 0.6, the starting model's, carried over by fine-tuning)"


def test_label_smoothing_and_temperature_come_from_the_starting_model(tmp_path):
    from digitpad.core.calibration import carried_calibration

    drawings = load_drawings(person_folder(tmp_path / "me", 1, seed=1))

    def smoothing(config=None, metadata=None):
        return Finetuner(object(), drawings, config=config, base_metadata=metadata).label_smoothing()

    assert smoothing(metadata={"config": {"label_smoothing": 0.1}}) == pytest.approx(0.1)
    assert smoothing(FinetuneConfig(label_smoothing=0.05), {"config": {"label_smoothing": 0.1}}) == 0.05
    assert smoothing() == 0.0  # a foreign model: nothing known, hard labels
    assert smoothing(metadata={"config": {"label_smoothing": "much"}}) == 0.0
    assert smoothing(metadata={"config": {"label_smoothing": 1.5}}) == 0.0
    assert carried_calibration({}) is None
    assert carried_calibration({"calibration": {"method": "temperature scaling"}}) is None
    carried = carried_calibration({"calibration": {"temperature": 0.5, "ece_after": 0.001, "n": 300}})
    assert carried["temperature"] == 0.5 and carried["carried_over"] is True
    assert "ece_after" not in carried and "n" not in carried  # the starting model's fit figures stay behind


def test_info_says_a_temperature_was_carried_over():
    from digitpad.core.calibration import confidence_text

    assert "fitted on validation data" in confidence_text(0.5)
    assert "carried over by fine-tuning" in confidence_text(0.5, carried=True)
    assert confidence_text(None, carried=True).startswith("not calibrated")


@pytest.mark.slow
def test_frozen_batchnorm_keeps_its_statistics_while_the_rest_learns():
    from digitpad.core.finetune import copy_model
    from digitpad.core.tfsetup import keras

    k = keras()
    k.utils.set_random_seed(0)
    inner = k.Sequential([k.layers.Input((28, 28, 1)), k.layers.Conv2D(4, 3),
                          k.layers.BatchNormalization(), k.layers.Flatten()])
    model = k.Sequential([k.layers.Input((28, 28, 1)), inner, k.layers.Dense(10, activation="softmax")])
    x = np.random.default_rng(0).random((64, 28, 28, 1)).astype("float32") * 3.0
    y = np.arange(64) % 10

    def tuned(freeze: bool):
        copy = copy_model(model, freeze_batchnorm=freeze)
        bn = copy.layers[0].layers[1]
        stats = [np.array(w) for w in bn.weights]
        copy.compile(optimizer=k.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
        copy.fit(x, y, epochs=2, batch_size=16, verbose=0)
        return bn, stats, copy

    bn, stats, copy = tuned(True)
    assert not bn.trainable and bn.moving_mean is not None
    assert all(np.array_equal(a, np.array(b)) for a, b in zip(stats, bn.weights, strict=True))
    assert not np.allclose(np.array(copy.layers[-1].kernel), np.array(model.layers[-1].kernel))
    bn, stats, _ = tuned(False)   # without freezing, the statistics move
    assert not all(np.array_equal(a, np.array(b)) for a, b in zip(stats, bn.weights, strict=True))
