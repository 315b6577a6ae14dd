"""How a glyph becomes one person's drawing: a seeded pose (size, place, rotation, stretch, slant,
pen width, tremor) per variation, and the placement of the glyph's strokes on the canvas.

Every drawing also gets a small smooth random warp of the glyph (no two writers draw the same
shape) and a light random pose; a *variation* then pushes one property to a hard value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from digitpad.core.strokes.curves import resample
from digitpad.core.strokes.render import CANVAS_SIZE

VARIATIONS: tuple[str, ...] = ("clean", "rotated", "stretched", "slanted", "tremor",
                               "small_offcentre", "fat_marker", "hairline")
MARGIN = 6.0  #: pixels kept free at the canvas border
WARP = 0.035  #: amplitude of the per-drawing shape warp, in glyph-box units


@dataclass(frozen=True)
class Pose:
    """Where and how a glyph is drawn on the canvas (pixels and degrees)."""

    height: float       # side of the glyph's unit box in pixels
    cx: float           # centre of the drawing
    cy: float
    rotation: float     # degrees, counter-clockwise
    sx: float           # horizontal stretch
    sy: float           # vertical stretch
    shear: float        # slant: x moves by shear * (distance above the centre)
    width: float        # pen width in pixels
    tremor: float       # shaky-hand amplitude in pixels (0 = steady)


def sample_pose(variation: str, rng: np.random.Generator) -> Pose:
    """A random pose for ``variation`` (one of :data:`VARIATIONS`)."""
    if variation not in VARIATIONS:
        raise ValueError(f"unknown variation {variation!r}; choose one of: {', '.join(VARIATIONS)}")
    u = rng.uniform
    p = {"height": u(150, 230), "cx": 140 + u(-25, 25), "cy": 140 + u(-25, 25),
         "rotation": u(-4, 4), "sx": u(0.9, 1.1), "sy": u(0.92, 1.08), "shear": u(-0.08, 0.08),
         "width": u(14, 26), "tremor": 0.0}
    sign = 1.0 if rng.random() < 0.5 else -1.0
    if variation == "rotated":
        p["rotation"] = sign * u(10, 25)
    elif variation == "stretched":
        if rng.random() < 0.5:
            p["sx"], p["height"] = u(1.35, 1.7), u(130, 170)   # wide and low
        else:
            p["sx"], p["sy"] = u(0.5, 0.68), u(1.0, 1.12)      # tall and narrow
    elif variation == "slanted":
        p["shear"] = sign * u(0.25, 0.45)
    elif variation == "tremor":
        p["tremor"] = u(1.5, 3.5)
    elif variation == "small_offcentre":
        p["height"] = u(45, 90)
        p["cx"], p["cy"] = u(50, 230), u(50, 230)
    elif variation == "fat_marker":
        p["width"], p["height"] = u(34, 48), u(170, 240)
    elif variation == "hairline":
        p["width"] = u(4, 6)
    return Pose(**{k: float(v) for k, v in p.items()})


def _warp(points: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """Smooth displacement of unit-box points: a sum of low-frequency sines per axis."""
    out = points.copy()
    for axis in range(2):
        for fx, fy, phase, amp in coeffs[axis]:
            out[:, axis] += amp * np.sin(2 * math.pi * (fx * points[:, 0] + fy * points[:, 1])
                                         + phase)
    return out


def _shaky(points: np.ndarray, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """Add a tremor: smoothed random wobble of about ``amplitude`` pixels along the stroke."""
    if amplitude <= 0 or len(points) < 3:
        return points
    noise = rng.normal(0.0, 1.0, size=(len(points) + 8, 2))
    kernel = np.ones(5) / 5.0
    smooth = np.stack([np.convolve(noise[:, i], kernel, mode="same") for i in range(2)], axis=1)
    smooth = smooth[4:4 + len(points)]
    smooth *= amplitude / max(1e-9, float(smooth.std()))
    return points + smooth


def place(glyph: Sequence[np.ndarray], pose: Pose, rng: np.random.Generator, *,
          warp: bool = True, size: int = CANVAS_SIZE) -> list[np.ndarray]:
    """The glyph's strokes in canvas pixels for ``pose``, kept inside the canvas.

    Parameters
    ----------
    glyph
        Strokes in the unit box (``(n, 2)`` arrays, y down).
    pose
        From :func:`sample_pose`.
    rng
        Source of the shape warp and the tremor.
    warp
        Apply the per-drawing smooth shape warp.
    size
        Canvas side in pixels.
    """
    coeffs = np.stack([np.stack([rng.uniform(0.3, 1.2, 3), rng.uniform(0.3, 1.2, 3),
                                 rng.uniform(0, 2 * math.pi, 3), rng.normal(0, WARP, 3)], axis=1)
                       for _ in range(2)])
    a = math.radians(pose.rotation)
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])  # y down
    moved = []
    for stroke in glyph:
        p = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        if warp:
            p = _warp(p, coeffs)
        q = (p - 0.5) * pose.height
        q[:, 0] *= pose.sx
        q[:, 1] *= pose.sy
        q[:, 0] -= pose.shear * q[:, 1]
        moved.append(q @ rot.T)
    allp = np.vstack(moved)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    edge = MARGIN + pose.width / 2 + 3 * pose.tremor  # the pen and a wobble stay inside
    room = size - 2 * edge
    extent = float(max(hi - lo))
    k = min(1.0, room / extent) if extent > 0 else 1.0
    centre = np.array([pose.cx, pose.cy])
    half = (hi - lo) * k / 2
    low_c, high_c = edge + half, size - edge - half
    centre = np.clip(centre, low_c, np.maximum(low_c, high_c))
    mid = (lo + hi) / 2
    out = []
    for q in moved:
        c = (q - mid) * k + centre
        if len(c) > 1:
            c = _shaky(resample(c, 2.0), pose.tremor, rng)
        out.append(np.clip(c, MARGIN + pose.width / 2, size - MARGIN - pose.width / 2))
    return out
