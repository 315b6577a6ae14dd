"""Opening untrusted input files -- images, IDX files, ``.npz`` files -- without ever blocking.

Only regular files are read. A FIFO (named pipe) would block :func:`open` until someone writes to
it, a character device such as ``/dev/urandom`` never ends, and a socket or block device is no
file of digits either; each is refused with a clause saying what it is. The check is made twice:
``os.stat`` on the name first (so a FIFO is refused without being opened at all), then ``fstat`` on
the descriptor opened with ``O_NONBLOCK`` (the name may have been replaced in between), and the
descriptor is what the caller reads -- the bytes checked are the bytes used.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words: ``"a regular file"``, ``"a folder"``, ``"a FIFO (named pipe)"``, ...

    Parameters
    ----------
    mode : int
        ``os.stat(...).st_mode``.

    Returns
    -------
    str
        A noun phrase with its article.
    """
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    for test, words in _KINDS:
        if test(mode):
            return words
    return "not a regular file"


def _check(mode: int, fail: Callable[[str], Exception]) -> None:
    if stat.S_ISDIR(mode):
        raise fail("it is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise fail(f"it is {file_kind(mode)}, not a regular file")


def open_regular(path: str | os.PathLike, fail: Callable[[str], Exception]) -> BinaryIO:
    """Open ``path`` for binary reading if, and only if, it is a regular file; never block.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read (symbolic links are followed).
    fail : callable
        Turns a clause such as ``"it is a FIFO (named pipe), not a regular file"`` or ``"the file
        does not exist"`` into the exception to raise (the caller names the file).

    Returns
    -------
    BinaryIO
        A buffered binary file object on the checked descriptor (blocking mode restored), which
        the caller closes.

    Raises
    ------
    Exception
        Whatever ``fail`` returns: missing, a folder, a FIFO, a device, a socket, or unreadable.
    """
    path = Path(path)
    try:
        _check(os.stat(path).st_mode, fail)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise fail("the file does not exist") from None
    except PermissionError:
        raise fail("permission denied") from None
    except OSError as exc:
        raise fail(f"it cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        _check(os.fstat(fd).st_mode, fail)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
