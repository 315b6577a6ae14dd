"""MNIST-style data sets: loading, validation and the one place pixels are scaled.

Sources (:func:`load_dataset`):

* ``None``, ``"mnist"``, ``"bundled"`` -- the real MNIST IDX ``.gz`` files shipped with digitpad
  (decoded once per process and cached read-only);
* ``"keras"`` -- ``keras.datasets.mnist.load_data()``, which downloads and caches ``mnist.npz``;
* a ``.npz`` file in the Keras ``mnist.npz`` layout (``x_train``, ``y_train`` and optionally
  ``x_test``, ``y_test``);
* a folder of IDX files (``train-images-idx3-ubyte[.gz]`` ... ``t10k-labels-idx1-ubyte[.gz]``);
* a folder with sub-folders ``0/`` ... ``9/`` of images, each normalised like MNIST
  (:func:`digitpad.core.normalize.normalize_image`); it has no test split.

Everything loaded goes through :func:`validate_arrays`, which turns every way data can be wrong --
including the classic tutorial bug of dividing the *labels* by 255 instead of the pixels -- into
a :class:`~digitpad.core.errors.DataError` with one sentence. Pixels are stored as uint8 and scaled
to [0, 1] in exactly one place, :func:`to_model_input`.
"""

from __future__ import annotations

import functools
import gzip
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad.core.errors import DataError, DigitpadError
from digitpad.core.paths import bundled_mnist_dir

IMAGE_SIDE = 28
NUM_CLASSES = 10

_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_STEMS = {
    "x_train": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "y_train": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "x_test": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "y_test": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
_IMAGE_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm",
    ".pnm", ".ico", ".tga", ".jp2", ".j2k", ".jfif", ".dib", ".pcx", ".sgi", ".im", ".xbm",
}  # fmt: skip


@dataclass(frozen=True)
class Dataset:
    """Training (and optionally test) images with labels.

    Attributes
    ----------
    x_train : numpy.ndarray
        uint8 (N, 28, 28), 0 = background, 255 = ink.
    y_train : numpy.ndarray
        int64 (N,), values 0..9.
    x_test, y_test : numpy.ndarray or None
        The same for the test split, or None when the source has none (an image folder).
    source : str
        Human description, e.g. ``"bundled MNIST (60000 train / 10000 test)"``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    source: str

    def subset(self, n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> Dataset:
        """Return a random subset of at most ``n_train`` training and ``n_test`` test images.

        Parameters
        ----------
        n_train, n_test : int or None
            Sizes wanted; None (or a size at least the split's length) keeps the whole split.
        seed : int
            Seed of the random permutation; the chosen images keep their original order.

        Returns
        -------
        Dataset
            A new data set with the same dtypes.
        """
        rng = np.random.default_rng(seed)

        def pick(x, y, n):
            if x is None or n is None or n >= len(x):
                return x, y
            if n < 0:
                raise DataError(f"a subset size must be positive, not {n}.")
            idx = np.sort(rng.permutation(len(x))[:n])
            return x[idx], y[idx]

        xtr, ytr = pick(self.x_train, self.y_train, n_train)
        xte, yte = pick(self.x_test, self.y_test, n_test)
        return Dataset(xtr, ytr, xte, yte, f"{self.source} (subset {len(xtr)} train)")


# --------------------------------------------------------------------------------------------
# IDX files


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw, detected from its content).

    Parameters
    ----------
    path : str or os.PathLike
        The file, e.g. ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    numpy.ndarray
        Array of the shape in the header; unsigned-byte files (all of MNIST) give a read-only
        uint8 array, other IDX element types their native dtype.

    Raises
    ------
    DataError
        Missing, unreadable, truncated or not an IDX file, or a size that does not match its header.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DataError(f"IDX file {path} does not exist.") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder, not an IDX file.") from None
    except (EOFError, gzip.BadGzipFile, zlib.error):
        raise DataError(f"IDX file {path.name} is a truncated or corrupt gzip file.") from None
    except OSError as exc:
        raise DataError(f"cannot read IDX file {path.name}: {exc.strerror or exc}.") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataError(f"{path.name} is not an IDX file (bad magic number).")
    dtype = _IDX_TYPES[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{path.name} has a truncated IDX header.")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{path.name} should hold {expected} bytes of data for shape {dims} "
            f"but holds {len(raw) - header}."
        )
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    if dtype.byteorder == ">":
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def _find_idx(folder: Path, key: str) -> Path | None:
    for stem in _IDX_STEMS[key]:
        for name in (stem + ".gz", stem):
            if (folder / name).is_file():
                return folder / name
    return None


def _load_idx_folder(folder: Path, description: str) -> Dataset:
    found = {key: _find_idx(folder, key) for key in _IDX_STEMS}
    for key in ("x_train", "y_train"):
        if found[key] is None:
            raise DataError(f"{folder} has no {_IDX_STEMS[key][0]}[.gz] file.")
    if (found["x_test"] is None) != (found["y_test"] is None):
        missing = "x_test" if found["x_test"] is None else "y_test"
        raise DataError(f"{folder} has test files but no {_IDX_STEMS[missing][0]}[.gz] file.")
    x_train, y_train = validate_arrays(
        read_idx(found["x_train"]), read_idx(found["y_train"]), what=f"the training files in {folder}"
    )
    x_test = y_test = None
    if found["x_test"] is not None:
        x_test, y_test = validate_arrays(
            read_idx(found["x_test"]), read_idx(found["y_test"]), what=f"the test files in {folder}"
        )
    return Dataset(x_train, y_train, x_test, y_test, _describe(description, x_train, x_test))


@functools.lru_cache(maxsize=2)
def _load_bundled(folder: str) -> Dataset:
    ds = _load_idx_folder(Path(folder), "bundled MNIST")
    for arr in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        if arr is not None:
            arr.setflags(write=False)
    return ds


def _describe(name: str, x_train: np.ndarray, x_test: np.ndarray | None) -> str:
    if x_test is None:
        return f"{name} ({len(x_train)} train, no test split)"
    return f"{name} ({len(x_train)} train / {len(x_test)} test)"


# --------------------------------------------------------------------------------------------
# validation


def _labels(y: np.ndarray, n: int, what: str) -> np.ndarray:
    if y.dtype == object or not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
        raise DataError(f"the labels of {what} must be numbers, not {y.dtype} values.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and y.shape[1] == NUM_CLASSES and len(y) > 0:
        # one-hot labels (keras.utils.to_categorical): accept when every row is exactly one-hot
        if np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1):
            y = np.argmax(y, axis=1)
        else:
            raise DataError(f"the labels of {what} have 10 columns but are not one-hot rows.")
    if y.ndim != 1:
        raise DataError(f"the labels of {what} must be a 1-D array, not one of shape {y.shape}.")
    if len(y) != n:
        raise DataError(f"{what} has {n} images but {len(y)} labels.")
    if np.iscomplexobj(y):
        raise DataError(f"the labels of {what} must be real numbers.")
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)):
            raise DataError(f"the labels of {what} contain NaN or infinite values.")
        whole = np.all(y == np.round(y))
        if not whole and float(y.min()) >= 0.0 and float(y.max()) <= 1.0:
            raise DataError(
                f"the labels of {what} are fractions between 0 and 1 — "
                "were the labels scaled instead of the pixels?"
            )
        if not whole:
            raise DataError(f"the labels of {what} must be whole numbers 0–9, not fractions.")
    lo, hi = (int(y.min()), int(y.max())) if len(y) else (0, 0)
    if lo < 0 or hi > NUM_CLASSES - 1:
        bad = lo if lo < 0 else hi
        raise DataError(f"the labels of {what} must be digits 0–9, but {bad} occurs.")
    return y.astype(np.int64)


def _pixels(x: np.ndarray, what: str) -> np.ndarray:
    if x.dtype == np.uint8:
        return x
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise DataError(f"the images of {what} must be numbers, not {x.dtype} values.")
    if np.iscomplexobj(x):
        raise DataError(f"the images of {what} must be real numbers.")
    if x.dtype == np.bool_:
        return x.astype(np.uint8) * np.uint8(255)
    lo, hi = float(x.min()), float(x.max())
    if np.issubdtype(x.dtype, np.floating):
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise DataError(f"the images of {what} contain NaN or infinite pixel values.")
        if lo < 0.0:
            raise DataError(f"the pixels of {what} go down to {lo:g}; they must be in [0, 1] or [0, 255].")
        if hi > 255.0:
            raise DataError(f"the pixels of {what} go up to {hi:g}; they must be in [0, 1] or [0, 255].")
        if 0.0 < hi <= 1.0 / 255.0 + 1e-6:
            raise DataError(
                f"the pixels of {what} are all below 1/255 — were the pixels scaled twice?"
            )
        scale = 255.0 if hi <= 1.0 else 1.0
        return np.clip(np.rint(x * scale), 0, 255).astype(np.uint8)
    if lo < 0 or hi > 255:
        raise DataError(f"the pixels of {what} range over {lo:g}..{hi:g}; they must be in 0..255.")
    return x.astype(np.uint8)


def validate_arrays(x, y, *, what: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """Check images and labels and bring them to the digitpad layout.

    Parameters
    ----------
    x : array_like
        Images: (N, 28, 28), (N, 28, 28, 1) or (N, 784); uint8, integers in 0..255, or floats
        in [0, 1] or [0, 255] (converted once to uint8).
    y : array_like
        Labels: (N,) or (N, 1) integers 0..9 (whole-valued floats are accepted), or one-hot (N, 10).
    what : str
        How to name the data in messages, e.g. ``"data.npz"``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x, y)`` as uint8 (N, 28, 28) and int64 (N,). uint8 input is returned without a copy.

    Raises
    ------
    DataError
        Empty data, a count mismatch (naming both counts), labels that are not whole numbers 0..9
        (naming the "labels scaled instead of pixels" bug when they are fractions in [0, 1]),
        images that are not 28x28, NaN/inf pixels or pixels out of range.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim == 0 or x.shape[0] == 0 or x.size == 0:
        raise DataError(f"{what} holds no images.")
    n = x.shape[0]
    if x.ndim == 2 and x.shape[1] == IMAGE_SIDE * IMAGE_SIDE:
        x = x.reshape(n, IMAGE_SIDE, IMAGE_SIDE)
    elif x.ndim == 4 and x.shape[3] == 1:
        x = x[..., 0]
    if x.ndim != 3 or x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        dims = "x".join(str(d) for d in x.shape[1:])
        raise DataError(f"images must be 28x28, but {what} holds images of shape {dims}.")
    if y.ndim == 0:
        raise DataError(f"the labels of {what} must be an array, not a single value.")
    y = _labels(y, n, what)
    x = _pixels(x, what)
    return x, y


def to_model_input(x: np.ndarray) -> np.ndarray:
    """Scale images to the model's input: float32 (N, 28, 28, 1) in [0, 1].

    This is the one place digitpad scales pixels: uint8 input is divided by 255; float input
    must already be in [0, 1] (e.g. the output of normalisation) and passes through as float32.

    Parameters
    ----------
    x : numpy.ndarray
        (28, 28), (N, 28, 28), (N, 28, 28, 1) or (N, 784); uint8, or float in [0, 1].

    Returns
    -------
    numpy.ndarray
        float32 (N, 28, 28, 1) in [0, 1].

    Raises
    ------
    DataError
        Float pixels outside [0, 1] or NaN (scaled twice or not at all), another dtype, or a shape
        that is not 28x28 images.
    """
    x = np.asarray(x)
    if x.ndim == 2 and x.shape == (IMAGE_SIDE, IMAGE_SIDE):
        x = x[None]
    elif x.ndim == 2 and x.shape[1] == IMAGE_SIDE * IMAGE_SIDE:
        x = x.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE, 1):
        raise DataError(f"model input must be 28x28 images, not an array of shape {x.shape}.")
    if x.dtype == np.uint8:
        return x.astype(np.float32) * np.float32(1.0 / 255.0)
    if not np.issubdtype(x.dtype, np.floating):
        raise DataError(f"model input must be uint8 pixels or floats in [0, 1], not {x.dtype}.")
    if x.size:
        lo, hi = float(x.min()), float(x.max())
        if not (lo >= 0.0 and hi <= 1.0):
            if hi != hi or lo != lo:
                raise DataError("model input contains NaN pixel values.")
            raise DataError(
                f"float model input must be in [0, 1] but ranges over {lo:g}..{hi:g} — "
                "pass uint8 pixels so they are scaled exactly once."
            )
    return x.astype(np.float32, copy=False)


# --------------------------------------------------------------------------------------------
# other sources


def _load_keras() -> Dataset:
    from digitpad.core.tfsetup import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras().datasets.mnist.load_data()
    except DigitpadError:
        raise
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"could not get MNIST through Keras ({reason.rstrip('.')}); "
            "the bundled copy (--data mnist) works offline."
        ) from None
    x_train, y_train = validate_arrays(x_train, y_train, what="Keras MNIST training data")
    x_test, y_test = validate_arrays(x_test, y_test, what="Keras MNIST test data")
    return Dataset(x_train, y_train, x_test, y_test, _describe("Keras MNIST", x_train, x_test))


def _load_npz(path: Path) -> Dataset:
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise DataError(f"cannot read {path.name}: {exc.strerror or exc}.") from None
    if magic[:2] != b"PK":  # every .npz is a zip archive
        raise DataError(f"{path.name} is not a valid .npz file (it is not a zip archive).")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{path.name} stores Python objects, which digitpad does not load.") from None
        raise DataError(f"{path.name} is not a valid .npz file.") from None
    except (OSError, EOFError, zlib.error, KeyError):
        raise DataError(f"{path.name} is not a valid .npz file (corrupt or truncated).") from None
    except Exception:  # zipfile.BadZipFile and friends
        raise DataError(f"{path.name} is not a valid .npz file.") from None
    missing = [key for key in ("x_train", "y_train") if key not in arrays]
    if missing:
        found = ", ".join(sorted(arrays)) or "nothing"
        raise DataError(
            f"{path.name} has no {' or '.join(missing)} array (it holds {found}); "
            "expected the Keras mnist.npz keys x_train, y_train, x_test, y_test."
        )
    if ("x_test" in arrays) != ("y_test" in arrays):
        missing_test = "y_test" if "x_test" in arrays else "x_test"
        raise DataError(f"{path.name} has test images or labels but no {missing_test} array.")
    x_train, y_train = validate_arrays(
        arrays["x_train"], arrays["y_train"], what=f"the training data in {path.name}"
    )
    x_test = y_test = None
    if "x_test" in arrays:
        x_test, y_test = validate_arrays(
            arrays["x_test"], arrays["y_test"], what=f"the test data in {path.name}"
        )
    return Dataset(x_train, y_train, x_test, y_test, _describe(f"{path.name}", x_train, x_test))


def _digit_folders(folder: Path) -> list[tuple[int, Path]]:
    return [
        (int(p.name), p)
        for p in sorted(folder.iterdir())
        if p.is_dir() and len(p.name) == 1 and p.name.isdigit()
    ]


def _load_image_folder(folder: Path, classes: list[tuple[int, Path]]) -> Dataset:
    from digitpad.core.errors import ImageError
    from digitpad.core.normalize import normalize_image

    images: list[np.ndarray] = []
    labels: list[int] = []
    blank = unreadable = 0
    for digit, sub in classes:
        for file in sorted(sub.iterdir()):
            if file.name.startswith(".") or not file.is_file():
                continue
            if file.suffix.lower() not in _IMAGE_SUFFIXES:
                unreadable += 1
                continue
            try:
                norm = normalize_image(file)
            except ImageError:
                unreadable += 1
                continue
            if norm.blank:
                blank += 1
                continue
            images.append(np.rint(norm.image * 255.0).astype(np.uint8))
            labels.append(digit)
    skipped = []
    if blank:
        skipped.append(f"{blank} blank")
    if unreadable:
        skipped.append(f"{unreadable} unreadable")
    note = f"; skipped {' and '.join(skipped)}" if skipped else ""
    if not images:
        raise DataError(f"the digit folders in {folder} hold no usable images{note}.")
    x, y = validate_arrays(np.stack(images), np.asarray(labels, dtype=np.int64), what=str(folder))
    return Dataset(x, y, None, None, f"image folder {folder} ({len(x)} images{note})")


def load_dataset(source: str | os.PathLike | None = None) -> Dataset:
    """Load a data set.

    Parameters
    ----------
    source : str, os.PathLike or None
        ``None``, ``"mnist"`` or ``"bundled"``: the bundled MNIST; ``"keras"``:
        ``keras.datasets.mnist.load_data()`` (downloads once, then cached in ``~/.keras``);
        a ``.npz`` file in the Keras ``mnist.npz`` layout; a folder of MNIST IDX files
        (``.gz`` or raw); or a folder with sub-folders ``0/`` ... ``9/`` of images.

    Returns
    -------
    Dataset
        Validated uint8 images and int64 labels.

    Raises
    ------
    DataError
        One sentence naming what is wrong with the source.
    """
    if source is None or str(source).strip().lower() in ("mnist", "bundled"):
        folder = bundled_mnist_dir().resolve()
        if not folder.is_dir():
            raise DataError(f"the bundled MNIST folder {folder} is missing; reinstall digitpad.")
        return _load_bundled(str(folder))
    if str(source).strip().lower() == "keras":
        return _load_keras()
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"data source {source!s} does not exist.")
    if path.is_file():
        if path.suffix.lower() == ".npz":
            return _load_npz(path)
        if "idx" in path.name.lower():
            raise DataError(f"{path.name} is a single IDX file; give the folder that holds all of them.")
        raise DataError(
            f"{path.name} is not a data source digitpad knows (a .npz file, an IDX folder or "
            "a folder of 0/ … 9/ image folders)."
        )
    try:
        entries = [p for p in path.iterdir() if not p.name.startswith(".")]
    except OSError as exc:
        raise DataError(f"cannot read the folder {path}: {exc.strerror or exc}.") from None
    if not entries:
        raise DataError(f"the data folder {path} is empty.")
    if _find_idx(path, "x_train") is not None or _find_idx(path, "y_train") is not None:
        return _load_idx_folder(path, f"IDX folder {path}")
    classes = _digit_folders(path)
    if classes:
        return _load_image_folder(path, classes)
    raise DataError(
        f"the folder {path} holds neither MNIST IDX files nor image folders named 0 … 9."
    )
