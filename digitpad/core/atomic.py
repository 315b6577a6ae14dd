"""Atomic file writes: write a temporary file beside the target, then rename it into place.

An interrupted write (a crash, a kill, a full disk) leaves the previous file untouched and no
half-written target behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it onto ``target``.

    Parameters
    ----------
    target
        Final file path.
    suffix
        Suffix of the temporary file (defaults to the target's, which some writers need).

    Notes
    -----
    On an exception the temporary file is removed and the exception propagates; ``target`` is
    left as it was.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    tmp_suffix = (suffix if suffix is not None else target.suffix) + ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=tmp_suffix, dir=folder)
    os.close(fd)
    tmp_path = Path(tmp)
    # Some writers (Keras) insist on a specific suffix; give them the real suffix.
    real_tmp = tmp_path.with_name(tmp_path.name[: -len(".tmp")])
    try:
        tmp_path.unlink()
        yield real_tmp
        with open(real_tmp, "rb+") as fh:
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(real_tmp, target)
        with contextlib.suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            real_tmp.unlink()
        raise


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``target`` atomically."""
    atomic_write_bytes(target, text.encode(encoding))
