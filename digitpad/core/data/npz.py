"""``.npz`` data files in the Keras ``mnist.npz`` layout, read with bounded memory and no pickles.

The file is opened once as a regular file. Before any array is loaded, the zip's central
directory is sized from its end record (a zip with a million members would take gigabytes just to
list), and each of the four arrays ``x_train``, ``y_train``, ``x_test``, ``y_test`` has its
``.npy`` header read and checked: no Python objects, and a declared shape within
:mod:`~digitpad.core.data.limits`. Only then does ``np.load(..., allow_pickle=False)`` load those
four arrays -- never the other members.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from digitpad.core.data.dataset import Dataset, describe_source
from digitpad.core.data.limits import MAX_NPZ_MEMBERS, check_declared, size_words
from digitpad.core.data.regular import open_regular
from digitpad.core.data.validate import validate_arrays
from digitpad.core.errors import DataError

_KEYS = ("x_train", "y_train", "x_test", "y_test")
_MAX_DIRECTORY_BYTES = 1_000_000  # a central directory of 1,000 members needs about 100 kB


def _check_directory(fh: BinaryIO, name: str) -> None:
    """Refuse a zip whose end record declares too many members, before ``zipfile`` lists them."""
    end = zipfile._EndRecData(fh)  # the stdlib's own end-record reader (zip64 aware)
    if end is None:
        raise DataError(f"{name} is not a valid .npz file (it is not a complete zip archive).")
    members, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if members > MAX_NPZ_MEMBERS:
        raise DataError(
            f"{name} declares {members:,} members, far more than a data set's four arrays "
            f"(the limit is {MAX_NPZ_MEMBERS:,})."
        )
    if size > _MAX_DIRECTORY_BYTES:
        raise DataError(
            f"{name} declares a zip directory of {size_words(size)}, far more than a data set's "
            f"four arrays need (the limit is {size_words(_MAX_DIRECTORY_BYTES)})."
        )


def _check_member(zf: zipfile.ZipFile, key: str, name: str) -> None:
    """Read one member's ``.npy`` header and refuse objects and oversized declarations."""
    what = f"the {key} array in {name}"
    with zf.open(f"{key}.npy") as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        else:  # 2.0 and 3.0 share the header layout (3.0 only allows UTF-8 field names)
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    if dtype.hasobject:
        raise DataError(f"{name} stores Python objects, which digitpad does not load.")
    check_declared(tuple(int(d) for d in shape), dtype.itemsize, what)


def _read_arrays(fh: BinaryIO, name: str) -> dict[str, np.ndarray]:
    _check_directory(fh, name)
    fh.seek(0)
    with zipfile.ZipFile(fh) as zf:
        members = set(zf.namelist())
        present = [key for key in _KEYS if f"{key}.npy" in members]
        for key in present:
            _check_member(zf, key, name)
        names = sorted(m.removesuffix(".npy") for m in members)
    fh.seek(0)
    with np.load(fh, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in present}
    if "x_train" not in arrays or "y_train" not in arrays:
        missing = [key for key in ("x_train", "y_train") if key not in arrays]
        found = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "") or "nothing"
        raise DataError(
            f"{name} has no {' or '.join(missing)} array (it holds {found}); "
            "expected the Keras mnist.npz keys x_train, y_train, x_test, y_test."
        )
    return arrays


def load_npz(path: Path) -> Dataset:
    """Load a ``.npz`` file in the Keras ``mnist.npz`` layout.

    Parameters
    ----------
    path : pathlib.Path
        A regular file holding ``x_train`` and ``y_train`` (and optionally ``x_test`` and
        ``y_test``) arrays.

    Returns
    -------
    Dataset
        Validated uint8 images and int64 labels.

    Raises
    ------
    DataError
        Not a regular file, not a zip, corrupt, too many members, encrypted, an array storing
        Python objects or declaring more than the limits, missing arrays, or bad data (one
        sentence each).
    """
    name = path.name
    with open_regular(path, lambda why: DataError(f"cannot read {name}: {why}.")) as fh:
        if fh.read(2) != b"PK":  # every .npz is a zip archive
            raise DataError(f"{name} is not a valid .npz file (it is not a zip archive).")
        try:
            arrays = _read_arrays(fh, name)
        except DataError:
            raise
        except RuntimeError as exc:  # zipfile: "File 'x_train.npy' is encrypted, password required"
            if "encrypted" not in str(exc):
                raise DataError(f"{name} is not a valid .npz file.") from None
            raise DataError(
                f"{name} holds encrypted (password-protected) arrays, which digitpad does not read."
            ) from None
        except ValueError as exc:
            if "pickle" in str(exc).lower():
                raise DataError(f"{name} stores Python objects, which digitpad does not load.") from None
            raise DataError(f"{name} is not a valid .npz file.") from None
        except (OSError, EOFError, zlib.error, KeyError):
            raise DataError(f"{name} is not a valid .npz file (corrupt or truncated).") from None
        except Exception:  # zipfile.BadZipFile and friends
            raise DataError(f"{name} is not a valid .npz file.") from None
    if ("x_test" in arrays) != ("y_test" in arrays):
        missing_test = "y_test" if "x_test" in arrays else "x_test"
        raise DataError(f"{name} has test images or labels but no {missing_test} array.")
    x_train, y_train = validate_arrays(
        arrays["x_train"], arrays["y_train"], what=f"the training data in {name}"
    )
    x_test = y_test = None
    if "x_test" in arrays:
        x_test, y_test = validate_arrays(
            arrays["x_test"], arrays["y_test"], what=f"the test data in {name}"
        )
    return Dataset(x_train, y_train, x_test, y_test, describe_source(name, x_train, x_test))
