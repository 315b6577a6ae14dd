"""Import and export of a personal data set as a folder or a zip file.

Export writes the ``0/`` ... ``9/`` layout (all three files of each drawing). Import reads any
``0/ … 9/`` folder or zip of images and adds every usable drawing under a new id: images are
decoded only by :func:`digitpad.core.images.load_image` and written again from their pixels
(never copied byte for byte), strokes files are checked and written again. Zip files are
untrusted: members are never extracted by name (no path can leave the data set's folder), links
and folders are skipped, and member count, declared and actual sizes and the compression ratio
are bounded before anything is decompressed.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from digitpad.core.atomic import atomic_path
from digitpad.core.data.dataset import NUM_CLASSES
from digitpad.core.data.pixels import unit_to_pixels
from digitpad.core.errors import DataError, DigitpadError
from digitpad.core.images import is_image_path, load_image
from digitpad.core.personal.load import read_model_input, read_strokes_file
from digitpad.core.personal.store import (
    CANVAS_SUFFIX,
    STROKES_SUFFIX,
    DrawingStore,
    scan,
)
from digitpad.core.personal.strokes_file import MAX_STROKES_BYTES, decode_strokes

#: Bounds on an imported zip file.
MAX_ZIP_MEMBERS = 20_000
MAX_MEMBER_BYTES = 20_000_000
MAX_ZIP_TOTAL_BYTES = 500_000_000
MAX_COMPRESSION_RATIO = 200


@dataclass
class ImportReport:
    """What an import added and what it left out (with reasons)."""

    added: list[int] = field(default_factory=lambda: [0] * NUM_CLASSES)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.added)

    def message(self) -> str:
        """One sentence: how many were added, and the first files left out."""
        text = f"imported {self.total} drawing(s)"
        if self.skipped:
            named = "; ".join(f"{n} ({why.rstrip('.')})" for n, why in self.skipped[:3])
            more = f" and {len(self.skipped) - 3} more" if len(self.skipped) > 3 else ""
            text += f", skipped {len(self.skipped)}: {named}{more}"
        return text + "."


def export_folder(store: DrawingStore, dest: str | Path) -> int:
    """Copy every drawing's files into ``dest/0`` ... ``dest/9``; the number of drawings.

    ``dest`` must not exist or be an empty folder.
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise DataError(f"{dest} exists and is not an empty folder; choose a new one.")
    listing = store.scan()
    for drawing in listing.drawings:
        folder = dest / str(drawing.label)
        folder.mkdir(parents=True, exist_ok=True)
        for path in drawing.paths():
            shutil.copyfile(path, folder / path.name)
    return len(listing.drawings)


def export_zip(store: DrawingStore, dest: str | Path) -> int:
    """Write every drawing's files into the zip ``dest`` (``<digit>/<file>``), atomically."""
    listing = store.scan()
    with atomic_path(dest) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for drawing in listing.drawings:
            for path in drawing.paths():
                zf.write(path, f"{drawing.label}/{path.name}")
    return len(listing.drawings)


def _add(store: DrawingStore, report: ImportReport, name: str, label: int, image: Path,
         canvas: Path | None, strokes_data: bytes | None) -> None:
    """Decode one drawing's files and add it to the store (or note why not)."""
    try:
        pixels = read_model_input(image)
        if pixels is None:
            report.skipped.append((name, "blank"))
            return
        picture = None
        if canvas is not None:
            picture = unit_to_pixels(load_image(canvas))
        elif not is_28(image):
            picture = unit_to_pixels(load_image(image))
        strokes = decode_strokes(strokes_data) if strokes_data is not None else None
    except DigitpadError as exc:
        report.skipped.append((name, str(exc)))
        return
    store.add(label, pixels, picture, strokes)
    report.added[label] += 1


def is_28(path: Path) -> bool:
    """Whether the image at ``path`` is 28x28 (a model input, stored without a canvas)."""
    return load_image(path).shape == (28, 28)


def import_folder(store: DrawingStore, src: str | Path) -> ImportReport:
    """Add every drawing of the ``0/ … 9/`` folder ``src`` to ``store``."""
    root = Path(src)
    if not root.is_dir() or not any((root / str(d)).is_dir() for d in range(NUM_CLASSES)):
        raise DataError(f"{root} is not a folder with digit folders 0 … 9.")
    report = ImportReport()
    listing = scan(root)
    for path in listing.stray:
        report.skipped.append((str(path.relative_to(root)), "not a drawing"))
    for d in listing.drawings:
        name = str(d.image.relative_to(root))
        data = None
        if d.strokes is not None:
            try:
                data = read_strokes_bytes(d.strokes)
            except DataError as exc:
                report.skipped.append((str(d.strokes.relative_to(root)), str(exc)))
        _add(store, report, name, d.label, d.image, d.canvas, data)
    return report


def read_strokes_bytes(path: Path) -> bytes:
    """The checked, re-encoded strokes of a file, as the bytes decode_strokes reads."""
    read_strokes_file(path)  # DataError when unusable
    return path.read_bytes()


def _member_parts(info: zipfile.ZipInfo) -> tuple[int, str] | None:
    """``(digit, file name)`` of a member ``[top/]D/name``, or None when it is not one."""
    name = info.filename
    if "\\" in name or name.startswith("/") or ":" in name:
        return None
    parts = PurePosixPath(name).parts
    if any(p in ("..", ".", "") for p in parts) or len(parts) not in (2, 3):
        return None
    digit, base = parts[-2], parts[-1]
    if len(digit) != 1 or digit not in "0123456789" or base.startswith("."):
        return None
    return int(digit), base


def _check_member(info: zipfile.ZipInfo) -> str | None:
    """Why a member is refused, or None."""
    mode = info.external_attr >> 16
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # no type bits: a plain file
        return "not a regular file"
    if info.file_size > MAX_MEMBER_BYTES:
        return f"larger than {MAX_MEMBER_BYTES:,} bytes"
    if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
        return "compressed suspiciously well"
    if info.flag_bits & 0x1:
        return "encrypted"
    return None


def import_zip(store: DrawingStore, src: str | Path) -> ImportReport:
    """Add every drawing of the zip ``src`` (members ``[top/]0/ … 9/<file>``) to ``store``.

    Raises
    ------
    DataError
        Not a readable zip, too many members, or more than the total size bound declared.
    """
    src = Path(src)
    report = ImportReport()
    try:
        zf = zipfile.ZipFile(src)
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read {src.name} as a zip file ({exc}).") from None
    with zf, tempfile.TemporaryDirectory(prefix="digitpad-import-") as tmp:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise DataError(f"{src.name} has more than {MAX_ZIP_MEMBERS:,} members.")
        if sum(i.file_size for i in infos) > MAX_ZIP_TOTAL_BYTES:
            raise DataError(f"{src.name} declares more than {MAX_ZIP_TOTAL_BYTES:,} bytes.")
        members: dict[tuple[int, str], zipfile.ZipInfo] = {}
        for info in infos:
            if info.is_dir():
                continue
            parts = _member_parts(info)
            why = "not a digit folder's file" if parts is None else _check_member(info)
            if why is not None:
                report.skipped.append((info.filename, why))
                continue
            members[parts] = info

        def extract(info: zipfile.ZipInfo, limit: int, suffix: str) -> Path:
            with zf.open(info) as fh:
                data = fh.read(limit + 1)
            if len(data) > limit:
                raise DataError(f"{info.filename} is larger than declared.")
            out = Path(tempfile.mkstemp(dir=tmp, suffix=suffix)[1])
            out.write_bytes(data)
            return out

        for (digit, base), info in sorted(members.items()):
            low = base.lower()
            if low.endswith((CANVAS_SUFFIX, STROKES_SUFFIX)):
                continue
            if not is_image_path(base):
                report.skipped.append((info.filename, "not an image"))
                continue
            stem = base[: -len(PurePosixPath(base).suffix)]
            try:
                image = extract(info, MAX_MEMBER_BYTES, PurePosixPath(base).suffix)
                canvas_info = members.get((digit, stem + CANVAS_SUFFIX))
                canvas = None if canvas_info is None else extract(
                    canvas_info, MAX_MEMBER_BYTES, ".png")
                strokes_info = members.get((digit, stem + STROKES_SUFFIX))
                data = None
                if strokes_info is not None:
                    with zf.open(strokes_info) as fh:
                        data = fh.read(MAX_STROKES_BYTES + 1)
            except (DataError, zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
                report.skipped.append((info.filename, str(exc) or type(exc).__name__))
                continue
            _add(store, report, info.filename, digit, image, canvas, data)
    return report
