"""MNIST-style data sets: loading, validation and the one place pixels are scaled.

Modules:

* :mod:`~digitpad.core.data.dataset` -- :class:`Dataset` and the layout (:data:`IMAGE_SIDE`,
  :data:`NUM_CLASSES`);
* :mod:`~digitpad.core.data.pixels` -- pixel scaling, defined once: :func:`to_model_input`,
  :func:`pixels_to_unit`, :func:`unit_to_pixels`;
* :mod:`~digitpad.core.data.validate` -- :func:`validate_arrays`;
* :mod:`~digitpad.core.data.idx` -- :func:`read_idx` and IDX folders;
* :mod:`~digitpad.core.data.npz` -- ``.npz`` files in the Keras layout;
* :mod:`~digitpad.core.data.image_folder` -- ``0/`` ... ``9/`` image folders;
* :mod:`~digitpad.core.data.sources` -- :func:`load_dataset`, which tells the sources apart
  (bundled MNIST, ``"keras"``, ``.npz``, IDX folder, image folder);
* :mod:`~digitpad.core.data.regular` -- :func:`open_regular`: untrusted files are read only when
  they are regular files, never blocking on a FIFO or device;
* :mod:`~digitpad.core.data.limits` -- what a data file may declare (:data:`MAX_IMAGES`,
  :data:`MAX_ARRAY_BYTES`, :data:`MAX_FOLDER_FILES`), checked before anything is read.

Pixels are stored as uint8 and scaled to [0, 1] only through :mod:`~digitpad.core.data.pixels`.
"""

from __future__ import annotations

from digitpad.core.data.dataset import IMAGE_SIDE, NUM_CLASSES, Dataset, describe_source
from digitpad.core.data.idx import IDX_STEMS, find_idx, load_idx_folder, read_idx
from digitpad.core.data.limits import MAX_ARRAY_BYTES, MAX_FOLDER_FILES, MAX_IMAGES
from digitpad.core.data.pixels import PIXEL_MAX, pixels_to_unit, to_model_input, unit_to_pixels
from digitpad.core.data.regular import open_regular
from digitpad.core.data.sources import load_dataset
from digitpad.core.data.validate import validate_arrays

__all__ = [
    "IDX_STEMS",
    "IMAGE_SIDE",
    "MAX_ARRAY_BYTES",
    "MAX_FOLDER_FILES",
    "MAX_IMAGES",
    "NUM_CLASSES",
    "PIXEL_MAX",
    "Dataset",
    "describe_source",
    "find_idx",
    "load_dataset",
    "load_idx_folder",
    "open_regular",
    "pixels_to_unit",
    "read_idx",
    "to_model_input",
    "unit_to_pixels",
    "validate_arrays",
]
