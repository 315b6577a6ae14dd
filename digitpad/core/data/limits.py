"""What a data file may declare before digitpad reads it: bounded memory from untrusted headers.

An IDX header, the header of an ``.npy`` member inside an ``.npz`` file and the number of files in
an image folder all say how much is coming before any of it is read. A few bytes can declare
terabytes (or, multiplied out in fixed-width integers, an overflowed negative count). Every such
declaration is checked here, with exact Python integers, against limits far above any digit data
set: MNIST is 70,000 images of 784 bytes (55 MB); EMNIST's largest split 814,255 images.
"""

from __future__ import annotations

import math

from digitpad.core.errors import DataError

#: Most images (or labels) one array may hold.
MAX_IMAGES: int = 1_000_000
#: Most bytes one array may hold once loaded (MNIST's training images: 47 MB as uint8).
MAX_ARRAY_BYTES: int = 1_000_000_000
#: Most entries digitpad looks at in the digit folders of one image folder.
MAX_FOLDER_FILES: int = 200_000
#: Most members an ``.npz`` file may have (a data set needs four).
MAX_NPZ_MEMBERS: int = 1_000


def size_words(n: int) -> str:
    """A byte count for people: ``"47 MB"``, ``"4.29 GB"``, ``"7.92e+28 bytes"``.

    Parameters
    ----------
    n : int
        Bytes, any size (a Python int never overflows).

    Returns
    -------
    str
        Decimal units up to GB; a terabyte or more in scientific notation.
    """
    if n >= 10**12:
        return f"{float(n):.3g} bytes"
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def shape_words(shape: tuple[int, ...]) -> str:
    """A shape for people: ``"60000x28x28"``, ``"a single value"`` for ``()``."""
    return "x".join(str(d) for d in shape) if shape else "a single value"


def check_declared(shape: tuple[int, ...], itemsize: int, what: str) -> int:
    """Refuse a declared array larger than the limits; return its size in bytes.

    Parameters
    ----------
    shape : tuple of int
        The shape the header declares (non-negative integers).
    itemsize : int
        Bytes per element.
    what : str
        How to name the array, e.g. ``"train-images-idx3-ubyte"``.

    Returns
    -------
    int
        ``prod(shape) * itemsize``, exact.

    Raises
    ------
    DataError
        More than :data:`MAX_IMAGES` entries along the first axis, or more than
        :data:`MAX_ARRAY_BYTES` bytes in all.
    """
    nbytes = math.prod(shape) * itemsize
    if shape and shape[0] > MAX_IMAGES:
        raise DataError(
            f"{what} declares {shape[0]:,} images or labels (shape {shape_words(shape)}), more "
            f"than digitpad reads from one file (the limit is {MAX_IMAGES:,})."
        )
    if nbytes > MAX_ARRAY_BYTES:
        raise DataError(
            f"{what} declares an array of shape {shape_words(shape)} ({size_words(nbytes)}), more "
            f"than digitpad reads from one file (the limit is {size_words(MAX_ARRAY_BYTES)})."
        )
    return nbytes
