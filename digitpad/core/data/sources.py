"""Where data comes from: :func:`load_dataset`, which tells the kinds of source apart.

Sources: the bundled MNIST IDX files (decoded once per process and cached read-only),
``keras.datasets.mnist`` (downloads and caches ``mnist.npz``), a ``.npz`` file in the Keras layout
(:mod:`~digitpad.core.data.npz`), a folder of IDX files (:mod:`~digitpad.core.data.idx`), and a
folder with sub-folders ``0/`` ... ``9/`` of images (:mod:`~digitpad.core.data.image_folder`; no
test split). A source that is neither a regular file nor a folder (a FIFO, ``/dev/urandom``) is
refused before it is opened. Everything goes through
:func:`~digitpad.core.data.validate.validate_arrays`.
"""

from __future__ import annotations

import functools
import os
import stat
from pathlib import Path

from digitpad.core.data.dataset import Dataset, describe_source
from digitpad.core.data.idx import find_idx, load_idx_folder
from digitpad.core.data.image_folder import (
    digit_folders,
    load_image_folder,
    look_alike_digit_folders,
)
from digitpad.core.data.npz import load_npz
from digitpad.core.data.regular import file_kind
from digitpad.core.data.validate import validate_arrays
from digitpad.core.errors import DataError, DigitpadError
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
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DataError(f"data source {source!s} does not exist.") from None
    except OSError as exc:
        raise DataError(f"cannot read data source {source!s}: {exc.strerror or exc}.") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise DataError(
            f"data source {source!s} is {file_kind(mode)}, not a regular file or a folder."
        )
    if stat.S_ISREG(mode):
        if path.suffix.lower() == ".npz":
            return load_npz(path)
        if "idx" in path.name.lower():
            raise DataError(f"{path.name} is a single IDX file; give the folder that holds all of them.")
        raise DataError(
            f"{path.name} is not a data source digitpad knows (a .npz file, an IDX folder or "
            "a folder of 0/ … 9/ image folders)."
        )
    try:
        with os.scandir(path) as entries:
            empty = not any(not e.name.startswith(".") for e in entries)
        if empty:
            raise DataError(f"the data folder {path} is empty.")
        if find_idx(path, "x_train") is not None or find_idx(path, "y_train") is not None:
            return load_idx_folder(path, f"IDX folder {path}")
        classes = digit_folders(path)
        if classes:
            return load_image_folder(path, classes)
        look_alikes = look_alike_digit_folders(path)
    except OSError as exc:
        raise DataError(f"cannot read the folder {path}: {exc.strerror or exc}.") from None
    if look_alikes:
        names = ", ".join(repr(n) for n in look_alikes)
        which = f"a sub-folder named {names}, which is" if len(look_alikes) == 1 else (
            f"sub-folders named {names}, which are")
        raise DataError(
            f"the folder {path} has {which} not one of the ASCII digit folders 0 … 9 that an "
            "image folder needs."
        )
    raise DataError(
        f"the folder {path} holds neither MNIST IDX files nor image folders named 0 … 9."
    )
