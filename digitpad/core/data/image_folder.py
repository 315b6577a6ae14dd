"""Image folders: sub-folders ``0/`` ... ``9/`` of image files, each normalised like MNIST.

Only the ten ASCII names ``0`` ... ``9`` are class folders (``"²".isdigit()`` is true in Python, and
``int("٣")`` is 3, but neither is a digit folder). The folders are listed with ``os.scandir``, at
most :data:`~digitpad.core.data.limits.MAX_FOLDER_FILES` entries in all, so a folder of millions
of files is refused after a bounded look instead of being listed into memory. Every file goes
through :func:`~digitpad.core.normalize.normalize_image` (regular files in an allowed raster format
only); files that cannot be read are skipped and counted.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from digitpad.core.data.dataset import NUM_CLASSES, Dataset
from digitpad.core.data.limits import MAX_FOLDER_FILES
from digitpad.core.data.pixels import unit_to_pixels
from digitpad.core.data.validate import validate_arrays
from digitpad.core.errors import DataError, ImageError

#: Files beside a drawing's image ``<id>.png`` in digitpad's personal data set
#: (:mod:`digitpad.core.personal`): the pad's 280x280 canvas and the pen strokes. They belong to
#: that image and are not read as images of their own.
COMPANION_SUFFIXES: tuple[str, ...] = (".canvas.png", ".strokes.json")


def digit_folders(folder: Path) -> list[tuple[int, Path]]:
    """The class folders ``folder/0`` ... ``folder/9`` that exist, as ``(digit, path)`` pairs.

    Parameters
    ----------
    folder : pathlib.Path
        The image folder.

    Returns
    -------
    list of (int, pathlib.Path)
        In digit order; empty when there are none.
    """
    return [(d, folder / str(d)) for d in range(NUM_CLASSES) if (folder / str(d)).is_dir()]


def look_alike_digit_folders(folder: Path) -> list[str]:
    """Names of sub-folders that Python calls digits but are not ASCII ``0`` ... ``9`` (``"²"``, ``"٣"``)."""
    with os.scandir(folder) as entries:
        return sorted(
            e.name for e in entries
            if len(e.name) == 1 and e.name.isdigit() and not e.name.isascii() and e.is_dir()
        )


def _list_files(folder: Path, classes: list[tuple[int, Path]]) -> list[tuple[int, Path]]:
    """Every non-hidden file name in the class folders, refusing more than MAX_FOLDER_FILES."""
    files: list[tuple[int, Path]] = []
    for digit, sub in classes:
        try:
            with os.scandir(sub) as entries:
                names = []
                for entry in entries:
                    if entry.name.startswith(".") or entry.is_dir():
                        continue
                    if entry.name.lower().endswith(COMPANION_SUFFIXES):
                        continue
                    if len(files) + len(names) >= MAX_FOLDER_FILES:
                        raise DataError(
                            f"the digit folders in {folder} hold more than {MAX_FOLDER_FILES:,} "
                            "files, more than digitpad reads from an image folder (use an IDX "
                            "or .npz file for a data set this large)."
                        )
                    names.append(entry.name)
        except OSError as exc:
            raise DataError(f"cannot read the folder {sub}: {exc.strerror or exc}.") from None
        files.extend((digit, sub / name) for name in sorted(names))
    return files


def load_image_folder(folder: Path, classes: list[tuple[int, Path]]) -> Dataset:
    """Load the images of the class folders as a training set (no test split).

    Parameters
    ----------
    folder : pathlib.Path
        The image folder (for messages).
    classes : list of (int, pathlib.Path)
        From :func:`digit_folders`.

    Returns
    -------
    Dataset
        Validated uint8 images; blank and unreadable files (not an allowed image format, not a
        regular file, corrupt) are skipped and counted in :attr:`Dataset.source`.

    Raises
    ------
    DataError
        More than :data:`~digitpad.core.data.limits.MAX_FOLDER_FILES` files, or no usable image.
    """
    # imported here, not at the top: images and normalize build on digitpad.core.data.pixels
    from digitpad.core.images import is_image_path
    from digitpad.core.normalize import normalize_image

    images: list[np.ndarray] = []
    labels: list[int] = []
    blank = unreadable = 0
    for digit, file in _list_files(folder, classes):
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
