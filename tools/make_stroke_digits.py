"""Render pad-like stroke digits for training, as an ``.npz`` of normalised 28x28 images.

The shapes come from :mod:`digitpad.core.strokes.train_styles` -- randomised writing-style
families written apart from the 21 fixed styles the drawn-digit benchmark measures
(:mod:`digitpad.core.strokes.glyphs`), so the benchmark never sees a training shape -- under the
pad's variations (:mod:`digitpad.core.strokes.variations`), from a root seed of their own: drawing
``k`` is drawn from ``numpy.random.default_rng([TRAIN_SEED, k])`` with ``TRAIN_SEED = 20_261_202``,
never from the benchmark's ``BENCH_SEED`` (``bench/drawn_benchmark.py``); digit and variation are
drawn at random per image. Each canvas goes through the app's own :func:`~digitpad.core.normalize.normalize_canvas`,
so the images are exactly what the model sees for such a drawing. The file holds only
``x_train`` (uint8, ink bright, 0..255) and ``y_train``: mixed into training with
``digitpad train --data mnist --data FILE.npz`` it adds training images and no test images.

Usage::

    python tools/make_stroke_digits.py /tmp/strokes.npz --count 12000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digitpad.core.normalize import normalize_canvas  # noqa: E402
from digitpad.core.strokes import VARIATIONS  # noqa: E402
from digitpad.core.strokes.train_styles import draw_train_digit  # noqa: E402

TRAIN_SEED = 20_261_202  # != bench.drawn_benchmark.BENCH_SEED (7_402_911)


def render(count: int, seed: int = TRAIN_SEED) -> tuple[np.ndarray, np.ndarray]:
    """``count`` normalised stroke digits ``(count, 28, 28)`` uint8 and their labels."""
    xs = np.zeros((count, 28, 28), np.uint8)
    ys = np.zeros(count, np.uint8)
    k = n = 0
    while n < count:
        rng = np.random.default_rng([seed, k])
        k += 1
        digit = int(rng.integers(10))
        variation = VARIATIONS[int(rng.integers(len(VARIATIONS)))]
        d = draw_train_digit(digit, variation, rng)
        norm = normalize_canvas(d.canvas)
        if norm.blank:
            continue
        xs[n] = np.clip(np.rint(norm.image * 255.0), 0, 255).astype(np.uint8)
        ys[n] = d.label
        n += 1
    return xs, ys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=12000)
    parser.add_argument("--seed", type=int, default=TRAIN_SEED)
    args = parser.parse_args()
    if args.seed == 7_402_911:
        raise SystemExit("that is the benchmark's seed; training drawings must use another.")
    t0 = time.perf_counter()
    x, y = render(args.count, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, x_train=x, y_train=y)
    print(f"wrote {len(y)} stroke digits to {args.out} in {time.perf_counter() - t0:.1f} s "
          f"(per digit: {np.bincount(y, minlength=10).tolist()})")


if __name__ == "__main__":
    main()
