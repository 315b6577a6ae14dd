"""MNIST-style data sets: loading, validation and the one place pixels are scaled.

(Minimal first version: bundled IDX loading, subset and to_model_input. Extended by the data work.)
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad.core.errors import DataError
from digitpad.core.paths import bundled_mnist_dir

IMAGE_SIDE = 28
NUM_CLASSES = 10


@dataclass(frozen=True)
class Dataset:
    """Training (and optionally test) images with labels, images uint8 (N, 28, 28) ink bright."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    source: str

    def subset(self, n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> Dataset:
        """Return a random subset of at most ``n_train`` training and ``n_test`` test images."""
        rng = np.random.default_rng(seed)

        def pick(x, y, n):
            if x is None or n is None or n >= len(x):
                return x, y
            idx = np.sort(rng.permutation(len(x))[:n])
            return x[idx], y[idx]

        xtr, ytr = pick(self.x_train, self.y_train, n_train)
        xte, yte = pick(self.x_test, self.y_test, n_test)
        return Dataset(xtr, ytr, xte, yte, f"{self.source} (subset {len(xtr)} train)")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw) into a uint8 array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read IDX file {path.name}: {exc}.") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path.name} is not an IDX file (bad magic number).")
    if raw[2] != 0x08:
        raise DataError(f"{path.name} holds IDX type 0x{raw[2]:02x}; only unsigned bytes are supported.")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{path.name} has a truncated IDX header.")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != expected:
        raise DataError(
            f"{path.name} should hold {expected} bytes of data for shape {dims} but holds {len(raw) - header}."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _load_idx_folder(folder: Path, description: str) -> Dataset:
    def find(stem: str) -> Path:
        for name in (stem + ".gz", stem):
            if (folder / name).exists():
                return folder / name
        raise DataError(f"{folder} has no {stem}[.gz] file.")

    x_train = read_idx(find("train-images-idx3-ubyte"))
    y_train = read_idx(find("train-labels-idx1-ubyte"))
    x_test = read_idx(find("t10k-images-idx3-ubyte"))
    y_test = read_idx(find("t10k-labels-idx1-ubyte"))
    return Dataset(x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64), description)


def load_dataset(source: str | os.PathLike | None = None) -> Dataset:
    """Load a data set; ``None``, ``"mnist"`` or ``"bundled"`` give the bundled MNIST."""
    if source is None or str(source).lower() in ("mnist", "bundled"):
        return _load_idx_folder(bundled_mnist_dir(), "bundled MNIST")
    path = Path(source)
    if path.is_dir():
        return _load_idx_folder(path, f"IDX folder {path}")
    raise DataError(f"data source {source!s} does not exist.")


def to_model_input(x: np.ndarray) -> np.ndarray:
    """Scale images to the model's input: float32 (N, 28, 28, 1) in [0, 1].

    This is the one place digitpad scales pixels. uint8 input is divided by 255; float input must
    already be in [0, 1] and passes through.
    """
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[..., None]
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255.0)
    return x.astype(np.float32, copy=False)
