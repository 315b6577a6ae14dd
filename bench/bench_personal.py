"""Issue 11 point 5: does fine-tuning on ~10 drawings per digit teach the model one person's hand?

One simulated person draws every digit in one fixed writing style (styles MNIST shows rarely:
a continental 1 with flag and base, a crossed 7, a closed 4, ...), under the light variations of
the stroke renderer (seeds 7000+ here; the drawn benchmark uses other seeds). The person labels
``--per-digit`` drawings per digit (personal data set layout, written through DrawingStore), the
bundled model is fine-tuned with the default settings, and the tuned model reads NEW drawings in
that style -- other sizes, slants, widths (variations rotated, slanted, fat_marker, hairline,
stretched) -- and the MNIST test set.

Goal: new drawings >= 99 %, MNIST within 0.2 points. Usage::

    .venv/bin/python bench/bench_personal.py [--per-digit 10] [--new 60] [--json]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np

from digitpad.core.data import unit_to_pixels
from digitpad.core.finetune import FinetuneConfig, Finetuner
from digitpad.core.jsonable import dumps
from digitpad.core.modelfile import load_model
from digitpad.core.normalize import normalize_canvas
from digitpad.core.paths import bundled_model_path
from digitpad.core.personal import DrawingStore, PenStroke, load_drawings
from digitpad.core.strokes import draw_digit

#: The person's style of each digit.
PERSON = ("0_narrow", "1_flag_base", "2_loop", "3_flat_top", "4_closed", "5_one_stroke",
          "6_loop_first", "7_crossed", "8_two_loops", "9_straight")
LABEL_VARIATIONS = ("clean", "clean", "slanted", "rotated")
NEW_VARIATIONS = ("clean", "rotated", "slanted", "fat_marker", "hairline", "stretched")


def _new_drawings(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for style in PERSON:
        for i in range(n):
            d = draw_digit(style, NEW_VARIATIONS[i % len(NEW_VARIATIONS)], rng)
            xs.append(unit_to_pixels(normalize_canvas(d.canvas).image))
            ys.append(d.label)
    return np.stack(xs), np.asarray(ys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-digit", type=int, default=10)
    parser.add_argument("--new", type=int, default=60, help="new drawings per digit measured")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(7000)
    with tempfile.TemporaryDirectory() as tmp:
        store = DrawingStore(tmp)
        for style in PERSON:
            for i in range(args.per_digit):
                d = draw_digit(style, LABEL_VARIATIONS[i % len(LABEL_VARIATIONS)], rng)
                strokes = [PenStroke(d.pose.width, [(float(x), float(y), 1.0) for x, y in s])
                           for s in d.strokes]
                store.save(d.label, d.canvas, strokes)
        drawings = load_drawings(tmp)
        model = load_model(bundled_model_path()).model
        x_new, y_new = _new_drawings(args.new, 8000)

        def read(m) -> tuple[float, list[int]]:
            pred = np.asarray(m.predict(x_new / 255.0, verbose=0)).argmax(1)
            wrong = np.bincount(y_new[pred != y_new], minlength=10).tolist()
            return float(np.mean(pred == y_new)), wrong

        before_new, before_wrong = read(model)
        t0 = time.perf_counter()
        result = Finetuner(model, drawings, config=FinetuneConfig(arch="best"), record=False).run()
        elapsed = time.perf_counter() - t0
        after_new, after_wrong = read(result.model)
    report = {
        "per_digit": args.per_digit, "styles": PERSON, "new_per_digit": args.new,
        "new_before": before_new, "new_after": after_new,
        "new_misread_per_digit_before": before_wrong, "new_misread_per_digit_after": after_wrong,
        **result.to_dict(), "finetune_seconds": round(elapsed, 1),
        "goal_new_99": after_new >= 0.99, "goal_mnist_within_0.2": result.mnist_within_bound,
    }
    if args.json:
        print(dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
