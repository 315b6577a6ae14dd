"""What a model file holds, as data (for ``digitpad info``; the command line renders it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.core.calibration import confidence_text, is_carried, temperature_from_metadata
from digitpad.core.errors import ModelFileError
from digitpad.core.modelfile.adapt import input_dtype, layer_activation, shape_text, single_shape
from digitpad.core.modelfile.formats import format_for_suffix
from digitpad.core.modelfile.io import has_optimizer_state, load_model
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
    return describe_model(loaded.model, name=loaded.name, metadata=loaded.metadata,
                          adaptations=loaded.adaptations, path=loaded.path,
                          optimizer_state=loaded.optimizer_state)


def describe_model(model: Any, *, name: str, metadata: dict | None = None,
                   adaptations: list[str] | None = None, path: str | os.PathLike | None = None,
                   optimizer_state: bool | None = None) -> dict:
    """The data :func:`describe` gives, for a model already in memory (nothing is read again).

    Parameters
    ----------
    model
        The adapted Keras model (as :func:`~digitpad.core.modelfile.io.load_model` returns it,
        or a model trained in this process).
    name, metadata, adaptations
        Display name, digitpad metadata and the adaptations made when it was loaded.
    path
        The file that holds exactly this model, or None (then ``path``, ``format`` and
        ``file_size`` are None and ``input["file"]`` is the model's own input).
    optimizer_state
        Whether the optimizer state was restored from the file; None: worked out from the
        model (a ``.keras`` file and a trained optimizer, as ``load_model`` decides).

    Returns
    -------
    dict
        The keys of :func:`describe`.
    """
    adaptations = list(adaptations or [])
    metadata = dict(metadata or {})
    file_path = Path(path) if path is not None else None
    fmt = format_for_suffix(file_path) if file_path is not None else None
    inner = [layer for layer in model.layers if isinstance(layer, keras().Model)]
    source = inner[0] if inner and adaptations else model   # the file's own model
    try:
        file_input = shape_text(single_shape(source.input_shape, "input",
                                             file_path.name if file_path else name))
    except ModelFileError:
        file_input = "?"
    dtype = input_dtype(source)
    if dtype != "float32":
        file_input += f" {dtype}"
    optimizer = getattr(source, "optimizer", None) if getattr(source, "compiled", False) else None
    if optimizer_state is None:
        optimizer_state = fmt == "keras" and has_optimizer_state(source)
    try:
        size = file_path.stat().st_size if file_path is not None else None
    except OSError:
        size = None
    return {
        "path": str(file_path) if file_path is not None else None,
        "name": name,
        "format": fmt,
        "file_size": size,
        "layers": layer_rows(model),
        "total_params": int(model.count_params()),
        "trainable_params": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
        "input": {"file": file_input, "digitpad": DIGITPAD_INPUT},
        "output": DIGITPAD_OUTPUT,
        "adaptations": adaptations,
        "metadata": metadata,
        "optimizer": type(optimizer).__name__ if optimizer is not None else None,
        "optimizer_state": bool(optimizer_state),
        "confidence": confidence_text(temperature_from_metadata(metadata),
                                      carried=is_carried(metadata)),
    }


__all__ = ["describe", "describe_model", "layer_rows"]
