"""Augmentation for drawn input: its effect on stroke width and geometry, checked on images."""

from __future__ import annotations

import math

import numpy as np
import pytest

from digitpad.core.errors import TrainingError
from digitpad.core.normalize import normalize_canvas
from digitpad.core.tfsetup import tf
from digitpad.core.training import TrainConfig
from digitpad.core.training.config import augment_mode, parse_augment
from digitpad.core.training.drawn_augment import (
    augment_drawn,
    change_stroke_width,
    random_matrix,
    renormalize,
    warp,
)


def batch(*images: np.ndarray) -> np.ndarray:
    return np.stack(images).astype(np.float32)[..., None]


def bar(width: int = 2) -> np.ndarray:
    img = np.zeros((28, 28), np.float32)
    img[4:24, 13:13 + width] = 1.0
    return img


def columns_with_ink(img: np.ndarray) -> int:
    return int((img[14] > 0.5).sum())


def ink_extent(img: np.ndarray, cut: float = 0.05) -> tuple[int, int]:
    rows = np.flatnonzero(img.max(axis=1) > cut)
    cols = np.flatnonzero(img.max(axis=0) > cut)
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def test_stroke_width_grows_by_dilation_steps_and_shrinks_by_erosion():
    T = tf()
    x = batch(bar(2), bar(2), bar(2), bar(2), bar(4))
    out = change_stroke_width(T.constant(x), T.constant([0.0, 1.0, 2.0, 0.5, -0.6]), T).numpy()
    out = out[..., 0]
    assert np.allclose(out[0], x[0, ..., 0])
    assert [columns_with_ink(o) for o in out[:3]] == [2, 4, 6]  # one step = one pixel each side
    assert columns_with_ink(out[3]) == 2 and out[3][14, 12] == pytest.approx(0.5)  # blended
    thinned = out[4]
    assert 0 < thinned.sum() < x[4].sum() and thinned.max() == pytest.approx(1.0)


def test_erosion_thins_a_real_mnist_digit_dilation_thickens_it(mnist_small):
    T = tf()
    x = (mnist_small.x_train[:32].astype(np.float32) / 255.0)[..., None]
    n = len(x)
    thick = change_stroke_width(T.constant(x), T.fill([n], 1.5), T).numpy()
    thin = change_stroke_width(T.constant(x), T.fill([n], -0.6), T).numpy()
    ink = lambda a: (a > 0.5).reshape(n, -1).sum(axis=1)  # noqa: E731
    assert (ink(thick) > 1.5 * ink(x)).all()
    assert (ink(thin) < ink(x)).all() and (ink(thin) > 0).all()


def test_identity_warp_leaves_images_unchanged(mnist_small):
    T = tf()
    x = (mnist_small.x_train[:4].astype(np.float32) / 255.0)[..., None]
    eye = T.eye(2, batch_shape=[4])
    out = warp(T.constant(x), eye, T.zeros([4, 2]), T.zeros([4, 28, 28, 2]), T).numpy()
    assert np.allclose(out, x, atol=1e-6)


def test_warp_rotates_shifts_and_shears(mnist_small):
    T = tf()
    x = (mnist_small.x_train[:2].astype(np.float32) / 255.0)[..., None]
    quarter = T.constant([[[0.0, -1.0], [1.0, 0.0]]] * 2)
    rot = warp(T.constant(x), quarter, T.zeros([2, 2]), T.zeros([2, 28, 28, 2]), T).numpy()
    assert np.allclose(rot[..., 0], np.rot90(x[..., 0], 1, axes=(1, 2)), atol=1e-5)
    one_px = T.concat([T.ones([2, 28, 28, 1]), T.zeros([2, 28, 28, 1])], axis=-1)  # read x + 1
    moved = warp(T.constant(x), T.eye(2, batch_shape=[2]), T.zeros([2, 2]), one_px, T).numpy()
    assert np.allclose(moved[:, :, :-1], x[:, :, 1:], atol=1e-6)
    shear = T.constant([[[1.0, 0.5], [0.0, 1.0]]])  # read x + 0.5 * (y - c): top moves right
    upright = batch(bar(2))
    slanted = warp(T.constant(upright), shear, T.zeros([1, 2]), T.zeros([1, 28, 28, 2]), T)
    s = slanted.numpy()[0, ..., 0]
    top_col = np.average(np.arange(28), weights=s[6])
    bottom_col = np.average(np.arange(28), weights=s[21])
    assert top_col - bottom_col == pytest.approx(0.5 * 15, abs=0.6)


def test_random_matrices_stay_in_their_ranges():
    T = tf()
    T.random.set_seed(0)
    m = random_matrix(4000, T).numpy()
    det = np.linalg.det(m)
    assert (det > 0).all()  # never mirrored
    scale = np.sqrt(det)
    assert 1 / 1.12 - 0.01 < scale.min() and scale.max() < 1 / 0.75 + 0.01
    angles = np.degrees(np.arctan2(m[:, 1, 0], m[:, 0, 0]))
    assert np.abs(angles).max() <= 25.5 and np.abs(angles).max() > 20


def test_renormalize_matches_the_apps_normalisation(mnist_small):
    from PIL import Image

    T = tf()
    images = []
    for d in mnist_small.x_test[:16]:  # MNIST digits shrunk and moved into a corner
        small = np.asarray(Image.fromarray(d).resize((14, 14), Image.Resampling.BOX))
        img = np.zeros((28, 28), np.float32)
        img[1:15, 13:27] = small / 255.0
        images.append(img)
    out = renormalize(T.constant(batch(*images, np.zeros((28, 28)))), T).numpy()[..., 0]
    corr = []
    for img, o in zip(images, out, strict=False):
        assert max(ink_extent(o)) in (19, 20, 21)
        m = o.sum()
        assert (o.sum(axis=1) @ np.arange(28)) / m == pytest.approx(14.0, abs=0.6)
        assert (o.sum(axis=0) @ np.arange(28)) / m == pytest.approx(14.0, abs=0.6)
        ref = normalize_canvas(img).image
        corr.append(float(np.corrcoef(o.ravel(), ref.ravel())[0, 1]))
    # the app shifts by whole pixels, this by fractions: alike, not equal
    assert min(corr) > 0.8 and np.mean(corr) > 0.9
    assert not out[-1].any()  # a blank image stays blank


def test_augment_drawn_gives_normalised_varied_digits(mnist_small):
    T = tf()
    T.random.set_seed(4)
    x = (mnist_small.x_train[:128].astype(np.float32) / 255.0)[..., None]
    out = augment_drawn(T.constant(x), T).numpy()
    assert out.shape == x.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    sizes = [max(ink_extent(o[..., 0])) for o in out if o.max() > 0.05]
    assert len(sizes) == 128 and np.median(sizes) in (19, 20, 21)  # scaled like the app does
    ink = (out > 0.5).reshape(128, -1).sum(axis=1) / np.maximum(
        (x > 0.5).reshape(128, -1).sum(axis=1), 1)
    assert ink.min() < 0.9 and ink.max() > 1.8  # thinner and much thicker strokes both occur
    tilt = []
    for o in out[..., 0]:
        ys, xs = np.nonzero(o > 0.3)
        tilt.append(np.cov(xs, ys)[0, 1] / max(np.var(ys), 1e-6))
    assert np.std(tilt) > 0.1  # slants and rotations of both signs
    assert not np.allclose(out, x, atol=0.05)


def test_augment_settings_old_and_new():
    assert parse_augment(True) is True and parse_augment(False) is False
    assert parse_augment("mnist") is True and parse_augment("none") is False
    assert parse_augment("Drawn") == "drawn" and parse_augment("off") is False
    assert [augment_mode(v) for v in (False, True, "drawn")] == ["none", "mnist", "drawn"]
    with pytest.raises(TrainingError, match="none, mnist, drawn"):
        parse_augment("sideways")
    assert TrainConfig(arch="best").resolved().augment == "drawn"
    assert TrainConfig(arch="fast").resolved().augment is False
    assert TrainConfig(arch="fast", augment="drawn").resolved().augment == "drawn"
    assert TrainConfig(arch="best", augment=True).resolved().augment is True  # old configs


def test_pipeline_applies_the_drawn_augmentation(mnist_small):
    from digitpad.core.training.pipeline import make_train_dataset

    x = (mnist_small.x_train[:64].astype(np.float32) / 255.0)[..., None]
    y = mnist_small.y_train[:64].astype(np.int64)
    for mode, changed in ((False, False), ("drawn", True)):
        ds = make_train_dataset(x, y, batch_size=64, seed=0, augment=mode, one_hot=False)
        xb, yb = next(iter(ds))
        order = np.argsort(yb.numpy(), kind="stable")
        assert xb.shape == (64, 28, 28, 1)
        same = math.isclose(float(np.sort(xb.numpy().ravel()).sum()),
                            float(np.sort(x.ravel()).sum()), rel_tol=1e-5)
        assert same != changed, (mode, order[:1])


def test_pipeline_scales_8_bit_images_exactly_as_to_model_input(mnist_small):
    """The trainer hands the pipeline uint8 pixels (a quarter of the bytes to split and copy);
    each batch must be bit-for-bit what ``to_model_input`` would have given."""
    from digitpad.core.data import to_model_input
    from digitpad.core.data.pixels import model_pixels
    from digitpad.core.training.pipeline import make_train_dataset

    pixels = model_pixels(mnist_small.x_train[:96])
    assert pixels.dtype == np.uint8 and pixels.shape == (96, 28, 28, 1)
    y = np.arange(96, dtype=np.int64)  # labels = row numbers, to find each image again
    ds = make_train_dataset(pixels, y, batch_size=32, seed=3, augment=False, one_hot=False)
    expected = to_model_input(pixels)
    seen = 0
    for xb, yb in ds:
        assert xb.dtype.name == "float32"
        np.testing.assert_array_equal(xb.numpy(), expected[yb.numpy()])
        seen += len(yb)
    assert seen == 96
