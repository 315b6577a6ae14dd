"""digitpad's drawn-digit benchmark: pad-like stroke drawings, generated and seeded.

1,680 digits -- each of the 21 writing styles of :mod:`digitpad.core.strokes.glyphs` under each
of the 8 variations (clean, rotated up to ±25°, stretched, slanted, tremor, small and off-centre,
fat marker, hairline), 10 drawings per (style, variation) -- plus 336 non-digits (letters,
shapes, scribbles, dots, dashes, blobs; 7 per (kind, variation)). Drawings alternate between the
two ink polarities as saved files: white ink on black (the pad's own) and black ink on white.

Seeds
-----
Drawing ``k`` of (style or kind ``i``, variation ``j``) is drawn from
``numpy.random.default_rng([BENCH_SEED, group, i, j, k])`` with ``BENCH_SEED = 7_402_911`` and
``group`` 0 for digits, 1 for non-digits. Training never uses these generators: digitpad's
training randomness comes from ``TrainConfig.seed`` (small integers fed to Keras/TensorFlow), and
its stroke augmentation (:mod:`digitpad.core.training.drawn_augment`) works on the MNIST images
themselves; any future mixing of rendered strokes into training must use another root seed.

This is a benchmark, not a test dependency: ``bench/bench_drawn.py`` measures a model on it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digitpad.core.strokes import (  # noqa: E402
    NONDIGIT_KINDS,
    STYLE_NAMES,
    VARIATIONS,
    Drawing,
    draw_digit,
    draw_nondigit,
)

BENCH_SEED = 7_402_911
DIGITS_PER_CELL = 10
NONDIGITS_PER_CELL = 7
POLARITIES = ("light", "dark")


@dataclass(frozen=True)
class Item:
    """One benchmark drawing and how it is saved."""

    drawing: Drawing
    polarity: str
    name: str  # file name stem, unique

    @property
    def label(self) -> int | None:
        return self.drawing.label


def items(digits_per_cell: int = DIGITS_PER_CELL,
          nondigits_per_cell: int = NONDIGITS_PER_CELL) -> Iterator[Item]:
    """Every benchmark drawing, digits first, always the same ones."""
    for i, style in enumerate(STYLE_NAMES):
        for j, variation in enumerate(VARIATIONS):
            for k in range(digits_per_cell):
                rng = np.random.default_rng([BENCH_SEED, 0, i, j, k])
                polarity = POLARITIES[k % 2]
                yield Item(draw_digit(style, variation, rng), polarity,
                           f"d_{style}_{variation}_{k:02d}_{polarity}")
    for i, kind in enumerate(NONDIGIT_KINDS):
        for j, variation in enumerate(VARIATIONS):
            for k in range(nondigits_per_cell):
                rng = np.random.default_rng([BENCH_SEED, 1, i, j, k])
                polarity = POLARITIES[k % 2]
                yield Item(draw_nondigit(kind, rng, variation), polarity,
                           f"n_{kind}_{variation}_{k:02d}_{polarity}")


def write(folder: Path, **counts: int) -> list[tuple[Path, Item]]:
    """Save every drawing as a PNG in ``folder`` (as the pad would save it); ``(path, item)``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for item in items(**counts):
        path = folder / f"{item.name}.png"
        Image.fromarray(item.drawing.saved(item.polarity)).save(path, compress_level=1)
        out.append((path, item))
    return out


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write the drawn-digit benchmark as PNG files.")
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    written = write(args.folder)
    n_digits = sum(item.label is not None for _, item in written)
    print(f"wrote {n_digits} digits and {len(written) - n_digits} non-digits to {args.folder}")
