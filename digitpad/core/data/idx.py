"""MNIST IDX files: reading one file, and loading a folder of them as a :class:`Dataset`."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from digitpad.core.data.dataset import Dataset, describe_source
from digitpad.core.data.validate import validate_arrays
from digitpad.core.errors import DataError

_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
#: File name stems of the four MNIST IDX files (official name first, then the common variant).
IDX_STEMS = {
    "x_train": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "y_train": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "x_test": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "y_test": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


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


def find_idx(folder: Path, key: str) -> Path | None:
    """The IDX file for ``key`` (``"x_train"``, ``"y_train"``, ``"x_test"``, ``"y_test"``) in ``folder``, if any."""
    for stem in IDX_STEMS[key]:
        for name in (stem + ".gz", stem):
            if (folder / name).is_file():
                return folder / name
    return None


def load_idx_folder(folder: Path, description: str) -> Dataset:
    """Load a folder of MNIST IDX files (the test pair is optional) as a validated :class:`Dataset`.

    Parameters
    ----------
    folder : pathlib.Path
        Folder holding ``train-images-idx3-ubyte[.gz]`` and ``train-labels-idx1-ubyte[.gz]``, and
        optionally the ``t10k-`` pair.
    description : str
        Name for :attr:`Dataset.source`; the counts are added.

    Raises
    ------
    DataError
        A training file or half of the test pair is missing, or a file is bad.
    """
    found = {key: find_idx(folder, key) for key in IDX_STEMS}
    for key in ("x_train", "y_train"):
        if found[key] is None:
            raise DataError(f"{folder} has no {IDX_STEMS[key][0]}[.gz] file.")
    if (found["x_test"] is None) != (found["y_test"] is None):
        missing = "x_test" if found["x_test"] is None else "y_test"
        raise DataError(f"{folder} has test files but no {IDX_STEMS[missing][0]}[.gz] file.")
    x_train, y_train = validate_arrays(
        read_idx(found["x_train"]), read_idx(found["y_train"]), what=f"the training files in {folder}"
    )
    x_test = y_test = None
    if found["x_test"] is not None:
        x_test, y_test = validate_arrays(
            read_idx(found["x_test"]), read_idx(found["y_test"]), what=f"the test files in {folder}"
        )
    return Dataset(x_train, y_train, x_test, y_test, describe_source(description, x_train, x_test))
