"""The strokes of a labelled drawing as JSON: points, pen widths and timing, read back strictly.

A strokes file is untrusted when it comes from an import: it is read with a size bound, parsed,
and every field is checked (finite numbers, bounded counts) before anything uses it. Written
files have this layout::

    {"format": "digitpad-strokes", "version": 1, "canvas": 280,
     "created": "2026-12-02T08:15:00+00:00",
     "strokes": [{"width": 18.5, "points": [[x, y, pressure, t], ...]}, ...]}

``x``/``y`` are canvas pixels (y down), ``pressure`` 0..1, ``t`` seconds since the drawing's
first point (``null`` when the pad did not record it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from digitpad.core.errors import DataError

FORMAT = "digitpad-strokes"
VERSION = 1
#: Largest strokes file read (a long scribble of 2,000 points is about 60 kB).
MAX_STROKES_BYTES = 2_000_000
#: Most strokes and points (all strokes together) a file may hold.
MAX_STROKES = 1_000
MAX_POINTS = 100_000
#: Largest canvas coordinate accepted (the pad's canvas is 280 wide; strokes may leave it a bit).
MAX_COORDINATE = 10_000.0


@dataclass
class PenStroke:
    """One pen-down ... pen-up stroke: width in canvas pixels, ``(x, y, pressure)`` points and
    the time of each point in seconds (``None`` when unknown)."""

    width: float
    points: list[tuple[float, float, float]]
    times: list[float | None] = field(default_factory=list)

    def xy(self) -> np.ndarray:
        """The points' ``(x, y)`` as a float64 ``(n, 2)`` array."""
        return np.asarray([(p[0], p[1]) for p in self.points], dtype=np.float64).reshape(-1, 2)


def encode_strokes(strokes: Sequence[PenStroke], *, canvas: int, created: str) -> str:
    """The JSON text of ``strokes`` (see the module docstring).

    Parameters
    ----------
    strokes
        The drawing's strokes in order.
    canvas
        Side of the canvas the coordinates refer to.
    created
        ISO 8601 time the drawing was labelled.

    Returns
    -------
    str
        Compact JSON (numbers rounded to 1/100 pixel and 1/1000 second).
    """
    out = []
    for s in strokes:
        times = list(s.times) + [None] * (len(s.points) - len(s.times))
        pts = [[round(float(x), 2), round(float(y), 2), round(float(p), 3),
                None if t is None else round(float(t), 3)]
               for (x, y, p), t in zip(s.points, times, strict=False)]
        out.append({"width": round(float(s.width), 2), "points": pts})
    doc = {"format": FORMAT, "version": VERSION, "canvas": int(canvas), "created": created,
           "strokes": out}
    return json.dumps(doc, separators=(",", ":"), allow_nan=False)


def _number(value: Any, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataError(f"the strokes file has a {what} that is not a number.")
    v = float(value)
    if not math.isfinite(v) or not (low <= v <= high):
        raise DataError(f"the strokes file has a {what} out of range ({value!r}).")
    return v


def decode_strokes(data: bytes) -> list[PenStroke]:
    """Parse and check the bytes of a strokes file.

    Parameters
    ----------
    data
        The file's bytes (at most :data:`MAX_STROKES_BYTES`).

    Returns
    -------
    list of PenStroke

    Raises
    ------
    DataError
        Too large, not UTF-8 JSON, not a digitpad strokes document, or a field out of range
        (one sentence).
    """
    if len(data) > MAX_STROKES_BYTES:
        raise DataError(f"the strokes file is larger than {MAX_STROKES_BYTES:,} bytes.")
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DataError(f"the strokes file is not valid JSON ({_short(exc)}).") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataError("the file is not a digitpad strokes file.")
    if doc.get("version") != VERSION:
        raise DataError(f"the strokes file has version {doc.get('version')!r}; "
                        f"this digitpad reads version {VERSION}.")
    raw = doc.get("strokes")
    if not isinstance(raw, list) or len(raw) > MAX_STROKES:
        raise DataError(f"the strokes file needs a list of at most {MAX_STROKES} strokes.")
    strokes: list[PenStroke] = []
    total = 0
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("points"), list):
            raise DataError("the strokes file has a stroke without a list of points.")
        width = _number(item.get("width"), "pen width", 0.1, 1000.0)
        total += len(item["points"])
        if total > MAX_POINTS:
            raise DataError(f"the strokes file holds more than {MAX_POINTS:,} points.")
        points, times = [], []
        for p in item["points"]:
            if not isinstance(p, list) or len(p) not in (3, 4):
                raise DataError("the strokes file has a point that is not [x, y, pressure, t].")
            x = _number(p[0], "coordinate", -MAX_COORDINATE, MAX_COORDINATE)
            y = _number(p[1], "coordinate", -MAX_COORDINATE, MAX_COORDINATE)
            pressure = _number(p[2], "pressure", 0.0, 1.0)
            t = p[3] if len(p) == 4 else None
            times.append(None if t is None else _number(t, "time", 0.0, 1e7))
            points.append((x, y, pressure))
        strokes.append(PenStroke(width, points, times))
    return strokes


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
