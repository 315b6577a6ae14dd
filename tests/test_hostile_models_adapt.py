"""Models that load but were read wrongly (issue 13, points 5 and 6): raw-pixel inputs and outputs
that are not plain softmax. digitpad must feed what the model expects, read its output by what it
is, and say which in ``adaptations``. (Trained versions: ``test_hostile_models_slow.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest
from model_corpus import keras, keras_file, tiny_model

from digitpad.core.modelfile import describe, load_model, save_model


@pytest.fixture(scope="module")
def images():
    """Digit-like inputs in digitpad's convention: multiples of 1/255 in [0, 1]."""
    rng = np.random.default_rng(7)
    return (rng.integers(0, 256, (8, 28, 28, 1)) / 255.0).astype("float32")


def raw_pixel_model(dtype: str, rescale: bool):
    k = keras()
    inp = k.Input((28, 28, 1), dtype=dtype)
    x = k.layers.Rescaling(1 / 255 if rescale else 1.0)(inp)   # also the cast to float
    x = k.layers.Conv2D(4, 3, strides=2, activation="relu")(x)
    out = k.layers.Dense(10, activation="softmax")(k.layers.Flatten()(x))
    return k.Model(inp, out)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_uint8_input_with_rescaling_gets_raw_pixels(tmp_path, images, suffix):
    model = raw_pixel_model("uint8", rescale=True)
    loaded = load_model(keras_file(tmp_path, f"u8{suffix}", model))
    assert loaded.adaptations == [
        "input scaled from [0, 1] to 0-255 and given as uint8 (the model takes uint8 pixels)"]
    pixels = np.round(images * 255).astype("uint8")
    np.testing.assert_allclose(loaded.model.predict(images, verbose=0),
                               model.predict(pixels, verbose=0), atol=1e-6)
    info = describe(tmp_path / f"u8{suffix}")
    assert info["input"]["file"] == "(None, 28, 28, 1) uint8"
    assert info["adaptations"] == loaded.adaptations


def test_float_input_with_own_rescaling_gets_0_to_255(tmp_path, images):
    model = raw_pixel_model("float32", rescale=True)
    loaded = load_model(keras_file(tmp_path, "f255.keras", model))
    assert loaded.adaptations == ["input scaled from [0, 1] to 0-255 (the model rescales by "
                                  "0.003922 itself)"]
    np.testing.assert_allclose(loaded.model.predict(images, verbose=0),
                               model.predict(images * 255, verbose=0), atol=1e-5)
    info = describe(keras_file(tmp_path, "f255.keras", model))
    assert info["adaptations"] == loaded.adaptations


def test_integer_input_without_rescaling_gets_raw_pixels(tmp_path, images):
    model = raw_pixel_model("int32", rescale=False)
    loaded = load_model(keras_file(tmp_path, "i32.keras", model))
    assert loaded.adaptations[0].startswith("input scaled from [0, 1] to 0-255 and given as int32")
    np.testing.assert_allclose(loaded.model.predict(images, verbose=0),
                               model.predict(np.round(images * 255).astype("int32"), verbose=0),
                               atol=1e-5)


def test_plain_float_model_is_fed_as_is(tmp_path, images):
    loaded = load_model(keras_file(tmp_path, "plain.keras", raw_pixel_model("float32", False)))
    assert loaded.adaptations == []


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_sigmoid_outputs_are_normalised_by_their_sum(tmp_path, images, suffix):
    model = tiny_model(activation="sigmoid")
    loaded = load_model(keras_file(tmp_path, f"sig{suffix}", model))
    assert loaded.adaptations == ["independent sigmoid outputs normalised by their sum"]
    scores = model.predict(images, verbose=0)
    np.testing.assert_allclose(loaded.model.predict(images, verbose=0),
                               scores / scores.sum(axis=1, keepdims=True), rtol=1e-5)


def test_sigmoid_adapted_model_saves_and_loads_again(tmp_path, images):
    model = tiny_model(activation="sigmoid")
    loaded = load_model(keras_file(tmp_path, "sig.keras", model))
    again = load_model(save_model(loaded.model, tmp_path / "resaved.keras"))
    assert again.adaptations == []   # digitpad's own SumNormalization output is probabilities
    np.testing.assert_allclose(again.model.predict(images, verbose=0),
                               loaded.model.predict(images, verbose=0), atol=1e-6)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_low_precision_softmax_is_cast_not_softmaxed_again(tmp_path, images, dtype):
    k = keras()
    model = k.Sequential([k.Input((28, 28, 1)), k.layers.Flatten(),
                          k.layers.Dense(10, activation="softmax", dtype=dtype)])
    model.set_weights([w * 20 for w in model.get_weights()])   # confident, far from uniform
    loaded = load_model(keras_file(tmp_path, f"{dtype}.keras", model))
    assert loaded.adaptations == [f"output cast from {dtype} to float32"]
    probs = loaded.model.predict(images, verbose=0)
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs, model.predict(images, verbose=0).astype("float32"), atol=1e-6)


def test_logits_get_a_softmax(tmp_path, images):
    model = tiny_model(activation=None)
    loaded = load_model(keras_file(tmp_path, "logits.keras", model))
    assert loaded.adaptations == ["softmax added to logits output"]
    logits = model.predict(images, verbose=0)
    expected = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(loaded.model.predict(images, verbose=0),
                               expected / expected.sum(1, keepdims=True), rtol=1e-4)
