"""The one conversion of digitpad's values to plain JSON (run history, model metadata, CLI output)."""

from __future__ import annotations

import json
import math
import os
from enum import Enum
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """Return ``value`` as plain JSON types.

    Parameters
    ----------
    value
        Any nesting of dicts, lists, tuples, sets, numpy arrays and scalars, paths, enums,
        strings, numbers, booleans and ``None``.

    Returns
    -------
    Any
        The same structure built from ``dict``/``list``/``str``/``int``/``float``/``bool``/``None``.
        Non-finite floats become ``None`` (JSON has no NaN); keys become strings; other objects
        become their ``str()``.
    """
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """``json.dumps`` of :func:`to_jsonable` (strict JSON: no NaN, UTF-8 kept)."""
    return json.dumps(to_jsonable(value), indent=indent, sort_keys=sort_keys,
                      ensure_ascii=False, allow_nan=False)


__all__ = ["to_jsonable", "dumps"]
