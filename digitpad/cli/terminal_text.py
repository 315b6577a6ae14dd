"""Text from files made safe for a terminal: control characters shown, never obeyed.

A model file's metadata and layer names, a data folder's name or an image's file name are
untrusted text. Printed raw, an ESC sequence in them clears the screen or recolours it, a
carriage return overwrites the line, and a tab or newline in a file name makes
``path<TAB>digit`` output ambiguous. Every such string goes through :func:`shown` before it
reaches text output; JSON output stays exact (JSON escapes control characters itself).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_SURROGATE_BYTES = range(0xDC80, 0xDD00)  # os.fsdecode's stand-ins for bytes that are not UTF-8
MAX_SHOWN_CHARS = 2000  # a longer string from a file is cut in text output (--json has it all)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code in _SURROGATE_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def shown(text: object, *, backslash: bool = True) -> str:
    """``text`` with every character a terminal would act on written out as an escape.

    Parameters
    ----------
    text
        Any value; its ``str()`` is shown.
    backslash
        Double backslashes too (default), so that an escape in the result cannot be confused
        with the same characters in the name itself; error sentences pass False.

    Returns
    -------
    str
        Printable Unicode and spaces kept; tab, newline and carriage return as ``\\t``, ``\\n``,
        ``\\r``; other control, format (bidirectional overrides), separator and unassigned
        characters as ``\\xNN`` / ``\\uNNNN``; a byte that is not UTF-8 in a file name as ``\\xNN``.
    """
    s = str(text)
    if s.isprintable() and not (backslash and "\\" in s):
        return s
    parts = []
    for ch in s:
        if ch == "\\":
            parts.append("\\\\" if backslash else ch)
        elif ch in _NAMED:
            parts.append(_NAMED[ch])
        elif ch == " " or ch.isprintable():
            parts.append(ch)
        else:
            parts.append(_escape(ch))
    return "".join(parts)


def shown_short(text: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """:func:`shown` of ``text``, cut to ``limit`` characters with a note of the full length."""
    s = str(text)
    if len(s) <= limit:
        return shown(s)
    return f"{shown(s[:limit])}… ({len(s):,} characters in all; --json shows them)"


def shown_tree(value: Any) -> Any:
    """``value`` (dicts, lists, scalars) with every string in it, keys too, :func:`shown_short`.

    Numbers, booleans and None are kept, so the report can still format them as numbers; any
    other object (a path, ...) becomes its shown text.
    """
    if value is None or isinstance(value, numbers.Number):
        return value
    if isinstance(value, Mapping):
        return {shown_short(k): shown_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown_tree(v) for v in value]
    return shown_short(value)
