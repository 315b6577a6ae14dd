"""Bounds on what a model file may declare, checked before Keras builds or extracts anything.

A small file can declare a huge model: a 43 KB config asking for a 32768 x 32768 Dense, a zip
entry that unpacks to gigabytes, an HDF5 dataset of a billion empty chunks, a ``__numpy__`` value of
a gigantic dtype, thousands of layers that take minutes to build. Every limit here is far above any
digit model (digitpad's own architectures have at most 3.3 M parameters and 26 layers); above it the
file is refused with one sentence, having read only its structure (zip directory, HDF5 shapes, JSON).
"""

from __future__ import annotations

import zipfile
from typing import Any

import numpy as np

from digitpad.core.modelfile.sentences import fail

MAX_PARAMS = 50_000_000                    # weights a model may declare (config or weight arrays)
MAX_WEIGHT_BYTES = 512 * 1024 * 1024       # bytes of all weight arrays in the file together
MAX_LAYERS = 200                           # layers, counting those of nested models
MAX_CALLS = 1_000                          # layer calls (inbound nodes) in functional models
MAX_DEPTH = 64                             # nesting of the JSON model configuration
MAX_UNPACKED_BYTES = 512 * 1024 * 1024     # a .keras zip's entries, unpacked, together
MAX_ACTIVATION = 16_000_000                # numbers one layer may output for one image
MAX_NUMPY_VALUES = 1_000_000               # numbers in one ``__numpy__`` value of a config
_NUMPY_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                 "float16", "bfloat16", "float32", "float64"}
_CHUNK = 1024 * 1024


def millions(n: int) -> str:
    """``n`` in words for messages, e.g. ``"1,074 million"``."""
    return f"{n / 1e6:,.0f} million" if n >= 10_000_000 else f"{n:,}"


def _mb(n: int) -> str:
    return f"{n // (1024 * 1024):,} MB"


def check_zip_entries(zf: zipfile.ZipFile, name: str) -> None:
    """Refuse encrypted entries and more than :data:`MAX_UNPACKED_BYTES` unpacked, declared or real.

    Every entry is decompressed once, in 1 MB pieces that are counted and dropped (nothing is
    kept or written), which also verifies each entry's CRC.

    Raises
    ------
    ModelFileError
        An encrypted entry, declared or actual unpacked size over the limit, a CRC mismatch.
    """
    infos = zf.infolist()
    for info in infos:
        if info.flag_bits & 0x1:
            raise fail(f"{name} has an encrypted entry ({info.filename[:80]!r}); a Keras model file "
                       "is never encrypted, so it is refused")
    declared = sum(info.file_size for info in infos)
    if declared > MAX_UNPACKED_BYTES:
        raise fail(f"{name} would unpack to {_mb(declared)}, far more than any digit model "
                   f"(the limit is {_mb(MAX_UNPACKED_BYTES)}); it is refused as a possible zip bomb")
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        try:
            with zf.open(info) as entry:
                while chunk := entry.read(_CHUNK):
                    total += len(chunk)
                    if total > MAX_UNPACKED_BYTES:
                        raise fail(f"{name} unpacks to more than {_mb(MAX_UNPACKED_BYTES)}, far more "
                                   "than any digit model; it is refused as a possible zip bomb")
        except zipfile.BadZipFile:
            raise fail(f"{name} is corrupt (the checksum of its entry {info.filename[:80]!r} does "
                       "not match)") from None


def _depth(node: Any, limit: int) -> int:
    """Nesting depth of a JSON value, stopping (with ``limit + 1``) once it exceeds ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(node, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return depth
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return deepest


def _count_numbers(value: Any) -> int | None:
    """How many numbers a ``__numpy__`` value holds; None if it holds anything but numbers."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, (int, float)):   # bool is an int
            count += 1
        else:
            return None
    return count


def _check_numpy(node: dict, name: str) -> None:
    cfg = node.get("config")
    if not isinstance(cfg, dict):
        raise fail(f"{name} has a malformed array value (__numpy__) in its model configuration")
    dtype = cfg.get("dtype")
    if dtype not in _NUMPY_DTYPES:
        raise fail(f"{name} has an array value of type {str(dtype)[:40]!r} in its model "
                   "configuration; only plain numbers are allowed there")
    count = _count_numbers(cfg.get("value"))
    if count is None:
        raise fail(f"{name} has an array value (__numpy__) holding something other than numbers")
    if count > MAX_NUMPY_VALUES:
        raise fail(f"{name} has an array value of {millions(count)} numbers in its model "
                   "configuration, far more than any digit model")


def check_config_structure(config: Any, name: str) -> None:
    """Refuse a config nested deeper than :data:`MAX_DEPTH`, with more than :data:`MAX_LAYERS`
    layers or :data:`MAX_CALLS` layer calls, or with a ``__numpy__`` value that is not a modest
    array of plain numbers."""
    if _depth(config, MAX_DEPTH) > MAX_DEPTH:
        raise fail(f"{name} has a model configuration nested more than {MAX_DEPTH} levels deep, "
                   "far deeper than any real model")
    layers = calls = 0
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("class_name") == "__numpy__":
                _check_numpy(node, name)
            inner = node.get("layers")
            if inner is None and node.get("class_name") == "Sequential":
                inner = node.get("config")   # Keras 2: the layer list itself
            if isinstance(inner, list):
                layers += len(inner)
                if layers > MAX_LAYERS:
                    raise fail(f"{name} has more than {MAX_LAYERS:,} layers, far more than any "
                               "digit model")
            nodes = node.get("inbound_nodes")
            if isinstance(nodes, list):
                calls += len(nodes)
                if calls > MAX_CALLS:
                    raise fail(f"{name} calls its layers more than {MAX_CALLS:,} times, far more "
                               "than any digit model")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def check_weight_arrays(group: Any, name: str) -> None:
    """Refuse weight arrays (HDF5 datasets under ``group``) holding more than :data:`MAX_PARAMS`
    numbers or :data:`MAX_WEIGHT_BYTES` together, or of a non-numeric type. Reads shapes only."""
    import h5py

    totals = {"values": 0, "bytes": 0}

    def visit(_key: str, obj: Any) -> None:
        if not isinstance(obj, h5py.Dataset):
            return
        plain = obj.dtype.kind in "biuf" or (   # bfloat16 is stored as 2 opaque bytes
            obj.dtype.kind == "V" and obj.dtype.fields is None and obj.dtype.itemsize <= 8)
        if not plain:
            raise fail(f"{name} has a weight array of type {str(obj.dtype)[:40]}, not numbers")
        count = int(np.prod(obj.shape, dtype=object)) if obj.shape else 1
        totals["values"] += count
        totals["bytes"] += count * obj.dtype.itemsize
        if totals["values"] > MAX_PARAMS or totals["bytes"] > MAX_WEIGHT_BYTES:
            raise fail(f"{name} declares weight arrays of more than {millions(MAX_PARAMS)} numbers "
                       f"or {_mb(MAX_WEIGHT_BYTES)} in all, far more than any digit model")

    group.visititems(visit)


def check_param_count(params: int, name: str) -> None:
    """Refuse a model whose configuration declares more than :data:`MAX_PARAMS` weights."""
    if params > MAX_PARAMS:
        raise fail(f"{name} declares a model of {millions(params)} weights, far more than any digit "
                   f"model (the limit is {millions(MAX_PARAMS)})")


__all__ = ["MAX_PARAMS", "MAX_WEIGHT_BYTES", "MAX_LAYERS", "MAX_CALLS", "MAX_DEPTH", "MAX_UNPACKED_BYTES",
           "MAX_ACTIVATION", "MAX_NUMPY_VALUES", "check_zip_entries", "check_config_structure",
           "check_weight_arrays", "check_param_count", "millions"]
