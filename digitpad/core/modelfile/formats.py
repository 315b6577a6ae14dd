"""Model file formats: suffixes, magic bytes, and reading the model config out of a file.

Nothing here imports Keras or deserialises anything: ``zipfile``, ``h5py`` and ``json`` only.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from digitpad.core.errors import ModelFileError
from digitpad.core.modelfile.limits import check_weight_arrays, check_zip_entries
from digitpad.core.modelfile.sentences import fail

#: THE model file suffixes digitpad reads and writes, each mapped to its format ("keras" | "h5").
#: ``suffix in MODEL_SUFFIXES`` tests a name; iterating gives the suffixes.
MODEL_SUFFIXES = MappingProxyType({".keras": "keras", ".h5": "h5", ".hdf5": "h5"})

ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_CONFIG_BYTES = 64 * 1024 * 1024            # a model config larger than this is not an MNIST model
WEIGHTS_ENTRY = "model.weights.h5"             # the weights inside a .keras zip
_HEADER_BYTES = 1032                           # enough for an HDF5 superblock at offset 1024


def format_for_suffix(path: str | os.PathLike) -> str | None:
    """``"keras"`` or ``"h5"`` for a model file name, by its suffix (any case); None otherwise."""
    return MODEL_SUFFIXES.get(Path(path).suffix.lower())


def has_hdf5_signature(header: bytes) -> bool:
    """True when ``header`` holds an HDF5 superblock (at 0, 512 or 1024, after a user block)."""
    return any(header[off: off + 8] == HDF5_MAGIC for off in (0, 512, 1024))


def sniff_format(path: Path, name: str | None = None) -> str:
    """The format of the model file at ``path`` from its suffix and magic bytes.

    Parameters
    ----------
    path
        A regular file named ``*.keras``, ``*.h5`` or ``*.hdf5`` (normally the private snapshot
        of :mod:`~digitpad.core.modelfile.snapshot`).
    name
        The name used in messages (default: ``path``'s own).

    Returns
    -------
    str
        ``"keras"`` (a zip archive) or ``"h5"`` (an HDF5 file).

    Raises
    ------
    ModelFileError
        Another suffix, unreadable, empty, a PNG image, or contents that do not match the suffix
        (an HDF5 file named ``.keras``, a zip named ``.h5``, anything else).
    """
    name = name or path.name
    expected = format_for_suffix(path)
    if expected is None:
        raise fail(f"{name} is not a model file name; use .keras or .h5")
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            header = fh.read(_HEADER_BYTES)
    except OSError as exc:
        raise fail(f"cannot read {name}: {exc.strerror or exc}") from None
    if size == 0:
        raise fail(f"{name} is empty (0 bytes), so it is not a model")
    if header.startswith(PNG_MAGIC):
        raise fail(f"{name} is a PNG image, not a model file")
    is_zip = header.startswith(ZIP_MAGIC)
    is_h5 = has_hdf5_signature(header)
    if expected == "keras" and not is_zip:
        if is_h5:
            raise fail(f"{name} is an HDF5 (.h5) model file with a .keras name; rename it to .h5")
        raise fail(f"{name} is not a Keras model file (it is not a .keras zip archive, "
                   "or it is corrupt or truncated)")
    if expected == "h5" and not is_h5:
        if is_zip:
            raise fail(f"{name} is a .keras zip archive with an .h5 name; rename it to .keras")
        raise fail(f"{name} is not a Keras model file (it is not an HDF5 file, "
                   "or it is corrupt or truncated)")
    return expected


def parse_json(text: bytes | str, filename: str, what: str) -> Any:
    """``json.loads(text)``; ModelFileError naming ``what`` in ``filename`` when it is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise fail(f"{filename} has a {what} that is not valid JSON, so it is corrupt") from None


def h5_attr_text(value: Any) -> str:
    """An HDF5 attribute (bytes, numpy scalar or str) as text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return h5_attr_text(value.item())
    return str(value)


def _config_object(config: Any, name: str) -> dict:
    if not isinstance(config, dict):
        raise fail(f"{name} has a model configuration that is not a JSON object, "
                   "so it is not a Keras model")
    return config


def _check_keras_weights(zf: zipfile.ZipFile, path: Path, name: str) -> None:
    """Weight-array shapes of the ``model.weights.h5`` inside a ``.keras`` zip, within limits.

    A stored (uncompressed) entry is read in place; a compressed one is first unpacked next to
    ``path`` (the private snapshot's folder), so h5py's seeks never re-inflate it.
    """
    import h5py

    if WEIGHTS_ENTRY not in zf.namelist():
        return
    info = zf.getinfo(WEIGHTS_ENTRY)
    try:
        if info.compress_type == zipfile.ZIP_STORED:
            with zf.open(info) as entry, h5py.File(entry, "r") as f:
                check_weight_arrays(f, name)
        else:
            unpacked = Path(zf.extract(info, path.parent / ".weights"))
            try:
                with h5py.File(unpacked, "r") as f:
                    check_weight_arrays(f, name)
            finally:
                unpacked.unlink(missing_ok=True)
    except ModelFileError:
        raise
    except Exception:
        raise fail(f"{name} has a weights file inside that is corrupt (not a readable HDF5 file)") from None


def read_keras_config(path: Path, name: str | None = None) -> dict:
    """The decoded ``config.json`` of a ``.keras`` zip, after checking the whole archive.

    ``name`` is used in messages (default: ``path``'s own).

    Raises
    ------
    ModelFileError
        An encrypted entry, a possible zip bomb, a CRC error in any entry, no ``config.json`` or
        no weights inside, weight arrays over the limits, an oversized or non-JSON config, or an
        unreadable archive.
    """
    name = name or path.name
    try:
        with zipfile.ZipFile(path) as zf:
            check_zip_entries(zf, name)   # encryption, unpacked size, every CRC
            names = set(zf.namelist())
            if "config.json" not in names:
                raise fail(f"{name} is a zip file without config.json, so it is not a Keras model")
            info = zf.getinfo("config.json")
            if info.file_size > MAX_CONFIG_BYTES:
                raise fail(f"{name} has a model configuration of {info.file_size} bytes, "
                           "far too big to be real")
            if not any(n.endswith(".h5") or n.endswith(".npz") for n in names):
                raise fail(f"{name} has no weights file inside, so it is not a complete Keras model")
            _check_keras_weights(zf, path, name)
            raw = zf.read("config.json")
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError):
        raise fail(f"{name} is corrupt or truncated (not a readable zip archive)") from None
    return _config_object(parse_json(raw, name, "model configuration"), name)


def read_h5_config(path: Path, name: str | None = None) -> tuple[dict, dict | None]:
    """``(model config, training config or None)`` of a Keras ``.h5`` file.

    ``name`` is used in messages (default: ``path``'s own).

    Raises
    ------
    ModelFileError
        No model in the file (weights only, or a plain HDF5 file), no weights, weight arrays over
        the limits (shapes are read, never data), a damaged or truncated file, an oversized or
        non-JSON config.
    """
    import h5py

    name = name or path.name
    try:
        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs:
                if "model_weights" in f or "layer_names" in f.attrs or "layers" in f:
                    raise fail(f"{name} has no model in it (it holds only weights, "
                               "not a model architecture)")
                raise fail(f"{name} has no model in it (an HDF5 file without a Keras model "
                           "configuration)")
            config_text = h5_attr_text(f.attrs["model_config"])
            training_text = (h5_attr_text(f.attrs["training_config"])
                             if "training_config" in f.attrs else None)
            if "model_weights" not in f and not any(isinstance(f[k], h5py.Group) for k in f):
                raise fail(f"{name} has a model configuration but no weights, so it is incomplete")
            check_weight_arrays(f, name)
    except ModelFileError:
        raise
    except Exception as exc:  # h5py raises OSError/KeyError/RuntimeError for damaged files
        found = re.search(r"eof = (\d+).*stored_eof = (\d+)", str(exc))
        if found:
            raise fail(
                f"{name} is truncated (it ends after {found.group(1)} of its {found.group(2)} bytes)"
            ) from None
        raise fail(f"{name} is corrupt or truncated (not a readable HDF5 file)") from None
    if len(config_text) > MAX_CONFIG_BYTES:
        raise fail(f"{name} has a model configuration far too big to be real")
    config = _config_object(parse_json(config_text, name, "model configuration"), name)
    training = None
    if training_text:
        training = parse_json(training_text, name, "training configuration")
    return config, training if isinstance(training, dict) else None


__all__ = [
    "MODEL_SUFFIXES",
    "format_for_suffix",
    "has_hdf5_signature",
    "sniff_format",
    "parse_json",
    "h5_attr_text",
    "read_keras_config",
    "read_h5_config",
]
