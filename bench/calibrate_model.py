"""Calibrate a saved digitpad model: fit its confidence temperature on held-out MNIST training
images and save a copy with the temperature in its metadata.

The held-out images are the validation split the model itself was trained with (the stored
``config.val_split`` and ``config.seed`` give the very same split through
:func:`digitpad.core.training.pipeline.split_data`), so the temperature is fitted on images the
model never trained on -- never on the test set. Models trained by digitpad since issue 9 are
calibrated this way at the end of training already; this script is for older files.

Usage::

    python bench/calibrate_model.py models/default.keras /tmp/default-calibrated.keras
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digitpad.core.calibration import METADATA_KEY, calibration_metadata  # noqa: E402


def calibrate_file(source: Path, target: Path) -> dict:
    """Fit the temperature of ``source`` and save the calibrated copy ``target``; its entry."""
    from digitpad.core.data import load_dataset, to_model_input
    from digitpad.core.inference import Predictor
    from digitpad.core.modelfile import load_model, save_model
    from digitpad.core.training.pipeline import split_data

    loaded = load_model(source)
    config = loaded.metadata.get("config") or {}
    val_split = float(config.get("val_split") or 0.1)
    seed = int(config.get("seed") or 0)
    ds = load_dataset(config.get("data"))
    x = to_model_input(ds.x_train)
    y = np.asarray(ds.y_train).astype(np.int64)
    _, _, x_val, y_val = split_data(x, y, val_split, seed)
    if x_val is None:
        raise SystemExit("the model's configuration holds no validation split to calibrate on.")
    probs = Predictor(loaded.model, temperature=1.0).predict_batch(x_val)
    entry = calibration_metadata(
        probs, y_val,
        fitted_on=f"validation split of the MNIST training set ({len(y_val)} images, "
                  f"val_split {val_split:g}, seed {seed})",
    )
    save_model(loaded.model, target, metadata={**loaded.metadata, METADATA_KEY: entry})
    return entry


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    args = parser.parse_args()
    print(calibrate_file(args.source, args.target))
