"""Non-digits for *training* a "not a digit" detector, kept apart from the benchmark's.

The drawn benchmark (``bench/drawn_benchmark.py``) draws its non-digits from
:data:`~digitpad.core.strokes.nondigits.NONDIGIT_KINDS` with the root seed ``7_402_911``. A
detector trained on those very drawings would be measured on what it learnt. This module adds
**other shape families** that the benchmark never draws (more letters, marks, symbols, hatching,
dotted and random lines) and :func:`training_negative` mixes them with the benchmark's kinds;
callers seed it from :data:`TRAIN_SEED`, a root seed of their own, so no benchmark drawing is
ever produced in training.

Every family avoids shapes that *are* digits in some hand (O, I, l, S, Z, B, b, g, q, C, T, J).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from digitpad.core.strokes.curves import arc, poly, spline
from digitpad.core.strokes.glyphs import Glyph
from digitpad.core.strokes.nondigits import NONDIGIT_KINDS

#: Root seed of every training negative (the benchmark's is 7_402_911).
TRAIN_SEED = 90_517_233

_LETTERS: dict[str, Callable[[], Glyph]] = {
    "V": lambda: (poly([(0.1, 0.03), (0.5, 0.97), (0.9, 0.03)]),),
    "U": lambda: (spline([(0.15, 0.03), (0.15, 0.7), (0.5, 0.97), (0.85, 0.7), (0.85, 0.03)]),),
    "L": lambda: (poly([(0.25, 0.02), (0.25, 0.97), (0.85, 0.97)]),),
    "P": lambda: (poly([(0.22, 0.98), (0.22, 0.03)]),
                  spline([(0.22, 0.03), (0.72, 0.08), (0.8, 0.28), (0.62, 0.48), (0.22, 0.5)])),
    "D": lambda: (poly([(0.22, 0.03), (0.22, 0.97)]),
                  spline([(0.22, 0.03), (0.75, 0.15), (0.88, 0.5), (0.75, 0.85), (0.22, 0.97)])),
    "r": lambda: (poly([(0.3, 0.35), (0.3, 0.97)]),
                  spline([(0.3, 0.6), (0.45, 0.4), (0.65, 0.34), (0.8, 0.4)])),
    "n": lambda: (poly([(0.2, 0.35), (0.2, 0.97)]),
                  spline([(0.2, 0.55), (0.45, 0.36), (0.75, 0.45), (0.8, 0.97)])),
    "w": lambda: (poly([(0.03, 0.35), (0.25, 0.95), (0.5, 0.5), (0.75, 0.95), (0.97, 0.35)]),),
    "k": lambda: (poly([(0.25, 0.02), (0.25, 0.98)]),
                  poly([(0.75, 0.4), (0.27, 0.7), (0.78, 0.98)])),
    "x": lambda: (poly([(0.2, 0.35), (0.8, 0.97)]), poly([(0.8, 0.35), (0.2, 0.97)])),
    "G": lambda: (arc(0.5, 0.5, 0.4, 0.46, -30, -330, 30), poly([(0.85, 0.6), (0.55, 0.6)])),
    "Q": lambda: (arc(0.5, 0.48, 0.38, 0.44, 0, 360, 36), poly([(0.6, 0.72), (0.9, 0.98)])),
    "Ж": lambda: (poly([(0.5, 0.03), (0.5, 0.97)]), poly([(0.1, 0.03), (0.9, 0.97)]),
                  poly([(0.9, 0.03), (0.1, 0.97)])),
}


def _ring_cross() -> Glyph:
    return (arc(0.5, 0.5, 0.45, 0.45, 0, 360, 36), poly([(0.5, 0.05), (0.5, 0.95)]),
            poly([(0.05, 0.5), (0.95, 0.5)]))


def _hash() -> Glyph:
    return (poly([(0.35, 0.05), (0.3, 0.95)]), poly([(0.7, 0.05), (0.65, 0.95)]),
            poly([(0.05, 0.35), (0.95, 0.35)]), poly([(0.05, 0.65), (0.95, 0.65)]))


def _infinity() -> Glyph:
    t = np.linspace(0, 2 * np.pi, 60)
    return (np.stack([0.5 + 0.45 * np.sin(t), 0.5 + 0.2 * np.sin(2 * t)], axis=1),)


def _asterisk() -> Glyph:
    return (poly([(0.5, 0.05), (0.5, 0.95)]), poly([(0.1, 0.25), (0.9, 0.75)]),
            poly([(0.9, 0.25), (0.1, 0.75)]))


def _house() -> Glyph:
    return (poly([(0.1, 0.95), (0.1, 0.45), (0.5, 0.05), (0.9, 0.45), (0.9, 0.95), (0.1, 0.95)]),)


def _box_diagonal() -> Glyph:
    return (poly([(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9), (0.1, 0.1)]),
            poly([(0.1, 0.1), (0.9, 0.9)]))


_SYMBOLS: dict[str, Callable[[], Glyph]] = {
    "ring cross": _ring_cross, "hash": _hash, "infinity": _infinity, "asterisk": _asterisk,
    "house": _house, "box diagonal": _box_diagonal,
    "equals": lambda: (poly([(0.1, 0.35), (0.9, 0.35)]), poly([(0.1, 0.65), (0.9, 0.65)])),
    "tilde": lambda: (spline([(0.05, 0.6), (0.3, 0.35), (0.55, 0.6), (0.8, 0.45), (0.95, 0.4)]),),
    "zigzag": lambda: (poly([(0.02, 0.3), (0.2, 0.7), (0.4, 0.3), (0.6, 0.7), (0.8, 0.3),
                             (0.98, 0.7)]),),
    "diamond": lambda: (poly([(0.5, 0.03), (0.95, 0.5), (0.5, 0.97), (0.05, 0.5), (0.5, 0.03)]),),
    "ellipse flat": lambda: (arc(0.5, 0.5, 0.48, 0.22, 0, 360, 36),),
    "cloud": lambda: (spline([(0.2, 0.7), (0.1, 0.5), (0.25, 0.3), (0.45, 0.2), (0.65, 0.25),
                              (0.85, 0.35), (0.9, 0.6), (0.7, 0.75), (0.45, 0.72), (0.2, 0.7)]),),
}


def _letter(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    name = str(rng.choice(sorted(_LETTERS)))
    return f"letter {name}", _LETTERS[name](), None


def _symbol(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    name = str(rng.choice(sorted(_SYMBOLS)))
    return name, _SYMBOLS[name](), None


def _hatching(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    n = int(rng.integers(3, 7))
    tilt = float(rng.uniform(-0.3, 0.3))
    ys = np.linspace(0.1, 0.9, n)
    vertical = rng.random() < 0.3
    lines = [poly([(0.1, y), (0.9, y + tilt)]) for y in ys]
    if vertical:
        lines = [line[:, ::-1] for line in lines]
    return "hatching", tuple(lines), None


def _dots(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    n = int(rng.integers(2, 7))
    pts = rng.uniform(0.1, 0.9, size=(n, 2))
    return "dots", tuple(poly([tuple(p)]) for p in pts), float(rng.uniform(0.8, 1.8))


def _polyline(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    n = int(rng.integers(3, 7))
    return "polyline", (poly([tuple(p) for p in rng.uniform(0.05, 0.95, size=(n, 2))]),), None


def _strokes(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    n = int(rng.integers(2, 5))
    out = []
    for _ in range(n):
        a, b = rng.uniform(0.05, 0.95, size=(2, 2))
        out.append(poly([tuple(a), tuple(b)]))
    return "random strokes", tuple(out), None


def _dash_any(rng: np.random.Generator) -> tuple[str, Glyph, float | None]:
    """A horizontal-ish dash of any length and pen (the benchmark's dash family, wider)."""
    angle = float(rng.uniform(-0.7, 0.7))
    half = float(rng.uniform(0.05, 0.45))
    d = half * np.array([np.cos(angle), np.sin(angle)])
    return "dash", (poly([tuple(0.5 - d), tuple(0.5 + d)]),), float(rng.uniform(0.5, 2.0))


#: kind -> builder(rng) -> (name, strokes, pen-width factor or None): the extra families.
TRAIN_KINDS: dict[str, Callable[[np.random.Generator], tuple[str, Glyph, float | None]]] = {
    "letter2": _letter, "symbol": _symbol, "hatching": _hatching, "dots": _dots,
    "polyline": _polyline, "strokes": _strokes, "dash_any": _dash_any,
}

#: Every kind a training negative is drawn from: the benchmark's kinds (other seeds) + the extra.
ALL_KINDS = {**NONDIGIT_KINDS, **TRAIN_KINDS}


def training_negative(index: int, variation: str, *, seed: int = TRAIN_SEED):
    """Draw training negative number ``index`` (deterministic) under ``variation``.

    Parameters
    ----------
    index
        Which negative: the kind cycles through :data:`ALL_KINDS`; the generator is
        ``numpy.random.default_rng([seed, index])``.
    variation
        One of :data:`~digitpad.core.strokes.variations.VARIATIONS`.
    seed
        Root seed; must differ from the benchmark's (the default does).

    Returns
    -------
    Drawing
    """
    from digitpad.core.strokes import Drawing, Pose, place, render_strokes, sample_pose

    names = sorted(ALL_KINDS)
    kind = names[index % len(names)]
    rng = np.random.default_rng([seed, index])
    name, strokes, width_factor = ALL_KINDS[kind](rng)
    pose = sample_pose(variation, rng)
    if width_factor is not None:
        pose = Pose(**{**pose.__dict__, "width": min(60.0, pose.width * width_factor)})
    placed = place(strokes, pose, rng)
    return Drawing(render_strokes(placed, pose.width), None, name, variation, pose, placed)
