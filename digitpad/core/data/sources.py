"""Where data comes from: :func:`load_dataset` and one loader per kind of source.

Sources: the bundled MNIST IDX files (decoded once per process and cached read-only),
``keras.datasets.mnist`` (downloads and caches ``mnist.npz``), a ``.npz`` file in the Keras layout,
a folder of IDX files, and a folder with sub-folders ``0/`` ... ``9/`` of images (each normalised
like MNIST; no test split). Everything goes through :func:`~digitpad.core.data.validate.validate_arrays`.
"""

from __future__ import annotations

import functools
import os
import zlib
from pathlib import Path

import numpy as np

from digitpad.core.data.dataset import Dataset, describe_source
from digitpad.core.data.idx import find_idx, load_idx_folder
from digitpad.core.data.pixels import unit_to_pixels
from digitpad.core.data.validate import validate_arrays
from digitpad.core.errors import DataError, DigitpadError, ImageError
from digitpad.core.paths import bundled_mnist_dir


@functools.lru_cache(maxsize=2)
def _load_bundled(folder: str) -> Dataset:
    ds = load_idx_folder(Path(folder), "bundled MNIST")
    for arr in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        if arr is not None:
            arr.setflags(write=False)
    return ds


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
    return Dataset(x_train, y_train, x_test, y_test, describe_source("Keras MNIST", x_train, x_test))


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
    return Dataset(x_train, y_train, x_test, y_test, describe_source(f"{path.name}", x_train, x_test))


def _digit_folders(folder: Path) -> list[tuple[int, Path]]:
    return [
        (int(p.name), p)
        for p in sorted(folder.iterdir())
        if p.is_dir() and len(p.name) == 1 and p.name.isdigit()
    ]


def _load_image_folder(folder: Path, classes: list[tuple[int, Path]]) -> Dataset:
    # imported here, not at the top: images and normalize build on digitpad.core.data.pixels
    from digitpad.core.images import is_image_path
    from digitpad.core.normalize import normalize_image

    images: list[np.ndarray] = []
    labels: list[int] = []
    blank = unreadable = 0
    for digit, sub in classes:
        for file in sorted(sub.iterdir()):
            if file.name.startswith(".") or not file.is_file():
                continue
            if not is_image_path(file):
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
            images.append(unit_to_pixels(norm.image))
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
    if find_idx(path, "x_train") is not None or find_idx(path, "y_train") is not None:
        return load_idx_folder(path, f"IDX folder {path}")
    classes = _digit_folders(path)
    if classes:
        return _load_image_folder(path, classes)
    raise DataError(
        f"the folder {path} holds neither MNIST IDX files nor image folders named 0 … 9."
    )
