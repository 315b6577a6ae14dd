"""Drawings that are not digits, as pen strokes in a unit box: letters, shapes, scribbles, dots,
dashes and blobs. Letters that look like digits (O, I, l, S, Z, B, g, q) are left out.

Each kind's builder takes a :class:`numpy.random.Generator` (scribbles, dots, dashes and blobs
are random; letters and shapes pick one of their forms) and returns ``(name, strokes, width)``
where ``width`` is ``None`` (use the variation's pen) or a pen-width factor (a blob's fat pen).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from digitpad.core.strokes.curves import arc, poly, spline
from digitpad.core.strokes.glyphs import Glyph

_LETTERS: dict[str, Callable[[], Glyph]] = {
    "A": lambda: (poly([(0.1, 0.98), (0.5, 0.02), (0.9, 0.98)]), poly([(0.27, 0.6), (0.73, 0.6)])),
    "E": lambda: (poly([(0.8, 0.03), (0.2, 0.03), (0.2, 0.97), (0.8, 0.97)]),
                  poly([(0.2, 0.5), (0.68, 0.5)])),
    "F": lambda: (poly([(0.8, 0.03), (0.22, 0.03), (0.22, 0.98)]), poly([(0.22, 0.48), (0.66, 0.48)])),
    "H": lambda: (poly([(0.2, 0.02), (0.2, 0.98)]), poly([(0.8, 0.02), (0.8, 0.98)]),
                  poly([(0.2, 0.5), (0.8, 0.5)])),
    "K": lambda: (poly([(0.22, 0.02), (0.22, 0.98)]), poly([(0.8, 0.03), (0.24, 0.55), (0.82, 0.97)])),
    "M": lambda: (poly([(0.05, 0.98), (0.15, 0.02), (0.5, 0.7), (0.85, 0.02), (0.95, 0.98)]),),
    "N": lambda: (poly([(0.18, 0.98), (0.18, 0.02), (0.82, 0.98), (0.82, 0.02)]),),
    "R": lambda: (poly([(0.22, 0.98), (0.22, 0.03)]),
                  spline([(0.22, 0.03), (0.7, 0.06), (0.78, 0.27), (0.6, 0.47), (0.24, 0.5)]),
                  poly([(0.42, 0.5), (0.82, 0.98)])),
    "W": lambda: (poly([(0.02, 0.03), (0.25, 0.97), (0.5, 0.35), (0.75, 0.97), (0.98, 0.03)]),),
    "X": lambda: (poly([(0.15, 0.03), (0.85, 0.97)]), poly([(0.85, 0.03), (0.15, 0.97)])),
    "Y": lambda: (poly([(0.12, 0.02), (0.5, 0.48), (0.88, 0.02)]), poly([(0.5, 0.48), (0.5, 0.98)])),
    "e": lambda: (spline([(0.2, 0.6), (0.8, 0.55), (0.7, 0.3), (0.4, 0.3), (0.2, 0.62),
                          (0.45, 0.95), (0.82, 0.85)]),),
    "h": lambda: (poly([(0.22, 0.02), (0.22, 0.98)]),
                  spline([(0.22, 0.6), (0.5, 0.42), (0.75, 0.55), (0.78, 0.98)])),
    "m": lambda: (spline([(0.08, 0.98), (0.08, 0.42), (0.3, 0.35), (0.48, 0.55), (0.5, 0.98)]),
                  spline([(0.5, 0.55), (0.7, 0.35), (0.92, 0.5), (0.92, 0.98)])),
}

_SHAPES: dict[str, Callable[[], Glyph]] = {
    "triangle": lambda: (poly([(0.5, 0.05), (0.95, 0.92), (0.05, 0.92), (0.5, 0.05)]),),
    "square": lambda: (poly([(0.08, 0.08), (0.92, 0.08), (0.92, 0.92), (0.08, 0.92), (0.08, 0.08)]),),
    "star": lambda: (poly([(0.5, 0.02), (0.79, 0.95), (0.03, 0.36), (0.97, 0.36), (0.21, 0.95),
                           (0.5, 0.02)]),),
    "plus": lambda: (poly([(0.5, 0.05), (0.5, 0.95)]), poly([(0.05, 0.5), (0.95, 0.5)])),
    "arrow": lambda: (poly([(0.05, 0.5), (0.95, 0.5)]), poly([(0.68, 0.22), (0.95, 0.5), (0.68, 0.78)])),
    "heart": lambda: (spline([(0.5, 0.3), (0.3, 0.08), (0.05, 0.25), (0.15, 0.6), (0.5, 0.95),
                              (0.85, 0.6), (0.95, 0.25), (0.7, 0.08), (0.5, 0.3)]),),
    "spiral": lambda: (np.stack([0.5 + np.linspace(0, 0.45, 60) * np.cos(np.linspace(0, 4 * np.pi, 60)),
                                 0.5 + np.linspace(0, 0.45, 60) * np.sin(np.linspace(0, 4 * np.pi, 60))],
                                axis=1),),
    "wave": lambda: (np.stack([np.linspace(0.02, 0.98, 50),
                               0.5 + 0.25 * np.sin(np.linspace(0, 4 * np.pi, 50))], axis=1),),
    "check": lambda: (poly([(0.05, 0.55), (0.35, 0.9), (0.95, 0.1)]),),
    "smiley": lambda: (arc(0.5, 0.5, 0.46, 0.46, 0, 360, 40), arc(0.5, 0.52, 0.25, 0.22, 200, 340, 12),
                       poly([(0.35, 0.35), (0.35, 0.36)]), poly([(0.65, 0.35), (0.65, 0.36)])),
}


def _letter(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    name = str(rng.choice(sorted(_LETTERS)))
    return f"letter {name}", _LETTERS[name](), None


def _shape(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    name = str(rng.choice(sorted(_SHAPES)))
    return name, _SHAPES[name](), None


def _scribble(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    n = int(rng.integers(8, 16))
    pts = rng.uniform(0.05, 0.95, size=(n, 2))
    return "scribble", (spline([tuple(p) for p in pts], 6),), None


def _dot(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    x, y = rng.uniform(0.3, 0.7, size=2)
    return "dot", (poly([(x, y)]),), float(rng.uniform(0.6, 2.2))


def _dash(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    angle = float(rng.uniform(-0.5, 0.5) + (np.pi / 2 if rng.random() < 0.25 else 0.0))
    half = float(rng.uniform(0.08, 0.3))
    c = np.array([0.5, 0.5])
    d = half * np.array([np.cos(angle), np.sin(angle)])
    return "dash", (poly([tuple(c - d), tuple(c + d)]),), None


def _blob(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    n = int(rng.integers(5, 9))
    a = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = rng.uniform(0.15, 0.3, n)
    ring = [(0.5 + r[i] * np.cos(a[i]), 0.5 + r[i] * np.sin(a[i])) for i in range(n)]
    return "blob", (spline(ring + ring[:1], 6),), float(rng.uniform(2.0, 3.0))


#: kind -> builder(rng) -> (name, strokes, pen-width factor or None)
NONDIGIT_KINDS: dict[str, Callable[[np.random.Generator], tuple[str, Glyph, float | None]]] = {
    "letter": _letter,
    "shape": _shape,
    "scribble": _scribble,
    "dot": _dot,
    "dash": _dash,
    "blob": _blob,
}
