"""digitpad's metadata inside model files: a ``digitpad.json`` zip entry in ``.keras`` files, a root
attribute ``digitpad`` (JSON text) in ``.h5`` files. Read without loading the model."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

from digitpad.core.jsonable import dumps
from digitpad.core.modelfile.formats import format_for_suffix, h5_attr_text
from digitpad.core.modelfile.sentences import fail

METADATA_ENTRY = "digitpad.json"   # zip entry inside .keras files
METADATA_ATTR = "digitpad"         # root attribute of .h5 files
MAX_METADATA_BYTES = 4 * 1024 * 1024
MAX_METADATA_DEPTH = 16
_KEY_TYPES: dict[str, type | tuple[type, ...]] = {
    "arch": str, "config": dict, "metrics": dict, "result": dict, "data": (str, dict),
    "date": str,
}


def metadata_json(metadata: dict | None) -> str:
    """``metadata`` (None: ``{}``) as the JSON text stored in a file; ModelFileError if not a dict."""
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise fail("model metadata must be a dictionary")
    return dumps(metadata, sort_keys=True)


def _plain(data: Any) -> dict:
    """The metadata as digitpad's readers expect it: known keys of the wrong type are dropped.

    A file can hold any JSON; ``arch`` must be text and ``config``/``metrics``/``result``/``data``
    objects (``data`` may also be text), or the readers would fail on them.
    """
    if not isinstance(data, dict):
        return {}
    plain = {}
    for key, value in data.items():
        expected = _KEY_TYPES.get(key)
        if expected is None or value is None or isinstance(value, expected):
            plain[key] = value
    return plain


def _too_deep(value: Any) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_METADATA_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _read_text(path: Path, fmt: str) -> str | None:
    if fmt == "keras":
        with zipfile.ZipFile(path) as zf:
            try:
                info = zf.getinfo(METADATA_ENTRY)
            except KeyError:
                return None
            if info.file_size > MAX_METADATA_BYTES or info.flag_bits & 0x1:
                return None
            return zf.read(info).decode("utf-8", errors="replace")
    import h5py

    with h5py.File(path, "r") as f:
        if METADATA_ATTR not in f.attrs:
            return None
        return h5_attr_text(f.attrs[METADATA_ATTR])


def read_snapshot_metadata(copy: Path, name: str) -> dict:
    """digitpad's metadata in the private snapshot ``copy`` of the model file ``name``.

    Unreadable, oversized (over 4 MB), non-JSON or deeply nested (over 16 levels) metadata is
    treated as none (``{}``); known keys of the wrong type are dropped (see :func:`read_metadata`).
    """
    fmt = format_for_suffix(copy)
    if fmt is None:
        raise fail(f"{name} is not a model file name; use .keras or .h5")
    try:
        text = _read_text(copy, fmt)
    except Exception as exc:
        raise fail(f"cannot read the metadata of {name}: it is corrupt or not a model file "
                   f"({exc})") from None
    if text is None or len(text) > MAX_METADATA_BYTES:
        return {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    if _too_deep(data):
        return {}
    return _plain(data)


def read_metadata(path: str | os.PathLike) -> dict:
    """Read digitpad's metadata stored inside a model file, without loading the model.

    Parameters
    ----------
    path
        A ``.keras`` or ``.h5`` file (read once, into a private snapshot).

    Returns
    -------
    dict
        The metadata (architecture, training config, metrics, data, date, ...) or ``{}`` when the
        file has none (e.g. a model saved by plain Keras), or it is unreadable, not JSON, over
        4 MB or nested more than 16 levels. Known keys of the wrong type are left out: ``arch``
        is always text, ``config``, ``metrics`` and ``result`` always objects.

    Raises
    ------
    ModelFileError
        The file is missing, not a regular file, or not a readable ``.keras``/``.h5`` file.
    """
    from digitpad.core.modelfile.snapshot import private_snapshot

    path = Path(path)
    with private_snapshot(path) as copy:
        return read_snapshot_metadata(copy, path.name)


def write_metadata(file: Path, fmt: str, text: str) -> None:
    """Add the metadata JSON ``text`` to the freshly saved model ``file`` of format ``fmt``."""
    if fmt == "keras":
        with zipfile.ZipFile(file, "a", compression=zipfile.ZIP_DEFLATED) as zf:
            if METADATA_ENTRY in zf.namelist():
                raise fail(f"the model file already has a {METADATA_ENTRY} entry")
            zf.writestr(METADATA_ENTRY, text)
    else:
        import h5py

        with h5py.File(file, "a") as f:
            f.attrs[METADATA_ATTR] = text


__all__ = ["METADATA_ENTRY", "METADATA_ATTR", "metadata_json", "read_metadata",
           "read_snapshot_metadata", "write_metadata"]
