"""Why digitpad normalises drawings the MNIST way: accuracy on drawings that are not MNIST-framed.

Real MNIST test digits are placed on a 280x280 canvas the way people draw on a pad — large and
centred, small, or off-centre — and recognised by the same model two ways, in the same run:

* baseline: resize the whole canvas to 28x28 (what the tutorials' "predict a new image" step does);
* digitpad: ``normalize_canvas`` (crop to the ink, longest side 20 px, centre of mass at the centre).

    python bench/bench_normalization.py [--model models/default.keras] [--n 2000] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine_line, markdown_table, write_json  # noqa: E402

CANVAS = 280


def _place(digit: np.ndarray, side: int, top: int, left: int) -> np.ndarray:
    """The 20x20 ink box of a 28x28 MNIST digit scaled to ``side`` px at (top, left) on the canvas."""
    ys, xs = np.nonzero(digit > 25)
    crop = digit[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    h, w = crop.shape
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    big = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.BILINEAR))
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    canvas[top: top + big.shape[0], left: left + big.shape[1]] = big
    return canvas


LAYOUTS = {
    # name: (side, top, left) of the digit's ink box on the 280x280 canvas
    "large, centred (like MNIST)": (200, 40, 40),
    "small, centred": (90, 95, 95),
    "small, top-left corner": (90, 10, 10),
    "medium, off-centre (bottom-right)": (140, 130, 130),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "default.keras"))
    parser.add_argument("--n", type=int, default=2000, help="number of MNIST test digits")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)

    from digitpad.core.data import load_dataset
    from digitpad.core.inference import Predictor
    from digitpad.core.modelfile import load_model
    from digitpad.core.normalize import normalize_canvas

    ds = load_dataset(None)
    x, y = ds.x_test[: args.n], ds.y_test[: args.n]
    predictor = Predictor(load_model(args.model).model)

    rows, results = [], {}
    for name, (side, top, left) in LAYOUTS.items():
        canvases = [_place(d, side, top, left) for d in x]
        naive = np.stack([
            np.asarray(Image.fromarray(c).resize((28, 28), Image.Resampling.LANCZOS), np.float32) / 255.0
            for c in canvases
        ])
        normalised = np.stack([normalize_canvas(c).image for c in canvases])
        acc_naive = float((predictor.predict_batch(naive).argmax(1) == y).mean())
        acc_norm = float((predictor.predict_batch(normalised).argmax(1) == y).mean())
        results[name] = {"resize_whole_canvas": acc_naive, "digitpad_normalize": acc_norm}
        rows.append([name, f"{100 * acc_naive:.1f} %", f"{100 * acc_norm:.1f} %"])

    print(f"# Recognition of {args.n} MNIST test digits drawn on a {CANVAS}x{CANVAS} canvas\n")
    print(machine_line())
    print(f"Model: {args.model}\n")
    print(markdown_table(["drawing", "baseline: resize canvas to 28x28", "digitpad: MNIST-style normalisation"], rows))
    if args.json_path:
        write_json(args.json_path, {"n": args.n, "model": args.model, "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
