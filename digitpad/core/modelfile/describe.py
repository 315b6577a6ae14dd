"""What a model file holds, as data (for ``digitpad info``; the command line renders it)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from digitpad.core.calibration import confidence_text, temperature_from_metadata
from digitpad.core.errors import ModelFileError
from digitpad.core.modelfile.adapt import input_dtype, layer_activation, shape_text, single_shape
from digitpad.core.modelfile.io import load_model
from digitpad.core.tfsetup import keras

DIGITPAD_INPUT = "(None, 28, 28, 1) float32 in [0, 1]"
DIGITPAD_OUTPUT = "(None, 10) softmax probabilities"


def _output_shape(layer: Any) -> str:
    try:
        return shape_text(tuple(layer.output.shape))
    except Exception:
        try:
            return shape_text(tuple(layer.compute_output_shape(layer.input.shape)))
        except Exception:
            return "?"


def layer_rows(model: Any, prefix: str = "") -> list[dict]:
    """One row per layer: ``name``, ``type``, ``output_shape``, ``params``, ``activation``.

    Layers of nested models are listed in place, named ``"outer/inner"``.
    """
    k = keras()
    rows: list[dict] = []
    for layer in model.layers:
        if isinstance(layer, k.Model):
            rows.extend(layer_rows(layer, prefix + layer.name + "/"))
            continue
        rows.append({
            "name": prefix + layer.name,
            "type": type(layer).__name__,
            "output_shape": _output_shape(layer),
            "params": int(layer.count_params()),
            "activation": layer_activation(layer),
        })
    return rows


def describe(path: str | os.PathLike) -> dict:
    """Summarise a model file for ``digitpad info``, as plain JSON-ready data.

    Parameters
    ----------
    path
        A ``.keras`` or ``.h5`` file (loaded safely through
        :func:`~digitpad.core.modelfile.io.load_model`).

    Returns
    -------
    dict
        ``path`` (str), ``name`` (str), ``format`` (``"keras"`` | ``"h5"``), ``file_size`` (bytes),
        ``layers`` (list of dicts ``{"name", "type", "output_shape", "params", "activation"}``,
        nested models' layers named ``"outer/inner"``, ``activation`` None for layers without one),
        ``total_params``, ``trainable_params``, ``input`` (``{"file": shape the file defines, with its dtype when
        not float32,
        "digitpad": what digitpad feeds}``), ``output`` (str), ``adaptations`` (list of str),
        ``metadata`` (dict), ``optimizer`` (class name or None), ``optimizer_state`` (bool) and
        ``confidence`` (str: calibrated with the stored temperature, or not calibrated).

    Raises
    ------
    ModelFileError
        Whatever :func:`~digitpad.core.modelfile.io.load_model` refuses.
    """
    loaded = load_model(path)
    model = loaded.model
    inner = [layer for layer in model.layers if isinstance(layer, keras().Model)]
    source = inner[0] if inner and loaded.adaptations else model   # the file's own model
    try:
        file_input = shape_text(single_shape(source.input_shape, "input", loaded.path.name))
    except ModelFileError:
        file_input = "?"
    dtype = input_dtype(source)
    if dtype != "float32":
        file_input += f" {dtype}"
    optimizer = getattr(source, "optimizer", None) if getattr(source, "compiled", False) else None
    return {
        "path": str(loaded.path),
        "name": loaded.name,
        "format": loaded.format,
        "file_size": loaded.path.stat().st_size,
        "layers": layer_rows(model),
        "total_params": int(model.count_params()),
        "trainable_params": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
        "input": {"file": file_input, "digitpad": DIGITPAD_INPUT},
        "output": DIGITPAD_OUTPUT,
        "adaptations": list(loaded.adaptations),
        "metadata": loaded.metadata,
        "optimizer": type(optimizer).__name__ if optimizer is not None else None,
        "optimizer_state": loaded.optimizer_state,
        "confidence": confidence_text(temperature_from_metadata(loaded.metadata)),
    }


__all__ = ["describe", "layer_rows"]
