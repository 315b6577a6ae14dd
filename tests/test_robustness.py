"""``digitpad.core.perturb`` (vectorised numpy perturbations) and ``digitpad.core.robustness``
(accuracy curves through a real Predictor of the bundled model on real MNIST test images)."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.core import perturb
from digitpad.core.errors import DigitpadError
from digitpad.core.robustness import PERTURBATIONS, SETTINGS, perturbed, robustness_curves


def _dot(row: int, col: int) -> np.ndarray:
    a = np.zeros((1, 28, 28), np.float32)
    a[0, row, col] = 1.0
    return a


def test_rotation_turns_counter_clockwise_about_the_centre():
    right_of_centre = _dot(14, 20)
    up = perturb.rotate(right_of_centre, 90)
    assert np.unravel_index(np.argmax(up[0]), (28, 28)) == (8, 14)
    down = perturb.rotate(right_of_centre, -90)
    assert np.unravel_index(np.argmax(down[0]), (28, 28)) == (20, 14)
    image = np.random.default_rng(0).random((3, 28, 28), dtype=np.float32)
    assert np.allclose(perturb.rotate(image, 0), image, atol=1e-6)


def test_shift_and_scale():
    image = np.random.default_rng(1).random((2, 28, 28), dtype=np.float32)
    moved = perturb.shift(image, 3)
    assert np.allclose(moved[:, :, 3:], image[:, :, :-3], atol=1e-6) and not moved[:, :, :3].any()
    assert np.allclose(perturb.shift(image, -2)[:, :, :-2], image[:, :, 2:], atol=1e-6)
    assert np.allclose(perturb.scale(image, 1.0), image, atol=1e-6)
    bigger = perturb.scale(_dot(14, 18), 2.0)  # 4 px right of the centre -> 8 px
    assert np.unravel_index(np.argmax(bigger[0]), (28, 28)) == (14, 22)
    with pytest.raises(ValueError):
        perturb.scale(image, 0.0)


def test_thickness_dilates_and_erodes_with_a_cross():
    grown = perturb.thickness(_dot(10, 10), 1)[0]
    assert int(grown.sum()) == 5 and grown[9, 10] == grown[10, 11] == 1.0 and grown[9, 9] == 0.0
    assert int(perturb.thickness(_dot(10, 10), 2)[0].sum()) == 13
    block = np.zeros((1, 28, 28), np.float32)
    block[0, 5:8, 5:8] = 1.0
    thin = perturb.thickness(block, -1)[0]
    assert int(thin.sum()) == 1 and thin[6, 6] == 1.0
    edge = np.zeros((1, 28, 28), np.float32)
    edge[0, :, :3] = 1.0  # ink along the border is not eaten from the border side
    assert perturb.thickness(edge, -1)[0, :, 0:2].all()


def test_noise_is_seeded_and_in_range():
    image = np.zeros((4, 28, 28), np.float32)
    a = perturbed(image, "noise", 0.3, seed=5)
    b = perturbed(image, "noise", 0.3, seed=5)
    assert np.array_equal(a, b) and a.min() >= 0.0 and a.max() <= 1.0 and a.std() > 0.05
    assert not np.array_equal(a, perturbed(image, "noise", 0.3, seed=6))
    assert np.array_equal(perturbed(image, "noise", 0.0), image)
    with pytest.raises(DigitpadError):
        perturbed(image, "blur", 1.0)


@pytest.mark.parametrize("name", [p for p in PERTURBATIONS if p != "noise"])
def test_a_batch_is_the_images_one_by_one(name):
    images = np.random.default_rng(2).random((5, 28, 28), dtype=np.float32)
    value = SETTINGS[name][1][1]
    batch = perturbed(images, name, value, seed=0)
    one_by_one = np.concatenate([perturbed(images[i : i + 1], name, value) for i in range(5)])
    assert np.allclose(batch, one_by_one, atol=1e-6)


@pytest.fixture(scope="module")
def predictor():
    from digitpad.core.inference import Predictor
    from digitpad.core.modelfile import load_model
    from digitpad.core.paths import bundled_model_path

    return Predictor(load_model(bundled_model_path()).model)


def test_curves_of_the_bundled_model(predictor, mnist_small):
    x, y = mnist_small.x_test, mnist_small.y_test
    values = {"rotate": [45, -45, 0], "thickness": [-2, 0], "noise": [0.0, 0.5]}
    seen = []
    curves = robustness_curves(predictor, x, y, perturbations=("rotate", "thickness", "noise"),
                               n=300, values=values, on_progress=lambda d, t: seen.append((d, t)))
    assert list(curves) == ["rotate", "thickness", "noise"]
    assert seen[0] == (0, 7) and seen[-1] == (7, 7) and len(seen) == 8
    rot = curves["rotate"]
    assert rot.values == [-45.0, 0.0, 45.0] and rot.unit == "degrees"
    pick = np.sort(np.random.default_rng(0).permutation(len(x))[:300])
    plain = np.mean(predictor.predict_batch(x[pick]).argmax(axis=1) == y[pick])
    assert rot.accuracies[1] == pytest.approx(plain)
    assert curves["thickness"].accuracies[1] == pytest.approx(plain)
    assert plain > 0.97
    assert max(rot.accuracies[0], rot.accuracies[2]) < plain - 0.05
    assert curves["thickness"].accuracies[0] < plain - 0.2  # two erosions wipe out thin strokes
    assert curves["noise"].accuracies[1] < plain - 0.2
    assert curves["noise"].to_dict()["values"] == [0.0, 0.5]


def test_stop_returns_the_finished_curves_and_bad_requests(predictor, mnist_small):
    x, y = mnist_small.x_test, mnist_small.y_test
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 3

    curves = robustness_curves(predictor, x, y, perturbations=("shift", "scale"), n=50,
                               values={"shift": [0, 2], "scale": [1.0, 1.5]}, should_stop=stop)
    assert list(curves) == ["shift"] and len(curves["shift"].accuracies) == 2
    with pytest.raises(DigitpadError, match="not one of"):
        robustness_curves(predictor, x, y, perturbations=("blur",))
    with pytest.raises(DigitpadError):
        robustness_curves(predictor, x, y, n=0)
