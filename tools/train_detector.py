"""Train digitpad's "is this a digit?" detector and write ``models/detector.keras``.

Positives: a sample of the MNIST training set and rendered stroke digits; negatives: synthetic
non-digits with their own shape families and root seed (never the drawn benchmark's seeds):
see :mod:`digitpad.core.verdict.training`. The decision threshold is chosen on a held-out tenth
(at most 0.4 % of held-out digits above it) and stored in the file's metadata.

Usage::

    python tools/train_detector.py [--out models/detector.keras] [--mnist 12000] [--drawn 5040]
                                   [--negatives 24000] [--epochs 12]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digitpad.core.data import load_dataset  # noqa: E402
from digitpad.core.modelfile import save_model  # noqa: E402
from digitpad.core.strokes.negatives_train import TRAIN_SEED  # noqa: E402
from digitpad.core.verdict.detector import METADATA_KEY  # noqa: E402
from digitpad.core.verdict.training import make_training_data, train_detector  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "detector.keras")
    parser.add_argument("--mnist", type=int, default=12000)
    parser.add_argument("--drawn", type=int, default=5040)
    parser.add_argument("--negatives", type=int, default=24000)
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()
    t0 = time.perf_counter()
    ds = load_dataset(None)
    pick = np.random.default_rng([TRAIN_SEED, 4]).choice(len(ds.x_train), args.mnist, replace=False)
    data = make_training_data(ds.x_train[np.sort(pick)], args.drawn, args.negatives)
    t_data = time.perf_counter() - t0
    model, report = train_detector(data, epochs=args.epochs, verbose=2)
    report.update(data_seconds=round(t_data, 1), mnist=args.mnist, drawn=args.drawn,
                  negatives=args.negatives, seed=TRAIN_SEED,
                  command="python tools/train_detector.py " + " ".join(sys.argv[1:]))
    save_model(model, args.out, metadata={METADATA_KEY: report, "arch": "digit_detector"})
    print(json.dumps(report, indent=1))
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
