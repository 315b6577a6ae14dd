"""``digitpad.core.explain``: activations against Keras sub-models (flat and nested Keras-2 models),
the integrated-gradients heatmap contract, its faithfulness on real MNIST test images, the mapping
back onto a drawing and the overlay picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digitpad.core.errors import DigitpadError, ImageError
from digitpad.core.explain import (
    ActivationProbe,
    Attributor,
    heatmap_to_canvas,
    overlay_rgb,
    to_heatmap,
)
from digitpad.core.normalize import normalize_canvas

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _load(path):
    from digitpad.core.modelfile import load_model

    return load_model(path)


@pytest.fixture(scope="module")
def bundled():
    from digitpad.core.paths import bundled_model_path

    return _load(bundled_model_path())


@pytest.fixture(scope="module")
def attributor(bundled):
    return Attributor(bundled)


@pytest.fixture(scope="module")
def test_images():
    from digitpad.core.data import load_dataset

    ds = load_dataset(None)
    return ds.x_test[:50].astype(np.float32) / 255.0, ds.y_test[:50]


def _probabilities(model, images: np.ndarray) -> np.ndarray:
    return np.asarray(model(images[..., None], training=False), dtype=np.float64)


# -- activations ---------------------------------------------------------------------------------


def test_activations_equal_a_keras_sub_model(bundled, test_images):
    from digitpad.core.tfsetup import keras

    probe = ActivationProbe(bundled)
    kinds = dict(probe.layers)
    assert [n for n, k in probe.layers if k == "Conv2D"] == ["conv1", "conv2", "conv3", "conv4"]
    assert [n for n, k in probe.layers if k == "Dense"] == ["dense1", "probs"]
    acts = probe(test_images[0][0])
    assert [(a.layer, a.kind) for a in acts] == probe.layers and len(kinds) == len(acts)
    model = bundled.model
    sub = keras().Model(model.input, [model.get_layer(a.output_of).output for a in acts])
    expected = sub(test_images[0][:1, ..., None], training=False)
    for act, want in zip(acts, expected, strict=True):
        assert act.values.dtype == np.float32 and act.values.shape == tuple(want.shape[1:])
        assert np.allclose(act.values, np.asarray(want)[0], atol=1e-5), act.layer
    conv1 = acts[0]
    assert conv1.output_of == "conv1_relu" and conv1.values.min() >= 0.0  # after BN and ReLU
    assert np.allclose(acts[-1].values, _probabilities(model, test_images[0][:1])[0], atol=1e-5)


def test_activations_inside_a_nested_keras2_model(test_images):
    from digitpad.core.tfsetup import keras

    loaded = _load(FIXTURES / "keras2_flat784.h5")
    assert loaded.adaptations  # a functional wrapper around the file's Sequential model
    probe = ActivationProbe(loaded)
    assert probe.layers == [("conv2d_1", "Conv2D"), ("dense_2", "Dense")]
    inner = loaded.model.get_layer("keras2_flat784")
    sub = keras().Model(inner.inputs, [inner.get_layer(n).output for n, _ in probe.layers])
    image = test_images[0][3]
    expected = sub([image.reshape(1, 784)], training=False)
    for act, want in zip(probe(image), expected, strict=True):
        assert np.allclose(act.values, np.asarray(want)[0], atol=1e-5), act.layer


def test_probing_leaves_the_model_saveable(tmp_path, test_images):
    from digitpad.core.modelfile import save_model

    loaded = _load(FIXTURES / "keras2_baseline.h5")
    ActivationProbe(loaded)
    Attributor(loaded)
    image = test_images[0][:2]
    for suffix in (".keras", ".h5"):
        back = _load(save_model(loaded.model, tmp_path / f"probed{suffix}"))
        assert len(back.model.layers) == len(loaded.model.layers)
        assert np.allclose(_probabilities(back.model, image),
                           _probabilities(loaded.model, image), atol=1e-6)


def test_probe_refuses_a_non_image():
    probe = ActivationProbe(_load(FIXTURES / "keras2_baseline.h5"))
    with pytest.raises(ImageError):
        probe(np.zeros((10, 10), np.float32))
    with pytest.raises(ImageError):
        probe(np.full((28, 28), 3.0, np.float32))


# -- attributions --------------------------------------------------------------------------------


def test_heatmap_contract(attributor, test_images):
    images, _ = test_images
    heat = attributor(images[0], 7)
    assert heat.shape == (28, 28) and heat.dtype == np.float32
    assert heat.min() >= 0.0 and heat.sum() == pytest.approx(1.0, abs=1e-5)
    assert not heat[images[0] == 0.0].any()  # black baseline: no heat without ink
    assert attributor.method == "integrated_gradients"
    assert not attributor(np.zeros((28, 28), np.float32), 3).any()
    with pytest.raises(DigitpadError):
        attributor(images[0], 10)
    with pytest.raises(ImageError):
        attributor(np.zeros((28, 27), np.float32), 1)
    small = _load(FIXTURES / "keras2_baseline.h5")
    with pytest.raises(DigitpadError, match="not one of"):
        Attributor(small, method="grad-cam")
    with pytest.raises(DigitpadError, match="at least 2 steps"):
        Attributor(small, steps=1)
    assert not to_heatmap(-np.ones((28, 28))).any()


def test_integrated_gradients_are_complete(bundled, attributor, test_images):
    """Signed attributions add up to p(image) - p(black), up to the midpoint rule's error.

    A confident model's probability can rise steeply somewhere along the path, so the live view's
    32 points may miss the sum by a few hundredths; with 128 points the rule has converged.
    """
    images, _ = test_images
    fine = Attributor(bundled, steps=128)
    blank = _probabilities(bundled.model, np.zeros((1, 28, 28), np.float32))[0]
    probs = _probabilities(bundled.model, images[:8])
    coarse_errors, fine_errors = [], []
    for image, row in zip(images[:8], probs, strict=True):
        target = int(np.argmax(row))
        gain = row[target] - blank[target]
        total = float(fine.signed(image, target).sum())
        assert total == pytest.approx(gain, abs=0.03)
        fine_errors.append(abs(total - gain))
        coarse_errors.append(abs(float(attributor.signed(image, target).sum()) - gain))
    assert np.mean(fine_errors) < np.mean(coarse_errors)  # more points, closer to the integral


def _deletion_drops(model, attributor, images, fraction=0.1, draws=3, seed=0):
    """Mean drop of the predicted digit's probability after erasing the top-attributed vs random
    ink pixels (as many of each)."""
    rng = np.random.default_rng(seed)
    base = _probabilities(model, images)
    targets = base.argmax(axis=1)
    top, rand = [], []
    for image, target in zip(images, targets, strict=True):
        flat = image.ravel()
        ink = np.flatnonzero(flat > 0.1)
        k = max(1, int(len(ink) * fraction))
        heat = attributor(image, int(target)).ravel()
        erased = flat.copy()
        erased[ink[np.argsort(-heat[ink], kind="stable")[:k]]] = 0.0
        top.append(erased.reshape(28, 28))
        for _ in range(draws):
            erased = flat.copy()
            erased[rng.choice(ink, k, replace=False)] = 0.0
            rand.append(erased.reshape(28, 28))
    rows = np.arange(len(images))
    p0 = base[rows, targets]
    p_top = _probabilities(model, np.stack(top))[rows, targets]
    p_rand = _probabilities(model, np.stack(rand))[np.arange(len(rand)), np.repeat(targets, draws)]
    return float(np.mean(p0 - p_top)), float(np.mean(p0 - p_rand.reshape(-1, draws).mean(axis=1)))


def test_erasing_top_attributed_pixels_hurts_far_more_than_random(bundled, attributor, test_images):
    images, labels = test_images
    top, rand = _deletion_drops(bundled.model, attributor, images)
    # measured: about 0.29 vs 0.004 for 10 % of the ink
    assert top > 0.15, (top, rand)
    assert top > rand + 0.12 and top > 5 * rand, (top, rand)


@pytest.mark.parametrize("name", ["keras2_baseline.h5", "keras2_logits28.h5"])
def test_keras2_h5_model_explained(name, test_images):
    loaded = _load(FIXTURES / name)
    images, _ = test_images
    attributor = Attributor(loaded, steps=16)
    heat = attributor(images[1], 2)
    assert heat.shape == (28, 28) and heat.min() >= 0.0
    assert heat.sum() == pytest.approx(1.0, abs=1e-5)
    top, rand = _deletion_drops(loaded.model, attributor, images[:30])
    assert top > 0.1 and top > 3 * rand, (top, rand)


# -- mapping back onto the drawing ---------------------------------------------------------------


def _stroke_canvas() -> np.ndarray:
    canvas = np.zeros((240, 200), np.uint8)
    canvas[40:200, 90:110] = 255  # a thick "1"
    canvas[40:60, 60:110] = 255  # with a flag
    return canvas


def test_heatmap_to_canvas_keeps_mass_and_stays_on_the_ink():
    canvas = _stroke_canvas()
    norm = normalize_canvas(canvas)
    heat = norm.image / norm.image.sum()
    mapped = heatmap_to_canvas(heat, norm, canvas.shape)
    assert mapped.shape == canvas.shape and mapped.dtype == np.float32
    assert mapped.min() >= 0.0 and mapped.sum() == pytest.approx(1.0, abs=1e-4)
    assert not mapped[canvas == 0].any()
    top, left, bottom, right = norm.bbox
    assert mapped[top:bottom, left:right].sum() == pytest.approx(mapped.sum())


def test_heatmap_to_canvas_puts_a_hot_pixel_where_it_came_from():
    from digitpad.core.explain.mapping import digit_window

    canvas = _stroke_canvas()
    norm = normalize_canvas(canvas)
    wy, wx, h, w = digit_window(norm)
    heat = np.zeros((28, 28), np.float32)
    heat[wy + 2, wx + 1] = 1.0  # a pixel of the flag, near the top left of the digit
    mapped = heatmap_to_canvas(heat, norm, canvas.shape, on_ink=False)
    top, left, bottom, right = norm.bbox
    sy, sx = (bottom - top) / h, (right - left) / w
    rows, cols = np.nonzero(mapped)
    cy = np.average(rows, weights=mapped[rows, cols])
    cx = np.average(cols, weights=mapped[rows, cols])
    assert abs(cy - (top + 2.5 * sy)) < sy and abs(cx - (left + 1.5 * sx)) < sx


def test_heatmap_to_canvas_edges():
    blank = normalize_canvas(np.zeros((50, 50), np.uint8))
    assert not heatmap_to_canvas(np.ones((28, 28)), blank, (50, 50)).any()
    norm = normalize_canvas(_stroke_canvas())
    with pytest.raises(ImageError):
        heatmap_to_canvas(np.ones((14, 14)), norm, (240, 200))
    with pytest.raises(ImageError):
        heatmap_to_canvas(np.ones((28, 28)), norm, (100, 100))


def test_overlay_rgb():
    image = np.zeros((28, 28), np.float32)
    image[10:18, 12:15] = 1.0
    heat = np.zeros((28, 28), np.float32)
    heat[12, 13] = 1.0
    rgb = overlay_rgb(image, heat, scale=10)
    assert rgb.shape == (280, 280, 3) and rgb.dtype == np.uint8
    assert rgb[125, 135].tolist() != rgb[155, 135].tolist()  # the hot pixel stands out
    assert rgb[125, 135, 0] > 200  # hot colours are red-first
    assert rgb[0, 0].tolist() == [0, 0, 0]
    assert rgb[155, 135].tolist() == [153, 153, 153]  # ink without heat: grey
    with pytest.raises(ImageError):
        overlay_rgb(image, heat[:10])
