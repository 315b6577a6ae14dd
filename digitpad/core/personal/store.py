"""The personal data set on disk: labelled drawings in ``0/`` ... ``9/`` folders.

Layout (``drawings_dir()`` is ``user_data_dir()/drawings``)::

    drawings/<digit>/<id>.png           # 28x28 model input, ink bright: what every loader reads
    drawings/<digit>/<id>.canvas.png    # the pad's 280x280 canvas
    drawings/<digit>/<id>.strokes.json  # the strokes: points, widths, timing

The companions are optional (a folder of PNGs made by hand is a personal data set too); image
folder loaders skip them (:data:`~digitpad.core.data.image_folder.COMPANION_SUFFIXES`). The
folder a drawing is in is its label. Every file is written atomically, the image last, so a
drawing exists only once it is complete; deleting removes the image first. Nothing here leaves
the machine.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from digitpad.core.atomic import atomic_write_bytes, atomic_write_text
from digitpad.core.data.dataset import NUM_CLASSES
from digitpad.core.data.image_folder import COMPANION_SUFFIXES
from digitpad.core.data.limits import MAX_FOLDER_FILES
from digitpad.core.data.pixels import unit_to_pixels
from digitpad.core.errors import DataError
from digitpad.core.images import is_image_path
from digitpad.core.normalize import normalize_canvas
from digitpad.core.paths import user_data_dir
from digitpad.core.personal.strokes_file import PenStroke, encode_strokes

DRAWINGS_FOLDER = "drawings"
CANVAS_SUFFIX, STROKES_SUFFIX = COMPANION_SUFFIXES
INPUT_SUFFIX = ".png"


def drawings_dir() -> Path:
    """The personal data set's folder, ``user_data_dir()/drawings`` (not created here)."""
    return user_data_dir() / DRAWINGS_FOLDER


def check_label(label: object) -> int:
    """``label`` as a digit 0..9, else a one-sentence DataError."""
    if isinstance(label, bool) or not isinstance(label, int | np.integer) or not 0 <= label <= 9:
        raise DataError(f"a drawing's label must be a digit 0 to 9, not {label!r}.")
    return int(label)


def png_bytes(pixels: np.ndarray) -> bytes:
    """A greyscale PNG of uint8 ``pixels`` (2-D)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8), mode="L").save(buf, "PNG")
    return buf.getvalue()


def new_id() -> str:
    """A new drawing id: UTC time to the microsecond plus 4 random hex digits (sorts by time)."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f") + "-" + secrets.token_hex(2)


@dataclass(frozen=True)
class DrawingFiles:
    """One drawing of a personal data set: its id, label (the folder) and files.

    ``canvas`` and ``strokes`` are None when the drawing has no such file.
    """

    id: str
    label: int
    image: Path
    canvas: Path | None = None
    strokes: Path | None = None

    def paths(self) -> list[Path]:
        """The files that exist for this drawing, the image last."""
        return [p for p in (self.strokes, self.canvas, self.image) if p is not None]


@dataclass(frozen=True)
class Listing:
    """What a scan of the digit folders found: drawings, and files that are no drawing."""

    drawings: list[DrawingFiles]
    stray: list[Path]  # not an image, or a companion without its image: left alone, reported

    def counts(self) -> list[int]:
        """Drawings per digit, 0..9."""
        counts = [0] * NUM_CLASSES
        for d in self.drawings:
            counts[d.label] += 1
        return counts


def scan(root: Path) -> Listing:
    """List the drawings under ``root/0`` ... ``root/9`` (bounded, in id order per digit).

    Raises
    ------
    DataError
        More than :data:`~digitpad.core.data.limits.MAX_FOLDER_FILES` entries, or a folder that
        cannot be read.
    """
    drawings: list[DrawingFiles] = []
    stray: list[Path] = []
    seen = 0
    for digit in range(NUM_CLASSES):
        sub = root / str(digit)
        if not sub.is_dir():
            continue
        names: list[str] = []
        try:
            with os.scandir(sub) as entries:
                for entry in entries:
                    seen += 1
                    if seen > MAX_FOLDER_FILES:
                        raise DataError(f"{root} holds more than {MAX_FOLDER_FILES:,} files, more "
                                        "than digitpad reads from a drawings folder.")
                    if not entry.name.startswith(".") and not entry.is_dir():
                        names.append(entry.name)
        except OSError as exc:
            raise DataError(f"cannot read the folder {sub}: {exc.strerror or exc}.") from None
        present = set(names)
        for name in sorted(names):
            low = name.lower()
            if low.endswith(COMPANION_SUFFIXES):
                stem = name[: -len(CANVAS_SUFFIX if low.endswith(CANVAS_SUFFIX) else
                                   STROKES_SUFFIX)]
                if stem + INPUT_SUFFIX not in present:
                    stray.append(sub / name)
                continue
            if not is_image_path(name):
                stray.append(sub / name)
                continue
            stem = Path(name).stem
            canvas, strokes = stem + CANVAS_SUFFIX, stem + STROKES_SUFFIX
            drawings.append(DrawingFiles(
                stem, digit, sub / name,
                sub / canvas if canvas in present else None,
                sub / strokes if strokes in present else None,
            ))
    return Listing(drawings, stray)


class DrawingStore:
    """Save, list, relabel and delete labelled drawings; undo the labels saved through it.

    Parameters
    ----------
    root
        The data set's folder (default :func:`drawings_dir`); created on the first save.
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else drawings_dir()
        self._saved: list[DrawingFiles] = []

    def scan(self) -> Listing:
        """:func:`scan` of this store's folder (empty when it does not exist yet)."""
        if not self.root.is_dir():
            return Listing([], [])
        return scan(self.root)

    def counts(self) -> list[int]:
        """Drawings per digit, 0..9."""
        return self.scan().counts()

    def save(self, label: int, canvas: np.ndarray,
             strokes: list[PenStroke] | None = None) -> DrawingFiles:
        """Store one labelled drawing: model input, canvas and (when given) strokes.

        Parameters
        ----------
        label
            The digit the drawing really is.
        canvas
            The pad's picture: uint8 2-D, ink bright.
        strokes
            The pen strokes, or None (e.g. an opened image).

        Returns
        -------
        DrawingFiles
            The files written; :meth:`undo_last` removes them again.

        Raises
        ------
        DataError
            Not a digit label, or a blank canvas (nothing to learn from).
        OSError
            The files could not be written (nothing half-written is left).
        """
        digit = check_label(label)
        pixels = np.asarray(canvas)
        if pixels.ndim != 2 or pixels.size == 0:
            raise DataError("a drawing must be a non-empty 2-D picture.")
        if pixels.dtype != np.uint8:
            pixels = unit_to_pixels(pixels)
        norm = normalize_canvas(pixels)
        if norm.blank:
            raise DataError("the pad is blank; draw a digit before labelling it.")
        files = self.add(digit, unit_to_pixels(norm.image), pixels, strokes)
        self._saved.append(files)
        return files

    def add(self, label: int, model_input: np.ndarray, canvas: np.ndarray | None = None,
            strokes: list[PenStroke] | None = None) -> DrawingFiles:
        """Write a drawing's files under a new id (used by :meth:`save` and imports).

        ``model_input`` is uint8 (28, 28); ``canvas`` uint8 2-D or None; strokes or None.
        """
        digit = check_label(label)
        folder = self.root / str(digit)
        folder.mkdir(parents=True, exist_ok=True)
        drawing_id = new_id()
        files = DrawingFiles(
            drawing_id, digit, folder / (drawing_id + INPUT_SUFFIX),
            folder / (drawing_id + CANVAS_SUFFIX) if canvas is not None else None,
            folder / (drawing_id + STROKES_SUFFIX) if strokes is not None else None)
        try:
            if files.strokes is not None:
                created = datetime.now(UTC).isoformat(timespec="seconds")
                side = int(canvas.shape[1]) if canvas is not None else 280
                atomic_write_text(files.strokes, encode_strokes(strokes, canvas=side,
                                                                created=created))
            if files.canvas is not None:
                atomic_write_bytes(files.canvas, png_bytes(canvas))
            atomic_write_bytes(files.image, png_bytes(model_input))
        except BaseException:
            _remove(files)
            raise
        return files

    @property
    def can_undo(self) -> bool:
        """Whether a label saved through this store can be undone."""
        return bool(self._saved)

    def undo_last(self) -> DrawingFiles | None:
        """Remove the files of the last drawing saved through this store; None if there is none.

        A drawing moved or deleted meanwhile is removed where it is now (or skipped when gone).
        """
        while self._saved:
            files = self._saved.pop()
            if files.image.exists():
                _remove(files)
                return files
        return None

    def relabel(self, drawing: DrawingFiles, label: int) -> DrawingFiles:
        """Move a drawing's files into the folder of ``label``; its new :class:`DrawingFiles`."""
        digit = check_label(label)
        if digit == drawing.label:
            return drawing
        folder = self.root / str(digit)
        folder.mkdir(parents=True, exist_ok=True)

        def target(path: Path | None) -> Path | None:
            return None if path is None else folder / path.name

        moved = replace(drawing, label=digit, image=folder / drawing.image.name,
                        canvas=target(drawing.canvas), strokes=target(drawing.strokes))
        for src, dst in zip(drawing.paths(), moved.paths(), strict=True):  # image last
            if dst.exists():
                raise DataError(f"{dst} already exists; the drawing was not relabelled.")
            os.replace(src, dst)
        self._saved = [moved if f.image == drawing.image else f for f in self._saved]
        return moved

    def delete(self, drawing: DrawingFiles) -> None:
        """Delete a drawing's files (the image first)."""
        _remove(drawing)
        self._saved = [f for f in self._saved if f.image != drawing.image]


def _remove(files: DrawingFiles) -> None:
    for path in reversed(files.paths()):  # the image first: no drawing is left half there
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
