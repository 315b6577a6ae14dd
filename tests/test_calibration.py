"""Calibrated confidence: temperature scaling fitted after training, stored, applied everywhere."""

from __future__ import annotations

import math

import numpy as np
import pytest

from digitpad.core.calibration import (
    apply_temperature,
    calibration_metadata,
    confidence_text,
    expected_calibration_error,
    fit_temperature,
    nll,
    reliability,
    temperature_from_metadata,
)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def synthetic(n: int = 20000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels drawn from softmax(logits): softmax(logits) is perfectly calibrated."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 2.5, size=(n, 10))
    z[np.arange(n), rng.integers(0, 10, n)] += 4.0
    q = softmax(z)
    y = (q.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return z, y


def test_temperature_one_is_identity_and_top_digit_never_changes():
    z, _ = synthetic(500)
    p = softmax(z)
    assert np.allclose(apply_temperature(p, None), p, atol=1e-6)
    assert np.allclose(apply_temperature(p, 1.0), p, atol=1e-6)
    for t in (0.3, 2.5):
        q = apply_temperature(p, t)
        assert q.dtype == np.float32 and np.allclose(q.sum(axis=1), 1.0, atol=1e-5)
        assert np.array_equal(q.argmax(axis=1), p.argmax(axis=1))
    assert (apply_temperature(p, 0.5).max(axis=1) >= p.max(axis=1) - 1e-6).all()  # sharper
    one = apply_temperature(p[0], 0.5)
    assert one.shape == (10,) and np.allclose(one, apply_temperature(p[:1], 0.5)[0])


@pytest.mark.parametrize("true_t", [0.5, 2.0])
def test_fit_recovers_the_temperature_of_a_miscalibrated_model(true_t):
    z, y = synthetic()
    reported = softmax(z / true_t)  # over- (0.5) or under-confident (2.0) probabilities
    fitted = fit_temperature(reported, y)
    # softmax(log(reported) / T) == softmax(z / (true_t * T)) is calibrated at T = 1 / true_t
    assert fitted == pytest.approx(1.0 / true_t, rel=0.06)
    assert nll(apply_temperature(reported, fitted), y) < nll(reported, y)


def test_ece_of_calibrated_and_miscalibrated_probabilities():
    z, y = synthetic()
    assert expected_calibration_error(softmax(z), y) < 0.015
    assert expected_calibration_error(softmax(z * 2.0), y) > 0.05  # over-confident
    # a hand-made case: always 90 % sure, always wrong -> ECE 0.9
    p = np.full((50, 10), 0.1 / 9)
    p[:, 3] = 0.9
    assert expected_calibration_error(p, np.zeros(50, int)) == pytest.approx(0.9)


def test_reliability_bins():
    z, y = synthetic(3000)
    r = reliability(softmax(z), y, bins=10)
    assert r.edges.shape == (11,) and r.counts.sum() == 3000
    filled = r.counts > 0
    assert ((r.confidence[filled] >= r.edges[:-1][filled] - 1e-9)
            & (r.confidence[filled] <= r.edges[1:][filled] + 1e-9)).all()
    assert np.isnan(r.accuracy[~filled]).all()
    with pytest.raises(ValueError):
        reliability(np.zeros((0, 10)), np.zeros(0, int))


def test_calibration_metadata_describes_the_fit():
    z, y = synthetic(4000)
    entry = calibration_metadata(softmax(z / 2.0), y, fitted_on="validation split (4000 images)")
    assert entry["method"] == "temperature scaling" and entry["n"] == 4000
    assert entry["temperature"] == pytest.approx(0.5, rel=0.1)
    assert entry["ece_after"] < entry["ece_before"] and entry["nll_after"] < entry["nll_before"]
    assert temperature_from_metadata({"calibration": entry}) == entry["temperature"]


@pytest.mark.parametrize("meta", [
    None, {}, {"calibration": None}, {"calibration": "0.5"}, {"calibration": {}},
    {"calibration": {"temperature": True}}, {"calibration": {"temperature": math.nan}},
    {"calibration": {"temperature": 0.0}}, {"calibration": {"temperature": -1}},
    {"calibration": {"temperature": 1e9}}, {"calibration": {"temperature": "0.5"}},
])
def test_untrusted_or_missing_temperature_means_not_calibrated(meta):
    assert temperature_from_metadata(meta) is None
    assert "not calibrated" in confidence_text(temperature_from_metadata(meta))


def test_confidence_text_names_the_temperature():
    assert "0.52" in confidence_text(0.5234) and "not" not in confidence_text(0.5234)


@pytest.mark.slow
def test_training_fits_stores_and_applies_the_temperature(tmp_path, mnist_small):
    from digitpad.core.data import to_model_input
    from digitpad.core.inference import Predictor, recognize
    from digitpad.core.modelfile import describe, load_model, save_model
    from digitpad.core.training import TrainConfig, TrainingSession

    cfg = TrainConfig(arch="fast", epochs=1, val_split=0.1, train_limit=2000, seed=3)
    result = TrainingSession(cfg, dataset=mnist_small, record=False).run()
    cal = result.calibration
    assert cal is not None and cal["n"] == 200
    assert 0.05 < cal["temperature"] < 5.0 and cal["nll_after"] <= cal["nll_before"]
    assert result.metadata()["calibration"] == cal

    path = save_model(result.model, tmp_path / "cal.keras", metadata=result.metadata())
    loaded = load_model(path)
    predictor = Predictor(loaded, backend="tf.function")  # temperature from the file
    assert predictor.temperature == pytest.approx(cal["temperature"])
    plain = Predictor(loaded.model, backend="tf.function")  # a bare Keras model: as it is
    assert plain.temperature is None
    x = to_model_input(mnist_small.x_test[:64])[..., 0]
    raw, shown = plain.predict_batch(x), predictor.predict_batch(x)
    assert np.allclose(shown, apply_temperature(raw, cal["temperature"]), atol=1e-5)
    assert np.allclose(predictor.predict_one(x[0]), shown[0], atol=1e-5)
    canvas = (mnist_small.x_test[0]).astype(np.uint8)
    assert recognize(predictor, canvas).confidence == pytest.approx(
        float(apply_temperature(recognize(plain, canvas).probabilities, cal["temperature"]).max()),
        abs=1e-5)
    assert "calibrated (temperature" in describe(path)["confidence"]
    from digitpad.cli.render import info_text

    assert "confidence:  calibrated (temperature" in info_text(describe(path))  # digitpad info

    no_val = TrainingSession(TrainConfig(arch="fast", epochs=1, val_split=0.0, train_limit=500),
                             dataset=mnist_small, record=False).run()
    assert no_val.calibration is None and "calibration" not in no_val.metadata()
    bare = save_model(no_val.model, tmp_path / "bare.keras", metadata=no_val.metadata())
    assert Predictor(load_model(bare), backend="tf.function").temperature is None
    assert "not calibrated" in describe(bare)["confidence"]
    assert "confidence:  not calibrated (the model's own probabilities" in info_text(describe(bare))
