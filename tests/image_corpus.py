"""The hostile-input corpus for images and data sources (issue 13), built at test time.

Each :class:`Case` makes one hostile file (or folder) in a temporary folder -- all small on disk,
however much they declare -- and says which loader gets it and what the one sentence refusing it
must say. :mod:`tests.test_hostile_inputs` runs every case with child processes and memory
watched. Builders return the path to hand to the loader.
"""

from __future__ import annotations

import gzip
import io
import os
import socket
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The PostScript program of issue 13: an EPS header, then an endless loop.
EPS_LOOP = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n{ } loop\n"


@dataclass(frozen=True)
class Case:
    """One hostile input.

    Attributes
    ----------
    name : str
        Test id.
    loader : str
        ``"image"`` (``load_image``) or ``"data"`` (``load_dataset``).
    build : callable
        ``build(folder) -> Path`` writes the input under ``folder`` and returns what to load.
    says : tuple of str
        Fragments the refusing sentence must contain.
    """

    name: str
    loader: str
    build: Callable[[Path], Path]
    says: tuple[str, ...]


def idx_bytes(dims: tuple[int, ...], data: bytes = b"", type_code: int = 0x08) -> bytes:
    """An IDX file: magic, ``dims`` as big-endian uint32, then ``data``."""
    return bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + data


def npy_header_only(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """The ``.npy`` header of an array of ``shape`` -- declared, with no data after it."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def npy_bytes(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _file(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return build


def fifo(folder: Path, name: str) -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def _fifo(name: str) -> Callable[[Path], Path]:
    return lambda folder: fifo(folder, name)


def _socket(folder: Path) -> Path:
    path = folder / "sock.png"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))  # the socket file stays after the socket is closed
    return path


def _link_to_fifo(folder: Path) -> Path:
    target = fifo(folder, "pipe")
    link = folder / "drawing.png"
    link.symlink_to(target)
    return link


def _idx_folder(images: bytes, labels: bytes | None = None, gz: bool = False):
    def build(folder: Path) -> Path:
        root = folder / "idx"
        root.mkdir()
        suffix = ".gz" if gz else ""
        pack = gzip.compress if gz else bytes
        (root / f"train-images-idx3-ubyte{suffix}").write_bytes(pack(images))
        lab = labels if labels is not None else idx_bytes((10,), bytes(10))
        (root / f"train-labels-idx1-ubyte{suffix}").write_bytes(pack(lab))
        return root

    return build


def _idx_fifo(folder: Path) -> Path:
    root = folder / "idx"
    root.mkdir()
    fifo(root, "train-images-idx3-ubyte")
    (root / "train-labels-idx1-ubyte").write_bytes(idx_bytes((10,), bytes(10)))
    return root


def _npz(members: dict[str, bytes]) -> Callable[[Path], Path]:
    return lambda folder: write_zip(folder / "data.npz", members)


def _npz_many_members(folder: Path) -> Path:
    members = {f"junk{i}.npy": b"" for i in range(1_001)}
    return write_zip(folder / "many.npz", members)


def _npz_encrypted(folder: Path) -> Path:
    """A valid npz whose members carry the "encrypted" flag (bit 0) in both zip headers."""
    path = write_zip(folder / "locked.npz", {"x_train.npy": _LABELS10, "y_train.npy": _LABELS10})
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flag_at] |= 0x01
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    return path


def _npz_huge_directory(folder: Path) -> Path:
    """A small npz whose end record declares a 2.15 GB central directory."""
    path = write_zip(folder / "names.npz", {"x_train.npy": _LABELS10, "y_train.npy": _LABELS10})
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 12 : end + 16] = struct.pack("<I", 2**31 - 1)  # size of the central directory
    path.write_bytes(bytes(data))
    return path


def _look_alike_folder(name: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        root = folder / "digits"
        (root / name).mkdir(parents=True)
        (root / name / "a.png").write_bytes(b"")
        return root

    return build


_LABELS10 = npy_bytes(np.zeros(10, dtype=np.uint8))

#: Every refusal case: the loader must raise its error with one sentence saying ``says``.
CASES: tuple[Case, ...] = (
    # point 1: images that would run a program
    Case("eps-loop-named-png", "image", _file("loop.png", EPS_LOOP),
         ("loop.png", "EPS format (Encapsulated Postscript)", "digitpad opens only PNG, JPEG")),
    Case("eps-dos-binary-named-jpg", "image",
         _file("scan.jpg", b"\xc5\xd0\xd3\xc6" + struct.pack("<6I", 30, len(EPS_LOOP), 0, 0, 0, 0)
               + b"\xff\xff" + EPS_LOOP), ("scan.jpg", "EPS", "digitpad opens only")),
    Case("pdf-named-png", "image", _file("page.png", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
         ("page.png", "PDF format (a document, not an image)", "digitpad opens only")),
    # point 4: files that are not regular files
    Case("fifo-image", "image", _fifo("pad.png"), ("pad.png", "FIFO (named pipe)")),
    Case("socket-image", "image", _socket, ("sock.png", "socket, not a regular file")),
    Case("symlink-to-fifo-image", "image", _link_to_fifo, ("drawing.png", "FIFO")),
    Case("dev-urandom-image", "image", lambda _: Path("/dev/urandom"),
         ("/dev/urandom", "character device, not a regular file")),
    Case("fifo-npz", "data", _fifo("data.npz"), ("data.npz", "FIFO (named pipe)")),
    Case("dev-urandom-data", "data", lambda _: Path("/dev/urandom"),
         ("/dev/urandom", "character device, not a regular file or a folder")),
    Case("fifo-idx", "data", _idx_fifo, ("train-images-idx3-ubyte", "FIFO (named pipe)")),
    # point 2: files declaring far more than they hold
    Case("idx-4-billion-images", "data", _idx_folder(idx_bytes((4_000_000_000, 28, 28))),
         ("train-images-idx3-ubyte", "declares 4,000,000,000 images", "the limit is 1,000,000")),
    Case("idx-4-gb-image", "data", _idx_folder(idx_bytes((1, 65_536, 65_536))),
         ("declares an array of shape 1x65536x65536 (4.29 GB)", "the limit is 1 GB")),
    Case("idx-gz-huge-header", "data", _idx_folder(idx_bytes((900_000, 2_000, 2_000)), gz=True),
         ("train-images-idx3-ubyte.gz", "900000x2000x2000 (3.6e+12 bytes)")),
    Case("idx-gzip-bomb", "data",
         _idx_folder(idx_bytes((10, 28, 28), bytes(50_000_000)), gz=True),
         ("should hold 7,840 bytes of data for shape 10x28x28 but holds more",)),
    Case("idx-labels-declare-too-many", "data",
         _idx_folder(idx_bytes((10, 28, 28), bytes(7840)), idx_bytes((3_000_000_000,))),
         ("train-labels-idx1-ubyte", "declares 3,000,000,000 images or labels")),
    Case("npz-member-declares-6-gb", "data",
         _npz({"x_train.npy": npy_header_only((1_000_000, 28, 28, 1)), "y_train.npy": _LABELS10}),
         ("the x_train array in data.npz", "1000000x28x28x1 (6.27 GB)", "the limit is 1 GB")),
    Case("npz-member-declares-overflow", "data",
         _npz({"x_train.npy": _LABELS10, "y_train.npy": npy_header_only((2**40, 2**40), "<i8")}),
         ("the y_train array", "declares 1,099,511,627,776 images")),
    Case("npz-object-array", "data",
         _npz({"x_train.npy": npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True),
               "y_train.npy": _LABELS10}), ("data.npz stores Python objects",)),
    Case("npz-1001-members", "data", _npz_many_members,
         ("many.npz declares 1,001 members", "the limit is 1,000")),
    Case("npz-huge-zip-directory", "data", _npz_huge_directory,
         ("names.npz declares a zip directory of 2.15 GB", "the limit is 1 MB")),
    Case("npz-encrypted-members", "data", _npz_encrypted,
         ("locked.npz holds encrypted (password-protected) arrays",)),
    # points 10 and 12: each its own sentence
    Case("idx-dims-overflow-int64", "data", _idx_folder(idx_bytes((65_536,) * 4)),
         ("65536x65536x65536x65536 (1.84e+19 bytes)",)),
    Case("idx-dims-overflow-uint32-cube", "data", _idx_folder(idx_bytes((2**32 - 1,) * 3)),
         ("declares 4,294,967,295 images",)),
    Case("idx-size-mismatch-exact", "data", _idx_folder(idx_bytes((10, 28, 28), bytes(100))),
         ("should hold 7,840 bytes of data for shape 10x28x28 but holds 100",)),
    Case("npz-1d-images", "data",
         _npz({"x_train.npy": npy_bytes(np.arange(10, dtype=np.uint8)), "y_train.npy": _LABELS10}),
         ("holds a flat list of 10 numbers, not images",)),
    Case("folder-named-superscript-two", "data", _look_alike_folder("²"),
         ("a sub-folder named '²'", "not one of the ASCII digit folders 0 … 9")),
    Case("folder-named-arabic-indic-three", "data", _look_alike_folder("\u0663"),
         ("a sub-folder named '\u0663'", "not one of the ASCII digit folders 0 … 9")),
)
