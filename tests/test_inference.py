"""Tests of the fast inference path: LiteRT and tf.function against Keras, fallbacks, recognize()."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from PIL import Image

from digitpad.core.data import load_dataset, to_model_input
from digitpad.core.errors import ArchitectureError, DataError, DigitpadError, ImageError
from digitpad.core.images import load_image
from digitpad.core.inference import (
    LOW_CONFIDENCE,
    TOLERANCE,
    Prediction,
    Predictor,
    recognize,
    recognize_file,
    recognize_files,
)
from digitpad.core.tfsetup import keras, tf


def _small_cnn(seed: int = 0):
    k = keras()
    k.utils.set_random_seed(seed)
    return k.Sequential(
        [
            k.Input((28, 28, 1)),
            k.layers.Conv2D(16, 5, strides=2, padding="same", activation="relu"),
            k.layers.BatchNormalization(),
            k.layers.Conv2D(32, 3, activation="relu"),
            k.layers.MaxPooling2D(),
            k.layers.Dropout(0.25),
            k.layers.Flatten(),
            k.layers.Dense(64, activation="relu"),
            k.layers.Dense(10, activation="softmax"),
        ]
    )


@pytest.fixture(scope="module")
def trained(mnist_small):
    """A small CNN briefly trained on 3000 real MNIST images (two epochs): tests using it are slow."""
    model = _small_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        to_model_input(mnist_small.x_train), mnist_small.y_train, epochs=2, batch_size=64, verbose=0
    )
    return model


@pytest.fixture(scope="module")
def untrained():
    """The same CNN with its initial (seeded) weights: real Keras, no training, so not slow."""
    return _small_cnn(seed=5)


@pytest.fixture(scope="module")
def test_images(mnist_small):
    """200 real MNIST test images as float32 (N, 28, 28, 1) and their labels."""
    return to_model_input(mnist_small.x_test[:200]), mnist_small.y_test[:200]


def _keras_probs(model, x):
    return np.asarray(model(x, training=False))


def _canvas_from_digit(img_uint8: np.ndarray, scale: int = 6, offset=(30, 90)) -> np.ndarray:
    """Draw an MNIST digit upscaled and off-centre on a 280x280 canvas (ink bright, uint8)."""
    big = np.kron(img_uint8, np.ones((scale, scale), np.uint8))
    canvas = np.zeros((280, 280), np.uint8)
    top = min(offset[0], 280 - big.shape[0])
    left = min(offset[1], 280 - big.shape[1])
    canvas[top : top + big.shape[0], left : left + big.shape[1]] = big
    return canvas


# ---------------------------------------------------------------------------- equality with Keras
@pytest.mark.slow
def test_litert_probabilities_equal_keras_on_real_mnist(trained, test_images):
    x, _ = test_images
    predictor = Predictor(trained)
    assert predictor.backend == "litert", predictor.fallback_reason
    assert predictor.fallback_reason is None
    assert predictor.max_abs_diff is not None and predictor.max_abs_diff <= TOLERANCE
    expected = _keras_probs(trained, x)
    single = np.stack([predictor.predict_one(img[..., 0]) for img in x])
    assert single.shape == (len(x), 10) and single.dtype == np.float32
    np.testing.assert_allclose(single, expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(predictor.predict_batch(x[..., 0]), expected, rtol=0, atol=1e-5)


@pytest.mark.slow
def test_tf_function_probabilities_equal_keras_on_real_mnist(trained, test_images):
    x, _ = test_images
    predictor = Predictor(trained, backend="tf.function")
    assert predictor.backend == "tf.function"
    assert predictor.fallback_reason and "requested" in predictor.fallback_reason
    expected = _keras_probs(trained, x)
    single = np.stack([predictor.predict_one(img) for img in x[:50]])
    np.testing.assert_allclose(single, expected[:50], rtol=0, atol=1e-5)
    np.testing.assert_allclose(
        predictor.predict_batch(x, batch_size=64), expected, rtol=0, atol=1e-5
    )


@pytest.mark.slow
def test_predictions_are_mostly_right_on_real_mnist(trained, test_images):
    x, y = test_images
    probs = Predictor(trained).predict_batch(x)
    assert (probs.argmax(axis=1) == y).mean() > 0.85
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_flat_input_model_is_reshaped_inside_the_graph(test_images):
    k = keras()
    k.utils.set_random_seed(3)
    flat = k.Sequential(
        [
            k.Input((784,)),
            k.layers.Dense(32, activation="relu"),
            k.layers.Dense(10, activation="softmax"),
        ]
    )
    x, _ = test_images
    expected = _keras_probs(flat, x[:20].reshape(20, 784))
    for backend in ("auto", "tf.function"):
        predictor = Predictor(flat, backend=backend)
        np.testing.assert_allclose(predictor.predict_one(x[0]), expected[0], rtol=0, atol=1e-5)
        np.testing.assert_allclose(predictor.predict_batch(x[:20]), expected, rtol=0, atol=1e-5)


# ---------------------------------------------------------------------------- fallbacks
def _break_converter(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("simulated converter failure")

    converter = tf().lite.TFLiteConverter
    monkeypatch.setattr(converter, "from_concrete_functions", boom)
    monkeypatch.setattr(converter, "from_keras_model", boom)


@pytest.mark.slow
def test_conversion_failure_falls_back_to_tf_function(trained, test_images, monkeypatch):
    _break_converter(monkeypatch)
    predictor = Predictor(trained)
    assert predictor.backend == "tf.function"
    assert "conversion failed" in predictor.fallback_reason
    assert "simulated converter failure" in predictor.fallback_reason
    x, _ = test_images
    np.testing.assert_allclose(
        predictor.predict_batch(x[:30]), _keras_probs(trained, x[:30]), rtol=0, atol=1e-5
    )
    np.testing.assert_allclose(
        predictor.predict_one(x[0]), _keras_probs(trained, x[:1])[0], atol=1e-5
    )


@pytest.mark.slow
def test_litert_required_but_impossible_raises(trained, monkeypatch):
    _break_converter(monkeypatch)
    with pytest.raises(DigitpadError, match="LiteRT"):
        Predictor(trained, backend="litert")


@pytest.mark.slow
def test_missing_runtime_falls_back(trained, test_images, monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import now fails
    predictor = Predictor(trained)
    assert predictor.backend == "tf.function"
    assert "not installed" in predictor.fallback_reason
    x, _ = test_images
    np.testing.assert_allclose(
        predictor.predict_one(x[5]), _keras_probs(trained, x[5:6])[0], atol=1e-5
    )


@pytest.mark.slow
def test_litert_output_that_differs_from_keras_is_rejected(trained, test_images, monkeypatch):
    """A converted model whose probabilities differ from Keras's must not be used."""
    other = _small_cnn(seed=99)  # same architecture, different weights
    converter = tf().lite.TFLiteConverter
    real = converter.from_keras_model
    wrong = real(other).convert()

    class WrongConverter:
        optimizations: list = []

        def convert(self):
            return wrong

    monkeypatch.setattr(converter, "from_concrete_functions", lambda *a, **k: WrongConverter())
    monkeypatch.setattr(converter, "from_keras_model", lambda *a, **k: WrongConverter())
    predictor = Predictor(trained)
    assert predictor.backend == "tf.function"
    assert "differ from Keras" in predictor.fallback_reason
    x, _ = test_images
    np.testing.assert_allclose(
        predictor.predict_one(x[1]), _keras_probs(trained, x[1:2])[0], atol=1e-5
    )


def test_unknown_backend_is_refused(untrained):
    with pytest.raises(DigitpadError, match="backend"):
        Predictor(untrained, backend="onnx")


def test_model_without_ten_classes_is_refused():
    k = keras()
    bad = k.Sequential(
        [k.Input((28, 28, 1)), k.layers.Flatten(), k.layers.Dense(5, activation="softmax")]
    )
    with pytest.raises(ArchitectureError, match="10 class"):
        Predictor(bad)


def test_model_with_nan_weights_is_refused(untrained):
    k = keras()
    clone = k.models.clone_model(untrained)
    weights = [np.full_like(w, np.nan) for w in untrained.get_weights()]
    clone.set_weights(weights)
    with pytest.raises(DigitpadError, match="NaN"):
        Predictor(clone)


def test_model_with_wrong_input_is_refused():
    k = keras()
    bad = k.Sequential(
        [k.Input((32, 32, 3)), k.layers.Flatten(), k.layers.Dense(10, activation="softmax")]
    )
    with pytest.raises(ArchitectureError, match="28x28"):
        Predictor(bad)


# ---------------------------------------------------------------------------- batch path, no predict
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["auto", "tf.function"])
def test_predict_batch_equals_stacked_predict_one(trained, mnist_small, backend):
    predictor = Predictor(trained, backend=backend)
    x_uint8 = mnist_small.x_test[200:300]  # uint8 input is scaled the same way as to_model_input
    single = np.stack([predictor.predict_one(to_model_input(img)[0]) for img in x_uint8])
    for batch_size in (1, 37, 256):
        batched = predictor.predict_batch(x_uint8, batch_size=batch_size)
        assert batched.shape == (100, 10)
        np.testing.assert_allclose(batched, single, rtol=0, atol=1e-6)
    assert predictor.predict_batch(np.zeros((0, 28, 28), np.float32)).shape == (0, 10)


@pytest.mark.slow
def test_predict_batch_runs_batched_not_one_call_per_image(trained, test_images, monkeypatch):
    predictor = Predictor(trained)
    assert predictor.backend == "litert"
    calls = []
    predictor.predict_batch(test_images[0][:10], batch_size=64)  # creates the batch interpreter
    interpreter = predictor._backend.batched.interpreter
    original = type(interpreter).invoke
    monkeypatch.setattr(
        type(interpreter), "invoke", lambda self: (calls.append(1), original(self))[1]
    )
    predictor.predict_batch(test_images[0][:10], batch_size=64)
    assert len(calls) == 1


@pytest.mark.slow
def test_predict_one_never_calls_model_predict(trained, test_images, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("model.predict must not be called")

    monkeypatch.setattr(trained, "predict", forbidden)
    x, _ = test_images
    for backend in ("auto", "tf.function"):
        predictor = Predictor(trained, backend=backend)
        predictor.predict_one(x[0])
        predictor.predict_batch(x[:10])
        recognize(predictor, _canvas_from_digit((x[0, ..., 0] * 255).astype(np.uint8)))


def test_bad_input_shapes_give_image_errors(untrained):
    predictor = Predictor(untrained)
    with pytest.raises(ImageError, match="28x28"):
        predictor.predict_one(np.zeros((32, 32), np.float32))
    with pytest.raises(ImageError):
        predictor.predict_batch(np.zeros((4, 27, 28), np.float32))


@pytest.mark.slow
def test_concurrent_use_from_two_threads_is_serialised(trained, test_images):
    predictor = Predictor(trained)
    x, _ = test_images
    expected = predictor.predict_batch(x[:40])
    errors = []

    def work(start):
        try:
            for _ in range(5):
                for i in range(start, 40, 2):
                    np.testing.assert_allclose(predictor.predict_one(x[i]), expected[i], atol=1e-6)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# ---------------------------------------------------------------------------- recognize
def test_recognize_blank_canvas(untrained):
    predictor = Predictor(untrained)
    result = recognize(predictor, np.zeros((280, 280), np.uint8))
    assert isinstance(result, Prediction)
    assert result.blank and result.digit is None and result.confidence == 0.0
    assert result.probabilities is None and not result.low_confidence
    assert result.normalized.blank


@pytest.mark.slow
def test_recognize_real_digits_drawn_on_a_canvas(trained, mnist_small):
    predictor = Predictor(trained)
    x, y = mnist_small.x_test[:12], mnist_small.y_test[:12]
    right = 0
    for i, (img, label) in enumerate(zip(x, y, strict=True)):
        canvas = _canvas_from_digit(img, scale=5 + i % 4, offset=(10 + 7 * i, 15 + 5 * i))
        result = recognize(predictor, canvas)
        assert not result.blank
        assert result.normalized.image.shape == (28, 28)
        assert result.probabilities.shape == (10,)
        assert result.digit == int(np.argmax(result.probabilities))
        assert result.confidence == pytest.approx(float(result.probabilities.max()))
        assert result.low_confidence == (result.confidence < LOW_CONFIDENCE)
        right += result.digit == label
    assert right >= 10, f"only {right} of 12 canvas digits recognised"


@pytest.mark.slow
def test_recognize_equals_predict_one_on_the_normalized_image(trained, mnist_small):
    predictor = Predictor(trained)
    canvas = _canvas_from_digit(mnist_small.x_test[3]).astype(np.float32) / 255.0
    result = recognize(predictor, canvas)
    np.testing.assert_allclose(
        result.probabilities,
        _keras_probs(trained, result.normalized.image[None, ..., None])[0],
        atol=1e-5,
    )


@pytest.mark.slow
def test_recognize_file_and_files(trained, mnist_small, tmp_path):
    predictor = Predictor(trained)
    paths, labels = [], []
    for i in range(6):
        # dark ink on light paper, RGB, larger than 28x28: what a user's scan looks like
        paper = 255 - _canvas_from_digit(mnist_small.x_test[20 + i], scale=4, offset=(40, 60))
        path = tmp_path / f"digit{i}.png"
        Image.fromarray(paper).convert("RGB").save(path)
        paths.append(path)
        labels.append(int(mnist_small.y_test[20 + i]))
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all")

    single = [recognize_file(predictor, p) for p in paths]
    assert sum(r.digit == lab for r, lab in zip(single, labels, strict=True)) >= 5
    assert recognize_file(predictor, blank).blank
    with pytest.raises(ImageError):
        recognize_file(predictor, broken)

    many = recognize_files(predictor, [*paths[:3], broken, blank, *paths[3:]])
    assert len(many) == 8
    assert isinstance(many[3], ImageError)
    assert many[4].blank
    batched = [r for r in many if isinstance(r, Prediction) and not r.blank]
    for a, b in zip(batched, single, strict=True):
        assert a.digit == b.digit
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-6)


# ---------------------------------------------------------------------------- one path for files
@pytest.fixture(scope="module")
def mnist_pngs(tmp_path_factory):
    """The first 20 MNIST test digits saved as PNG files with Pillow, and their labels."""
    ds = load_dataset()
    folder = tmp_path_factory.mktemp("mnist_pngs")
    paths = []
    for i, img in enumerate(ds.x_test[:20]):
        path = folder / f"test{i:02d}.png"
        Image.fromarray(img).save(path)
        paths.append(path)
    return paths, ds.y_test[:20]


@pytest.mark.parametrize("backend", ["auto", "tf.function"])
def test_recognize_file_equals_load_image_then_recognize(untrained, mnist_pngs, backend):
    """What the GUI runs (load the file's array in a worker, then recognise it) is recognize_file."""
    predictor = Predictor(untrained, backend=backend)
    paths, _ = mnist_pngs
    for path in paths:
        by_file = recognize_file(predictor, path)
        array = load_image(path)
        assert array.dtype == np.float32 and array.shape == (28, 28)
        by_array = recognize(predictor, array)
        assert not by_file.blank and not by_array.blank
        assert by_file.digit == by_array.digit
        np.testing.assert_array_equal(by_file.normalized.image, by_array.normalized.image)
        np.testing.assert_allclose(by_file.probabilities, by_array.probabilities, rtol=0, atol=1e-6)
    batched = recognize_files(predictor, paths)
    for path, result in zip(paths, batched, strict=True):
        single = recognize_file(predictor, path)
        np.testing.assert_array_equal(result.normalized.image, single.normalized.image)
        np.testing.assert_allclose(result.probabilities, single.probabilities, rtol=0, atol=1e-6)


def test_uint8_canvas_is_recognised_like_its_unit_float_copy(untrained, mnist_small):
    """The pad may hand its uint8 canvas straight to the core: same result as the scaled copy."""
    predictor = Predictor(untrained, backend="tf.function")
    for img in mnist_small.x_test[:5]:
        canvas = _canvas_from_digit(img)
        a = recognize(predictor, canvas)
        b = recognize(predictor, canvas.astype(np.float32) * np.float32(1.0 / 255.0))
        np.testing.assert_array_equal(a.normalized.image, b.normalized.image)
        np.testing.assert_array_equal(a.probabilities, b.probabilities)


def test_unscaled_float_input_is_refused(untrained, mnist_small):
    """Floats 0..255 would be silently wrong: predict_one/predict_batch scale only uint8."""
    predictor = Predictor(untrained, backend="tf.function")
    x = mnist_small.x_test[:4]
    np.testing.assert_allclose(
        predictor.predict_batch(x), predictor.predict_batch(to_model_input(x)), rtol=0, atol=1e-7
    )
    with pytest.raises(DataError, match="scaled exactly once"):
        predictor.predict_one(x[0].astype(np.float32))
    with pytest.raises(DataError, match="scaled exactly once"):
        predictor.predict_batch(x.astype(np.float32))
