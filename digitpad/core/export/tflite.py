"""TFLite export (a float32 flatbuffer, no quantisation), run back with LiteRT (``ai_edge_litert``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from digitpad.core.export.common import require

NAME = "tflite"
SUFFIX = ".tflite"
RUNTIME = "LiteRT"
DEPENDENCIES: tuple[str, ...] = ("ai_edge_litert.interpreter",)  # modules it needs beyond TensorFlow
IS_FOLDER = False


def write(model, path: Path) -> None:
    """Convert ``model`` (input (N, 28, 28, 1), softmax output) and write the flatbuffer to ``path``."""
    from digitpad.core.inference.backends import (
        TFFunctionBackend,
        convert_to_tflite,
        model_input_shape,
    )

    flatbuffer = convert_to_tflite(model, TFFunctionBackend(model, model_input_shape(model)))
    Path(path).write_bytes(flatbuffer)


def predict(path: Path, x: np.ndarray) -> np.ndarray:
    """Probabilities of ``x`` (N, 28, 28, 1) float32 from the file at ``path``, run by LiteRT."""
    interpreter_module = require("ai_edge_litert.interpreter", "checking a TFLite export")
    interpreter = interpreter_module.Interpreter(model_path=str(path), num_threads=1)
    inp = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(inp["index"], list(x.shape), strict=False)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], np.ascontiguousarray(x, dtype=np.float32))
    interpreter.invoke()
    out = interpreter.get_output_details()[0]
    return np.array(interpreter.get_tensor(out["index"]), dtype=np.float32)
