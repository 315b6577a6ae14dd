"""MNIST IDX files: reading one file, and loading a folder of them as a :class:`Dataset`."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from digitpad.core.data.dataset import Dataset, describe_source
from digitpad.core.data.limits import check_declared, shape_words
from digitpad.core.data.regular import open_regular
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


def _read_into(fh, view: memoryview) -> int:
    """Fill ``view`` from ``fh`` as far as the data goes; return how many bytes were read."""
    got = 0
    while got < len(view):
        n = fh.readinto(view[got:])
        if not n:
            break
        got += n
    return got


def _read_stream(fh, name: str, file_size: int | None) -> np.ndarray:
    """Read one IDX stream; ``file_size`` is the raw file's size, or None for gzip content."""
    head = fh.read(4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES:
        raise DataError(f"{name} is not an IDX file (bad magic number).")
    dtype, ndim = _IDX_TYPES[head[2]], head[3]
    dim_bytes = fh.read(4 * ndim)
    if ndim == 0 or len(dim_bytes) < 4 * ndim:
        raise DataError(f"{name} has a truncated IDX header.")
    dims = struct.unpack(f">{ndim}I", dim_bytes)
    expected = check_declared(dims, dtype.itemsize, name)
    mismatch = f"{name} should hold {expected:,} bytes of data for shape {shape_words(dims)} but holds"
    if file_size is not None and file_size - 4 - 4 * ndim != expected:
        raise DataError(f"{mismatch} {file_size - 4 - 4 * ndim:,}.")
    buf = np.empty(expected, dtype=np.uint8)
    got = _read_into(fh, memoryview(buf))
    if got < expected:
        raise DataError(f"{mismatch} {got:,}.")
    if fh.read(1):
        raise DataError(f"{mismatch} more.")
    arr = buf.view(dtype).reshape(dims)
    if dtype.byteorder == ">":
        arr = arr.astype(dtype.newbyteorder("="))
    arr.setflags(write=False)
    return arr


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw, detected from its content), with bounded memory.

    The header is read and checked first (:func:`~digitpad.core.data.limits.check_declared`); then
    exactly the declared number of bytes is read into one array, so neither a header declaring
    terabytes nor a small gzip file expanding without end can take more memory than the limit.

    Parameters
    ----------
    path : str or os.PathLike
        The file, e.g. ``train-images-idx3-ubyte.gz``; a regular file (a FIFO or device is refused).

    Returns
    -------
    numpy.ndarray
        Read-only array of the shape in the header; unsigned-byte files (all of MNIST) give uint8,
        other IDX element types their native dtype.

    Raises
    ------
    DataError
        Missing, not a regular file, unreadable, truncated or not an IDX file, a size that does not
        match its header, or a header declaring more than the limits.
    """
    path = Path(path)
    with open_regular(path, lambda why: DataError(f"cannot read IDX file {path}: {why}.")) as raw:
        try:
            gz = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            if gz:
                with gzip.GzipFile(fileobj=raw, mode="rb") as fh:
                    return _read_stream(fh, path.name, None)
            return _read_stream(raw, path.name, os.fstat(raw.fileno()).st_size)
        except (EOFError, gzip.BadGzipFile, zlib.error):
            raise DataError(f"IDX file {path.name} is a truncated or corrupt gzip file.") from None
        except OSError as exc:
            raise DataError(f"cannot read IDX file {path.name}: {exc.strerror or exc}.") from None


def find_idx(folder: Path, key: str) -> Path | None:
    """The IDX file for ``key`` (``"x_train"``, ``"y_train"``, ``"x_test"``, ``"y_test"``) in ``folder``, if any."""
    for stem in IDX_STEMS[key]:
        for name in (stem + ".gz", stem):
            if (folder / name).exists():  # read_idx refuses folders, FIFOs and devices
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
