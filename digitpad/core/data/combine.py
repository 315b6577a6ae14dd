"""Several data sources as one :class:`~digitpad.core.data.Dataset` (``--data mnist --data DIR``)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from digitpad.core.data.dataset import Dataset
from digitpad.core.errors import DataError


def concat_datasets(datasets: Sequence[Dataset]) -> Dataset:
    """Concatenate data sets: training images after each other, test splits likewise.

    Parameters
    ----------
    datasets
        At least one data set. Those without a test split add none.

    Returns
    -------
    Dataset
        The first data set itself when there is only one; otherwise a new one whose ``source``
        joins the sources with ``" + "`` and whose test split is None when none has one.
    """
    if not datasets:
        raise DataError("no data source was given.")
    if len(datasets) == 1:
        return datasets[0]
    x = np.concatenate([d.x_train for d in datasets])
    y = np.concatenate([d.y_train for d in datasets])
    tests = [d for d in datasets if d.x_test is not None]
    x_test = np.concatenate([d.x_test for d in tests]) if tests else None
    y_test = np.concatenate([d.y_test for d in tests]) if tests else None
    return Dataset(x, y, x_test, y_test, " + ".join(d.source for d in datasets))


def load_datasets(sources: Sequence[str | os.PathLike | None] | None) -> Dataset:
    """:func:`~digitpad.core.data.load_dataset` of each source, concatenated (None: bundled MNIST)."""
    from digitpad.core.data.sources import load_dataset

    if not sources:
        return load_dataset(None)
    return concat_datasets([load_dataset(s) for s in sources])


def several_sources(sources: Sequence[str | os.PathLike | None] | None) -> Dataset | None:
    """The joined data set when ``sources`` names more than one source, else ``None``.

    With one source (or none) a training configuration's ``data`` names it and the trainer loads
    it itself; several (e.g. MNIST and the personal drawings) are loaded here, together, as
    ``digitpad train --data A --data B`` loads them. The GUI calls this inside its tasks.
    """
    if sources is None or len(sources) < 2:
        return None
    return load_datasets(sources)
