"""ONNX export through tf2onnx (Keras' ``model.export(format="onnx")``), run back with onnxruntime.

Both are optional dependencies (``pip install 'digitpad[export]'``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from digitpad.core.export.common import quiet_stdout, require

NAME = "onnx"
SUFFIX = ".onnx"
RUNTIME = "onnxruntime"
DEPENDENCIES: tuple[str, ...] = ("tf2onnx", "onnx", "onnxruntime")  # modules it needs beyond TensorFlow
IS_FOLDER = False


def write(model, path: Path) -> None:
    """Write ``model`` as an ONNX file at ``path`` (dynamic batch size)."""
    require("tf2onnx", "ONNX export")
    require("onnx", "ONNX export")
    model(np.zeros((1, 28, 28, 1), np.float32), training=False)  # Keras exports called models only
    with quiet_stdout():
        model.export(str(path), format="onnx", verbose=False)


def predict(path: Path, x: np.ndarray) -> np.ndarray:
    """Probabilities of ``x`` (N, 28, 28, 1) float32 from the ONNX file at ``path``."""
    ort = require("onnxruntime", "checking an ONNX export")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.asarray(session.run(None, {name: np.asarray(x, np.float32)})[0], dtype=np.float32)
