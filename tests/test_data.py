"""Data sources and validation: bundled MNIST, IDX folders, .npz, image folders, Keras, bad data."""

from __future__ import annotations

import gzip
import os
import struct
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import digitpad.core.tfsetup as tfsetup
from digitpad.core.data import (
    IMAGE_SIDE,
    PIXEL_MAX,
    Dataset,
    load_dataset,
    pixels_to_unit,
    read_idx,
    to_model_input,
    unit_to_pixels,
    validate_arrays,
)
from digitpad.core.data.limits import MAX_ARRAY_BYTES, MAX_IMAGES, check_declared, size_words
from digitpad.core.data.regular import file_kind
from digitpad.core.errors import DataError

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def write_idx(path: Path, arr: np.ndarray, *, gz: bool) -> Path:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    raw = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)
    return path


def write_idx_folder(folder: Path, ds: Dataset, *, gz: bool, test: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / "train-images-idx3-ubyte", ds.x_train, gz=gz)
    write_idx(folder / "train-labels-idx1-ubyte", ds.y_train, gz=gz)
    if test:
        write_idx(folder / "t10k-images-idx3-ubyte", ds.x_test, gz=gz)
        write_idx(folder / "t10k-labels-idx1-ubyte", ds.y_test, gz=gz)
    return folder


@pytest.fixture(scope="module")
def small(mnist_small) -> Dataset:
    return mnist_small.subset(n_train=300, n_test=100, seed=1)


# ---------------------------------------------------------------------------------------------
# bundled MNIST


def test_bundled_mnist_is_the_real_set():
    ds = load_dataset(None)
    assert ds.x_train.shape == (60000, 28, 28) and ds.x_train.dtype == np.uint8
    assert ds.y_train.shape == (60000,) and ds.y_train.dtype == np.int64
    assert ds.x_test.shape == (10000, 28, 28) and ds.y_test.dtype == np.int64
    assert np.bincount(ds.y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(ds.y_test).tolist() == TEST_COUNTS
    assert ds.x_train.max() == 255 and ds.x_train.min() == 0
    assert "60000 train / 10000 test" in ds.source


def test_bundled_is_cached_and_read_only():
    a = load_dataset("mnist")
    b = load_dataset("bundled")
    assert a is b
    with pytest.raises(ValueError):
        a.x_train[0, 0, 0] = 1
    with pytest.raises(ValueError):
        a.y_train[0] = 1
    sub = a.subset(n_train=10, n_test=5)
    sub.x_train[0, 0, 0] = 7  # subsets are private, writable copies
    assert not np.shares_memory(sub.x_train, a.x_train)


def test_subset_sizes_dtypes_and_determinism(mnist_small):
    a = mnist_small.subset(n_train=100, n_test=50, seed=3)
    b = mnist_small.subset(n_train=100, n_test=50, seed=3)
    c = mnist_small.subset(n_train=100, n_test=50, seed=4)
    assert len(a.x_train) == 100 and len(a.x_test) == 50
    assert a.x_train.dtype == np.uint8 and a.y_train.dtype == np.int64
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert mnist_small.subset().x_train.shape == mnist_small.x_train.shape


# ---------------------------------------------------------------------------------------------
# IDX


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_idx_folder_round_trip(tmp_path, small, gz):
    folder = write_idx_folder(tmp_path / "idx", small, gz=gz)
    ds = load_dataset(folder)
    np.testing.assert_array_equal(ds.x_train, small.x_train)
    np.testing.assert_array_equal(ds.y_train, small.y_train)
    np.testing.assert_array_equal(ds.x_test, small.x_test)
    np.testing.assert_array_equal(ds.y_test, small.y_test)
    assert ds.y_train.dtype == np.int64
    assert "300 train / 100 test" in ds.source


def test_idx_folder_without_test_split(tmp_path, small):
    ds = load_dataset(write_idx_folder(tmp_path / "idx", small, gz=True, test=False))
    assert ds.x_test is None and ds.y_test is None and len(ds.x_train) == 300


def test_idx_folder_with_mismatched_counts(tmp_path, small):
    folder = write_idx_folder(tmp_path / "idx", small, gz=True)
    write_idx(folder / "train-labels-idx1-ubyte", small.y_train[:-1], gz=True)
    with pytest.raises(DataError, match="300 images but 299 labels"):
        load_dataset(folder)


def test_idx_folder_with_labels_out_of_range(tmp_path, small):
    folder = write_idx_folder(tmp_path / "idx", small, gz=False)
    y = small.y_train.copy()
    y[5] = 10
    write_idx(folder / "train-labels-idx1-ubyte", y, gz=False)
    with pytest.raises(DataError, match="0–9, but 10 occurs"):
        load_dataset(folder)


def test_idx_folder_missing_labels(tmp_path, small):
    folder = write_idx_folder(tmp_path / "idx", small, gz=True)
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="no train-labels-idx1-ubyte"):
        load_dataset(folder)


def test_read_idx_bad_files(tmp_path, small):
    good = write_idx(tmp_path / "x", small.x_train[:5], gz=False)
    raw = good.read_bytes()

    cases = {
        "truncated-data": raw[:-10],
        "truncated-header": raw[:6],
        "bad-magic": b"\x89PNG" + raw[4:],
        "empty": b"",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DataError) as err:
            read_idx(path)
        assert name in str(err.value) and "\n" not in str(err.value)

    gz = write_idx(tmp_path / "y", small.x_train[:5], gz=True)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gz.read_bytes()[:-30])
    with pytest.raises(DataError, match="truncated or corrupt gzip"):
        read_idx(cut)
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "missing")


def test_read_idx_other_element_types(tmp_path):
    values = np.array([[1.5, -2.0], [3.25, 4.0]], dtype=">f4")
    raw = bytes([0, 0, 0x0D, 2]) + struct.pack(">2I", 2, 2) + values.tobytes()
    path = tmp_path / "floats-idx"
    path.write_bytes(raw)
    np.testing.assert_array_equal(read_idx(path), values.astype(np.float32))


# ---------------------------------------------------------------------------------------------
# .npz


def test_npz_round_trip(tmp_path, small):
    path = tmp_path / "mnist.npz"
    np.savez_compressed(
        path, x_train=small.x_train, y_train=small.y_train, x_test=small.x_test, y_test=small.y_test
    )
    ds = load_dataset(path)
    np.testing.assert_array_equal(ds.x_train, small.x_train)
    np.testing.assert_array_equal(ds.y_test, small.y_test)


def test_npz_without_test_split_and_float_flat_pixels(tmp_path, small):
    path = tmp_path / "flat.npz"
    x = small.x_train.reshape(-1, 784).astype(np.float32) / 255.0  # scaled once, flattened
    np.savez(path, x_train=x, y_train=small.y_train.astype(np.uint8))
    ds = load_dataset(path)
    assert ds.x_test is None
    np.testing.assert_array_equal(ds.x_train, small.x_train)  # converted back exactly, once


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda x, y: (x, y / 255.0), "fractions between 0 and 1 — were the labels scaled instead of the pixels"),
        (lambda x, y: (x, y[:-3]), "300 images but 297 labels"),
        (lambda x, y: (x, np.where(np.arange(len(y)) == 7, 10, y)), "0–9, but 10 occurs"),
        (lambda x, y: (x, y - 1), "0–9, but -1 occurs"),
        (lambda x, y: (np.zeros((len(y), 32, 32), np.uint8), y), "must be 28x28, but .* of shape 32x32"),
        (lambda x, y: (x[:, :, :, None].repeat(3, axis=3), y), "of shape 28x28x3"),
        (lambda x, y: (np.where(x > 0, np.nan, 0.0), y), "NaN or infinite"),
        (lambda x, y: (x.astype(np.float64) * 2, y), "go up to 510"),
        (lambda x, y: (x.astype(np.float64) - 1, y), "go down to -1"),
        (lambda x, y: (x / 255.0 / 255.0, y), "scaled twice"),
        (lambda x, y: (x[:0], y[:0]), "holds no images"),
        (lambda x, y: (x, y + 0.5), "whole numbers"),
    ],
    ids=[
        "labels-scaled",
        "count-mismatch",
        "label-10",
        "label-negative",
        "32x32",
        "rgb",
        "nan",
        "over-255",
        "negative-pixels",
        "double-scaled",
        "empty",
        "fractional-labels",
    ],
)
def test_npz_bad_data(tmp_path, small, change, message):
    x, y = change(small.x_train, small.y_train)
    path = tmp_path / "bad.npz"
    np.savez(path, x_train=x, y_train=y)
    with pytest.raises(DataError, match=message) as err:
        load_dataset(path)
    assert "\n" not in str(err.value)
    assert "bad.npz" in str(err.value)  # every message names the file, the empty case included


def test_npz_structure_errors(tmp_path, small):
    path = tmp_path / "keys.npz"
    np.savez(path, images=small.x_train, labels=small.y_train)
    with pytest.raises(DataError, match="no x_train or y_train array .*images, labels"):
        load_dataset(path)
    path = tmp_path / "half.npz"
    np.savez(path, x_train=small.x_train, y_train=small.y_train, x_test=small.x_test)
    with pytest.raises(DataError, match="no y_test"):
        load_dataset(path)
    path = tmp_path / "pickle.npz"
    np.savez(path, x_train=np.array([{"a": 1}], dtype=object), y_train=np.zeros(1))
    with pytest.raises(DataError, match="Python objects"):
        load_dataset(path)
    path = tmp_path / "junk.npz"
    path.write_text("not a zip")
    with pytest.raises(DataError, match="not a valid .npz"):
        load_dataset(path)


# ---------------------------------------------------------------------------------------------
# validate_arrays and to_model_input


def test_validate_arrays_layouts(small):
    x, y = small.x_train[:20], small.y_train[:20]
    for xs in (x, x.reshape(20, 784), x[..., None], x.astype(np.float64), x / 255.0):
        vx, vy = validate_arrays(xs, y)
        assert vx.dtype == np.uint8 and vx.shape == (20, 28, 28)
        np.testing.assert_array_equal(vx, x)
    onehot = np.eye(10)[y]
    np.testing.assert_array_equal(validate_arrays(x, onehot)[1], y)
    np.testing.assert_array_equal(validate_arrays(x, y[:, None].astype(np.float32))[1], y)
    vx, _ = validate_arrays(x, y)
    assert vx is x or np.shares_memory(vx, x)  # uint8 input is not copied
    with pytest.raises(DataError, match="not one-hot"):
        validate_arrays(x, onehot * 0.5)


def test_to_model_input_is_the_one_scaling_place(small):
    x = small.x_train[:8]
    out = to_model_input(x)
    assert out.shape == (8, 28, 28, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 0], x / 255.0, atol=1e-7)
    one = to_model_input(out[0, ..., 0])
    assert one.shape == (1, 28, 28, 1)
    np.testing.assert_array_equal(to_model_input(out), out)
    assert to_model_input(x.reshape(8, 784)).shape == (8, 28, 28, 1)
    with pytest.raises(DataError, match="scaled exactly once"):
        to_model_input(x.astype(np.float32))  # unscaled floats would be silently wrong
    with pytest.raises(DataError, match="NaN"):
        to_model_input(np.full((28, 28), np.nan, np.float32))
    with pytest.raises(DataError, match="uint8 pixels or floats"):
        to_model_input(x.astype(np.int64))
    with pytest.raises(DataError, match="28x28"):
        to_model_input(np.zeros((3, 32, 32), np.uint8))


def test_pixel_scaling_round_trips_every_level():
    levels = np.arange(PIXEL_MAX + 1, dtype=np.uint8)
    unit = pixels_to_unit(levels)
    assert unit.dtype == np.float32 and unit[0] == 0.0 and unit[-1] == np.float32(1.0)
    np.testing.assert_allclose(unit, levels / 255.0, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(unit_to_pixels(unit), levels)
    np.testing.assert_array_equal(unit_to_pixels(np.array([-0.5, 0.0, 0.5, 1.0, 2.0])), [0, 0, 128, 255, 255])
    # to_model_input scales with exactly this function
    img = np.resize(levels, (IMAGE_SIDE, IMAGE_SIDE))  # every level appears
    np.testing.assert_array_equal(to_model_input(img)[0, ..., 0], pixels_to_unit(img))


# ---------------------------------------------------------------------------------------------
# image folders


def test_image_folder_of_real_digits(tmp_path, small):
    root = tmp_path / "digits"
    chosen = []
    for digit in range(10):
        (root / str(digit)).mkdir(parents=True)
        idx = np.flatnonzero(small.y_train == digit)[:4]
        for k, i in enumerate(idx):
            img = Image.fromarray(small.x_train[i])
            if k % 2:  # half of them as dark ink on white paper, larger, RGB JPEG-free PNG
                img = Image.fromarray(255 - small.x_train[i]).resize((112, 112)).convert("RGB")
            img.save(root / str(digit) / f"{k}.png")
            chosen.append((digit, i))
    Image.new("L", (28, 28), 0).save(root / "3" / "blank.png")
    (root / "5" / "notes.txt").write_text("not an image")
    Image.fromarray(small.x_train[0]).save(root / "6" / "model.h5", format="PNG")  # not by suffix
    (root / "7" / ".hidden.png").write_bytes(b"")
    ds = load_dataset(root)
    assert ds.x_test is None and ds.y_test is None
    assert ds.x_train.dtype == np.uint8 and ds.x_train.shape == (40, 28, 28)
    assert ds.y_train.tolist() == [d for d, _ in chosen]
    assert "1 blank" in ds.source and "2 unreadable" in ds.source
    scores = []
    for k, (got, (_, i)) in enumerate(zip(ds.x_train, chosen, strict=True)):
        score = np.corrcoef(got.ravel(), small.x_train[i].ravel().astype(np.float64))[0, 1]
        # MNIST-size files come back (nearly) unchanged; enlarged, inverted ones are re-made
        # like MNIST, up to resampling and a pixel of centring
        assert score > (0.95 if k % 2 == 0 else 0.65)
        scores.append(score)
    assert np.mean(scores) > 0.9


def test_empty_and_unusable_folders(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="is empty"):
        load_dataset(empty)
    other = tmp_path / "other"
    (other / "cats").mkdir(parents=True)
    with pytest.raises(DataError, match="neither MNIST IDX files nor image folders"):
        load_dataset(other)
    blanks = tmp_path / "blanks"
    (blanks / "4").mkdir(parents=True)
    Image.new("L", (10, 10), 255).save(blanks / "4" / "white.png")
    with pytest.raises(DataError, match="no usable images; skipped 1 blank"):
        load_dataset(blanks)
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")
    stray = tmp_path / "data.csv"
    stray.write_text("1,2,3")
    with pytest.raises(DataError, match="not a data source"):
        load_dataset(stray)


# ---------------------------------------------------------------------------------------------
# keras.datasets (no network in tests: the Keras call is replaced, the wrapping is real)


def _fake_keras(load_data):
    return types.SimpleNamespace(datasets=types.SimpleNamespace(mnist=types.SimpleNamespace(load_data=load_data)))


def test_keras_source_validates_what_keras_returns(monkeypatch, small):
    result = ((small.x_train, small.y_train.astype(np.uint8)), (small.x_test, small.y_test))
    monkeypatch.setattr(tfsetup, "keras", lambda: _fake_keras(lambda: result))
    ds = load_dataset("keras")
    assert ds.source.startswith("Keras MNIST") and len(ds.x_train) == 300
    assert ds.y_train.dtype == np.int64
    bad = ((small.x_train, small.y_train / 255.0), (small.x_test, small.y_test))
    monkeypatch.setattr(tfsetup, "keras", lambda: _fake_keras(lambda: bad))
    with pytest.raises(DataError, match="labels scaled instead of the pixels"):
        load_dataset("keras")


def test_keras_source_without_network(monkeypatch):
    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/mnist.npz: None -- [Errno -3]")

    monkeypatch.setattr(tfsetup, "keras", lambda: _fake_keras(offline))
    with pytest.raises(DataError) as err:
        load_dataset("keras")
    msg = str(err.value)
    assert "could not get MNIST through Keras" in msg and "URL fetch failure" in msg
    assert "\n" not in msg and msg.endswith(".")


# ---------------------------------------------------------------------------------------------
# declared sizes and file kinds (the hostile cases themselves are in test_hostile_inputs.py)


def test_size_words_and_declared_limits():
    assert [size_words(n) for n in (999, 47_040_000, 4 * 2**30, 10**12, (2**32 - 1) ** 3)] == [
        "999 bytes", "47 MB", "4.29 GB", "1e+12 bytes", "7.92e+28 bytes"]
    assert check_declared((60_000, 28, 28), 1, "x") == 47_040_000  # MNIST fits, exactly sized
    assert check_declared((MAX_IMAGES,), 8, "y") == 8 * MAX_IMAGES
    with pytest.raises(DataError, match="declares 1,000,001 images"):
        check_declared((MAX_IMAGES + 1,), 1, "y")
    with pytest.raises(DataError, match=r"the limit is 1 GB"):
        check_declared((1, MAX_ARRAY_BYTES + 1), 1, "x")


def test_file_kind_names_what_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    kinds = [file_kind(os.stat(p).st_mode) for p in (tmp_path / "pipe", tmp_path, "/dev/null")]
    assert kinds == ["a FIFO (named pipe)", "a folder", "a character device"]
    (tmp_path / "f").write_bytes(b"x")
    assert file_kind(os.stat(tmp_path / "f").st_mode) == "a regular file"
