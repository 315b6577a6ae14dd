"""A private snapshot of a model file: the bytes that are checked are the bytes Keras loads.

The pre-flight check and Keras must read the *same* bytes; a file swapped between the two reads (a
benign model checked, a Lambda model loaded) would defeat the check. :func:`private_snapshot` reads
the named file exactly once into a new file in a private temporary folder (mode 0700, the copy
0600) and yields that copy; everything after - the check, the metadata, Keras - reads the copy,
which no one else can write. Only regular files are read: a FIFO, a device or a socket is refused
before anything blocks on it.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from digitpad.core.modelfile.formats import format_for_suffix
from digitpad.core.modelfile.sentences import fail

#: A model file larger than this is refused before it is read (any digit model is far smaller).
MAX_FILE_BYTES = 1024 * 1024 * 1024
_CHUNK = 1024 * 1024
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    for test, words in _KINDS:
        if test(mode):
            return words
    return "not a regular file"


def _refuse_irregular(path: Path, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise fail(f"{path} is a folder, not a model file (use a .keras or .h5 file)")
    if not stat.S_ISREG(mode):
        raise fail(f"{path.name} is {_kind(mode)}, not a regular file, so it is not read as a model")


def regular_file_fd(path: Path) -> int:
    """Open ``path`` for reading without ever blocking; refuse anything but a regular file.

    ``os.stat`` first (a FIFO is refused without opening it), then ``O_NONBLOCK`` and ``fstat`` on
    the descriptor (the name may have been replaced in between).

    Raises
    ------
    ModelFileError
        Missing, a folder, a FIFO, a device, a socket, unreadable, or larger than
        :data:`MAX_FILE_BYTES`.
    """
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise fail(f"model file {path} does not exist") from None
    except OSError as exc:
        raise fail(f"cannot read {path.name}: {exc.strerror or exc}") from None
    _refuse_irregular(path, before.st_mode)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise fail(f"cannot read {path.name}: {exc.strerror or exc}") from None
    try:
        now = os.fstat(fd)
        _refuse_irregular(path, now.st_mode)
        if now.st_size > MAX_FILE_BYTES:
            raise fail(f"{path.name} is {now.st_size // (1024 * 1024)} MB, far larger than any "
                       f"digit model (the limit is {MAX_FILE_BYTES // (1024 * 1024)} MB)")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _copy_bounded(src_fd: int, dst_fd: int, name: str) -> None:
    total = 0
    while True:
        chunk = os.read(src_fd, _CHUNK)
        if not chunk:
            return
        total += len(chunk)
        if total > MAX_FILE_BYTES:   # the file grew while being read
            raise fail(f"{name} grew past {MAX_FILE_BYTES // (1024 * 1024)} MB while it was read")
        view = memoryview(chunk)
        while view:
            view = view[os.write(dst_fd, view):]


@contextmanager
def private_snapshot(path: str | os.PathLike) -> Iterator[Path]:
    """Copy the model file at ``path`` once into a private folder; yield the copy; delete it.

    Parameters
    ----------
    path
        A ``.keras`` or ``.h5``/``.hdf5`` file (the suffix in any case).

    Yields
    ------
    Path
        The private copy, named ``model.keras`` or ``model.h5`` (lower case, so Keras recognises
        it), in a folder only this user can open.

    Raises
    ------
    ModelFileError
        Missing, a folder, not a regular file, another suffix, unreadable or too large.
    """
    path = Path(path)
    fd = regular_file_fd(path)
    try:
        fmt = format_for_suffix(path)
        if fmt is None:
            raise fail(f"{path.name} is not a model file name; use .keras or .h5")
        folder = Path(tempfile.mkdtemp(prefix="digitpad-model-"))   # mode 0700
    except BaseException:
        os.close(fd)
        raise
    copy = folder / ("model.keras" if fmt == "keras" else "model.h5")
    try:
        try:
            out = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                          0o600)
            try:
                _copy_bounded(fd, out, path.name)
            finally:
                os.close(out)
        except OSError as exc:
            raise fail(f"cannot read {path.name}: {exc.strerror or exc}") from None
        finally:
            os.close(fd)
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


__all__ = ["MAX_FILE_BYTES", "private_snapshot", "regular_file_fd"]
