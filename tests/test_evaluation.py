"""``digitpad.core.evaluation``: metrics from probabilities, the batched evaluation through a real
Predictor (the bundled model on real MNIST test images), galleries and misread-image files."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from digitpad.core.errors import DataError, DigitpadError
from digitpad.core.evaluation import (
    Evaluation,
    evaluate_model,
    misclassified_name,
    summarize,
    write_misclassified,
)
from digitpad.core.jsonable import dumps


@pytest.fixture(scope="module")
def bundled():
    from digitpad.core.inference import Predictor
    from digitpad.core.modelfile import load_model
    from digitpad.core.paths import bundled_model_path

    loaded = load_model(bundled_model_path())
    return loaded.model, Predictor(loaded.model)


def _probs(rows: list[tuple[int, float]]) -> np.ndarray:
    """One probability row per (predicted digit, its probability); the rest spread evenly."""
    out = np.zeros((len(rows), 10), np.float32)
    for i, (digit, p) in enumerate(rows):
        out[i] = (1.0 - p) / 9.0
        out[i, digit] = p
    return out


def test_summary_metrics_gallery_and_mistakes():
    y = np.array([0, 0, 1, 1, 1, 2])
    probs = _probs([(0, 0.9), (1, 0.6), (1, 0.8), (1, 0.95), (2, 0.7), (2, 0.99)])
    ev = summarize(y, probs, source="hand-made")
    assert ev.n == 6 and ev.accuracy == pytest.approx(4 / 6)
    expected_loss = -np.mean(np.log([0.9, 0.4 / 9, 0.8, 0.95, 0.3 / 9, 0.99]))
    assert ev.loss == pytest.approx(expected_loss, rel=1e-5)
    assert ev.per_class[:3] == pytest.approx([0.5, 2 / 3, 1.0])
    assert ev.per_class[3:] == [None] * 7
    assert ev.confusion[0].tolist()[:3] == [1, 1, 0] and ev.confusion[1].tolist()[:3] == [0, 2, 1]
    assert ev.confusion.dtype == np.int64 and ev.confusion.sum() == 6
    assert ev.cell(1, 1).tolist() == [3, 2]  # most confident first
    assert ev.cell(1, 2).tolist() == [4] and ev.cell(5, 5).tolist() == []
    assert ev.mistakes().tolist() == [4, 1]  # 0.7 then 0.6
    assert ev.mistakes(limit=1).tolist() == [4]
    assert ev.confidence.dtype == np.float32 and ev.confidence[5] == pytest.approx(0.99)
    rows = ev.row_normalized()
    assert rows[:3].sum(axis=1) == pytest.approx([1.0, 1.0, 1.0]) and not rows[3:].any()


def test_loss_is_clipped_and_summary_is_json():
    probs = np.zeros((2, 10), np.float32)
    probs[:, 3] = 1.0
    ev = summarize(np.array([3, 4]), probs)
    assert np.isfinite(ev.loss) and ev.loss == pytest.approx(-np.log(1e-7) / 2, rel=1e-6)
    summary = ev.to_dict()
    assert summary["mistakes"] == 1 and summary["n"] == 2
    text = dumps(summary)
    assert "NaN" not in text and "y_true" not in text and "probabilities" not in text


def test_evaluate_model_matches_keras(bundled, mnist_small):
    model, predictor = bundled
    x, y = mnist_small.x_test, mnist_small.y_test
    seen: list[tuple[int, int]] = []
    ev = evaluate_model(predictor, x, y, source="mnist", batch_size=300,
                        on_progress=lambda d, t: seen.append((d, t)))
    assert isinstance(ev, Evaluation) and ev.n == len(x) and not ev.stopped
    assert seen == [(0, 1000), (300, 1000), (600, 1000), (900, 1000), (1000, 1000)]
    keras_probs = np.asarray(model(x[..., None].astype(np.float32) / 255.0, training=False))
    assert np.allclose(ev.probabilities, keras_probs, atol=1e-4)
    assert ev.y_pred.tolist() == keras_probs.argmax(axis=1).tolist()
    assert ev.y_true.tolist() == y.tolist()
    assert ev.accuracy == pytest.approx(np.mean(keras_probs.argmax(axis=1) == y))
    assert ev.accuracy > 0.98  # the bundled model is about 99.7 % on MNIST


def test_evaluate_model_agrees_with_training_evaluate(bundled, mnist_small):
    from digitpad.core.training import evaluate

    model, predictor = bundled
    x, y = mnist_small.x_test[:400], mnist_small.y_test[:400]
    ev = evaluate_model(predictor, x, y)
    old = evaluate(model, x, y)
    assert ev.accuracy == pytest.approx(old.accuracy)
    assert ev.loss == pytest.approx(old.loss, rel=1e-3)
    assert np.array_equal(ev.confusion, old.confusion)


def test_stop_keeps_the_images_done(bundled, mnist_small):
    _, predictor = bundled
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 2

    ev = evaluate_model(predictor, mnist_small.x_test, mnist_small.y_test, batch_size=100,
                        should_stop=stop)
    assert ev.stopped and ev.n == 200 and ev.confusion.sum() == 200
    assert ev.to_dict()["stopped"] is True
    nothing = evaluate_model(predictor, mnist_small.x_test, mnist_small.y_test,
                             should_stop=lambda: True)
    assert nothing.n == 0 and np.isnan(nothing.accuracy) and nothing.per_class == [None] * 10


def test_bad_input_is_refused(bundled):
    _, predictor = bundled
    x = np.zeros((5, 28, 28), np.uint8)
    with pytest.raises(DataError):
        evaluate_model(predictor, x, np.zeros(4, np.int64))
    with pytest.raises(DataError):
        evaluate_model(predictor, x[:0], np.zeros(0, np.int64))
    with pytest.raises(DigitpadError):
        evaluate_model(predictor, x, np.zeros(5, np.int64), batch_size=0)


def test_write_misclassified(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    ev = summarize(np.array([7, 3, 1, 2]), _probs([(1, 0.93), (3, 0.9), (4, 0.51), (8, 0.7)]))
    written = write_misclassified(ev, x, tmp_path / "new" / "dir", indices=np.array([5, 9, 123, 40]))
    names = [p.name for p in written]
    assert names == ["00005_true7_pred1_0.93.png", "00040_true2_pred8_0.70.png",
                     "00123_true1_pred4_0.51.png"]
    assert sorted(p.name for p in (tmp_path / "new" / "dir").iterdir()) == sorted(names)
    assert np.array_equal(np.asarray(Image.open(written[0])), x[0])
    assert np.array_equal(np.asarray(Image.open(written[2])), x[2])
    assert len(write_misclassified(ev, x, tmp_path / "one", limit=1)) == 1
    assert re.fullmatch(r"\d{6}_true\d_pred\d_\d\.\d\d\.png", misclassified_name(1, 2, 3, 0.5, 6))
    with pytest.raises(DataError):
        write_misclassified(ev, x[:3], tmp_path / "bad")
