"""Issue 13, the slow half: peak memory while refusing files that declare too much (a real child
process, measured with ``resource.getrusage``), and real trained models with raw-pixel inputs or
sigmoid outputs, read through digitpad as accurately as through Keras.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from model_corpus import (
    h5_with_huge_dataset,
    huge_dense,
    huge_upsampling,
    keras,
    keras_file,
    keras_with_huge_weights,
    keras_with_zip_bomb,
    many_layers,
    numpy_node,
    rewrite_h5_config,
    rewrite_keras_config,
    tiny_model,
    with_numpy_initializer,
)

from digitpad.core.inference.predictor import Predictor
from digitpad.core.modelfile import load_model

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
GIB = 1024 ** 3


def _hostile_files(folder: Path) -> list[Path]:
    ok_keras = keras_file(folder, "ok.keras", tiny_model())
    ok_h5 = keras_file(folder, "ok.h5", tiny_model())
    files = []
    for label, edit in [("dense", huge_dense), ("numpy", with_numpy_initializer(numpy_node())),
                        ("layers", many_layers(20_000)), ("upsampling", huge_upsampling)]:
        files.append(rewrite_keras_config(ok_keras, folder / f"{label}.keras", edit))
        files.append(rewrite_h5_config(ok_h5, folder / f"{label}.h5", edit))
    for values in (1 << 30, 100_000_000):
        files.append(h5_with_huge_dataset(ok_h5, folder / f"hollow{values}.h5", values))
        files.append(keras_with_huge_weights(ok_keras, folder / f"hollow{values}.keras", values))
    files.append(keras_with_zip_bomb(ok_keras, folder / "bomb.keras", 1800))
    return files


def test_refusing_files_that_declare_too_much_stays_within_1_gb(tmp_path):
    files = _hostile_files(tmp_path)
    assert max(f.stat().st_size for f in files) < 8 * 1024 * 1024
    child = textwrap.dedent(f"""
        import json, resource, sys
        from digitpad.core.errors import ModelFileError
        from digitpad.core.modelfile import load_model
        load_model({str(tmp_path / "ok.keras")!r})          # TensorFlow and Keras fully warm
        load_model({str(tmp_path / "ok.h5")!r})
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        refusals = []
        for path in json.loads(sys.argv[1]):
            try:
                load_model(path)
                refusals.append(None)
            except ModelFileError as exc:
                refusals.append(str(exc))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({{"base": base, "peak": peak, "refusals": refusals}}))
    """)
    done = subprocess.run([sys.executable, "-c", child, json.dumps([str(f) for f in files])],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(report["refusals"]), report["refusals"]
    assert all("\n" not in text for text in report["refusals"])
    assert report["peak"] - report["base"] < GIB, report


def _uint8_model():
    k = keras()
    inp = k.Input((28, 28, 1), dtype="uint8")
    x = k.layers.Rescaling(1 / 255)(inp)
    x = k.layers.Conv2D(8, 3, strides=2, activation="relu")(x)
    out = k.layers.Dense(10, activation="softmax")(k.layers.Flatten()(x))
    return k.Model(inp, out)


def _sigmoid_model():
    k = keras()
    return k.Sequential([k.Input((28, 28, 1)), k.layers.Conv2D(8, 3, strides=2, activation="relu"),
                         k.layers.Flatten(), k.layers.Dense(10, activation="sigmoid")])


def _accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(probs, axis=1) == labels))


def test_trained_uint8_model_is_as_accurate_through_digitpad(tmp_path, mnist_small):
    keras().utils.set_random_seed(0)
    ds = mnist_small
    raw_train = ds.x_train.reshape(-1, 28, 28, 1).astype("uint8")
    raw_test = ds.x_test.reshape(-1, 28, 28, 1).astype("uint8")
    model = _uint8_model()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(raw_train, ds.y_train, epochs=3, batch_size=64, verbose=0)
    in_keras = _accuracy(model.predict(raw_test, verbose=0), ds.y_test)
    assert in_keras > 0.85

    loaded = load_model(keras_file(tmp_path, "u8.keras", model))
    assert loaded.adaptations == [
        "input scaled from [0, 1] to 0-255 and given as uint8 (the model takes uint8 pixels)"]
    through_digitpad = _accuracy(Predictor(loaded).predict_batch(raw_test / np.float32(255)),
                                 ds.y_test)
    assert abs(through_digitpad - in_keras) <= 0.005


def test_trained_sigmoid_model_keeps_its_confidence(tmp_path, mnist_small):
    keras().utils.set_random_seed(0)
    ds = mnist_small
    x_train = (ds.x_train.reshape(-1, 28, 28, 1) / 255.0).astype("float32")
    x_test = (ds.x_test.reshape(-1, 28, 28, 1) / 255.0).astype("float32")
    model = _sigmoid_model()
    model.compile("adam", "binary_crossentropy")
    model.fit(x_train, np.eye(10, dtype="float32")[ds.y_train], epochs=3, batch_size=64, verbose=0)
    scores = model.predict(x_test, verbose=0)

    loaded = load_model(keras_file(tmp_path, "sig.keras", model))
    assert loaded.adaptations == ["independent sigmoid outputs normalised by their sum"]
    probs = Predictor(loaded).predict_batch(x_test)
    assert _accuracy(probs, ds.y_test) == _accuracy(scores, ds.y_test) > 0.85
    np.testing.assert_allclose(probs, scores / scores.sum(axis=1, keepdims=True), atol=1e-4)
    # a softmax over sigmoid scores could never exceed e / (e + 9) = 0.23
    assert probs.max(axis=1).mean() > 0.5
