"""The digitpad data layout -- 28x28 uint8 images, ten classes -- and the :class:`Dataset` holding it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitpad.core.errors import DataError

#: Side of an MNIST image (and of the model's input field), in pixels.
IMAGE_SIDE = 28
#: Number of classes: the digits 0..9.
NUM_CLASSES = 10


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

    def evaluation_split(self) -> tuple[np.ndarray, np.ndarray, str]:
        """Images and labels to evaluate on: the test split, or all images when there is none.

        Returns
        -------
        tuple
            ``(x, y, split)`` with ``split`` either ``"test"`` or ``"all"``.
        """
        if self.x_test is not None and len(self.x_test):
            return self.x_test, self.y_test, "test"
        return self.x_train, self.y_train, "all"

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


def describe_source(name: str, x_train: np.ndarray, x_test: np.ndarray | None) -> str:
    """The :attr:`Dataset.source` text: ``"name (N train / M test)"`` or ``"name (N train, no test split)"``."""
    if x_test is None:
        return f"{name} ({len(x_train)} train, no test split)"
    return f"{name} ({len(x_train)} train / {len(x_test)} test)"
