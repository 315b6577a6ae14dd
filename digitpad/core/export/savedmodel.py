"""TensorFlow SavedModel export (a folder with a ``serve`` endpoint), run back with TensorFlow."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from digitpad.core.export.common import quiet_stdout

NAME = "savedmodel"
SUFFIX = ""
RUNTIME = "TensorFlow"
DEPENDENCIES: tuple[str, ...] = ()  # modules it needs beyond TensorFlow
IS_FOLDER = True


def write(model, path: Path) -> None:
    """Write ``model`` as a SavedModel folder at ``path`` (endpoint ``serve``)."""
    with quiet_stdout():
        model.export(str(path), format="tf_saved_model", verbose=False)


def predict(path: Path, x: np.ndarray) -> np.ndarray:
    """Probabilities of ``x`` (N, 28, 28, 1) float32 from the SavedModel folder at ``path``."""
    from digitpad.core.tfsetup import tf

    loaded = tf().saved_model.load(str(path))
    if hasattr(loaded, "serve"):
        out = loaded.serve(tf().constant(x, dtype=tf().float32))
    else:
        outputs = loaded.signatures["serving_default"](tf().constant(x, dtype=tf().float32))
        out = next(iter(outputs.values()))
    return np.asarray(out, dtype=np.float32)
