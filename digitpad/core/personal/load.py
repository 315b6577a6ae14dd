"""Reading a folder of labelled drawings for measuring and fine-tuning: images, labels, strokes.

Any ``0/`` ... ``9/`` folder of images works: the personal data set (with canvas and strokes
files) or PNGs alone. A 28x28 image is taken as a model input (like an MNIST image); a larger one
is normalised like a pad drawing. Images are read only through
:func:`digitpad.core.images.load_image`. A file that cannot be used is skipped and named in
:meth:`Drawings.message`, never dropped silently and never deleted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitpad.core.data.dataset import IMAGE_SIDE, NUM_CLASSES, Dataset
from digitpad.core.data.pixels import unit_to_pixels
from digitpad.core.data.regular import open_regular
from digitpad.core.errors import DataError, DigitpadError
from digitpad.core.images import load_image
from digitpad.core.normalize import normalize_canvas
from digitpad.core.personal.store import DrawingFiles, scan
from digitpad.core.personal.strokes_file import MAX_STROKES_BYTES, PenStroke, decode_strokes

#: At most this many problem files are named in :meth:`Drawings.message`.
NAMED_PROBLEMS = 3


@dataclass
class Drawings:
    """The usable drawings of a folder.

    Attributes
    ----------
    x : numpy.ndarray
        uint8 (N, 28, 28) model inputs, ink bright.
    y : numpy.ndarray
        int64 (N,) labels.
    files : list of DrawingFiles
        Where each came from.
    strokes : list
        Each drawing's strokes (list of PenStroke) or None (no usable strokes file).
    problems : list of (Path, str)
        Files skipped (or strokes files ignored), with the reason.
    folder : Path
    """

    x: np.ndarray
    y: np.ndarray
    files: list[DrawingFiles]
    strokes: list[list[PenStroke] | None]
    problems: list[tuple[Path, str]] = field(default_factory=list)
    folder: Path = Path(".")

    def __len__(self) -> int:
        return len(self.y)

    def counts(self) -> list[int]:
        """Drawings per digit, 0..9."""
        return np.bincount(self.y, minlength=NUM_CLASSES).astype(int).tolist()

    def message(self) -> str | None:
        """One sentence naming the files that were skipped, or None when there are none."""
        if not self.problems:
            return None
        named = "; ".join(f"{_short_path(p, self.folder)} ({why.rstrip('.')})"
                          for p, why in self.problems[:NAMED_PROBLEMS])
        more = len(self.problems) - NAMED_PROBLEMS
        tail = f" and {more} more" if more > 0 else ""
        files = "file was" if len(self.problems) == 1 else "files were"
        return (f"{len(self.problems)} {files} not used from {self.folder} (left as they are): "
                f"{named}{tail}.")

    def subset(self, idx: np.ndarray) -> Drawings:
        """The drawings at the indices ``idx`` (same problems)."""
        idx = np.asarray(idx, dtype=np.int64)
        return Drawings(self.x[idx], self.y[idx], [self.files[i] for i in idx],
                        [self.strokes[i] for i in idx], list(self.problems), self.folder)

    def dataset(self) -> Dataset:
        """The drawings as a training :class:`~digitpad.core.data.Dataset` (no test split)."""
        return Dataset(self.x, self.y, None, None,
                       f"drawings {self.folder} ({len(self)} images)")


def _short_path(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)


def read_model_input(path: Path) -> np.ndarray | None:
    """uint8 (28, 28) model input of an image file; None when the image is blank.

    Raises
    ------
    ImageError
        Not a readable image (one sentence).
    """
    image = load_image(path)
    if image.shape == (IMAGE_SIDE, IMAGE_SIDE):
        return unit_to_pixels(image) if image.max() > 0 else None
    norm = normalize_canvas(image)
    return None if norm.blank else unit_to_pixels(norm.image)


def read_strokes_file(path: Path) -> list[PenStroke]:
    """The checked strokes of a strokes file (regular files only, bounded size).

    Raises
    ------
    DataError
        Unreadable or not a valid strokes file.
    """
    def fail(clause: str) -> DataError:
        return DataError(f"cannot read {path.name}: {clause}.")

    try:
        with open_regular(path, fail) as fh:
            data = fh.read(MAX_STROKES_BYTES + 1)
    except OSError as exc:
        raise fail(str(exc.strerror or exc)) from None
    return decode_strokes(data)


def load_drawings(folder: str | os.PathLike, *, with_strokes: bool = True) -> Drawings:
    """Read every drawing under ``folder/0`` ... ``folder/9``.

    Parameters
    ----------
    folder
        A personal data set or any folder of digit folders of images.
    with_strokes
        Also read the strokes files (for augmentation by re-drawing).

    Returns
    -------
    Drawings
        Possibly empty; unusable files are listed in ``problems``.

    Raises
    ------
    DataError
        The folder does not exist, has no digit folders, or cannot be listed.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DataError(f"the drawings folder {root} does not exist.")
    if not any((root / str(d)).is_dir() for d in range(NUM_CLASSES)):
        raise DataError(f"the folder {root} has no digit folders 0 … 9.")
    listing = scan(root)
    problems: list[tuple[Path, str]] = [(p, "not a drawing") for p in listing.stray]
    images, labels, files, strokes = [], [], [], []
    for drawing in listing.drawings:
        try:
            pixels = read_model_input(drawing.image)
        except DigitpadError as exc:
            problems.append((drawing.image, _reason(exc)))
            continue
        if pixels is None:
            problems.append((drawing.image, "blank"))
            continue
        drawn = None
        if with_strokes and drawing.strokes is not None:
            try:
                drawn = read_strokes_file(drawing.strokes) or None
            except DigitpadError as exc:
                problems.append((drawing.strokes, _reason(exc) + "; the image alone was used"))
        images.append(pixels)
        labels.append(drawing.label)
        files.append(drawing)
        strokes.append(drawn)
    x = np.stack(images) if images else np.zeros((0, IMAGE_SIDE, IMAGE_SIDE), np.uint8)
    return Drawings(x, np.asarray(labels, dtype=np.int64), files, strokes, problems, root)


def _reason(exc: BaseException) -> str:
    """The error's sentence without the file name prefix Pillow errors carry."""
    text = str(exc).strip()
    if ": " in text and text.startswith("cannot read image"):
        text = text.split(": ", 1)[1]
    return text
