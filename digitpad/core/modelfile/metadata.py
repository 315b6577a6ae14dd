"""digitpad's metadata inside model files: a ``digitpad.json`` zip entry in ``.keras`` files, a root
attribute ``digitpad`` (JSON text) in ``.h5`` files. Read without loading the model."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from digitpad.core.errors import ModelFileError
from digitpad.core.jsonable import dumps
from digitpad.core.modelfile.formats import format_for_suffix, h5_attr_text
from digitpad.core.modelfile.sentences import fail

METADATA_ENTRY = "digitpad.json"   # zip entry inside .keras files
METADATA_ATTR = "digitpad"         # root attribute of .h5 files
MAX_METADATA_BYTES = 4 * 1024 * 1024


def metadata_json(metadata: dict | None) -> str:
    """``metadata`` (None: ``{}``) as the JSON text stored in a file; ModelFileError if not a dict."""
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise fail("model metadata must be a dictionary")
    return dumps(metadata, sort_keys=True)


def read_metadata(path: str | os.PathLike) -> dict:
    """Read digitpad's metadata stored inside a model file, without loading the model.

    Parameters
    ----------
    path
        A ``.keras`` or ``.h5`` file.

    Returns
    -------
    dict
        The metadata (architecture, training config, metrics, data, date, ...) or ``{}`` when the
        file has none (e.g. a model saved by plain Keras) or it is unreadable JSON.

    Raises
    ------
    ModelFileError
        The file is missing or is not a readable ``.keras``/``.h5`` file.
    """
    path = Path(path)
    if not path.is_file():
        raise fail(f"model file {path} does not exist")
    fmt = format_for_suffix(path)
    if fmt is None:
        raise fail(f"{path.name} is not a model file name; use .keras or .h5")
    text: str
    try:
        if fmt == "keras":
            with zipfile.ZipFile(path) as zf:
                try:
                    info = zf.getinfo(METADATA_ENTRY)
                except KeyError:
                    return {}
                if info.file_size > MAX_METADATA_BYTES:
                    return {}
                text = zf.read(info).decode("utf-8")
        else:
            import h5py

            with h5py.File(path, "r") as f:
                if METADATA_ATTR not in f.attrs:
                    return {}
                text = h5_attr_text(f.attrs[METADATA_ATTR])
    except ModelFileError:
        raise
    except Exception as exc:
        raise fail(f"cannot read the metadata of {path.name}: it is corrupt or not a model file "
                   f"({exc})") from None
    if len(text) > MAX_METADATA_BYTES:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


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


__all__ = ["METADATA_ENTRY", "METADATA_ATTR", "metadata_json", "read_metadata", "write_metadata"]
