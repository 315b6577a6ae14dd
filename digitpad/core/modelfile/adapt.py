"""Adapting a loaded model to digitpad's convention: input float32 ``(N, 28, 28, 1)`` in [0, 1],
output softmax probabilities ``(N, 10)``.

In front: flat ``(784,)`` and ``(28, 28)`` inputs get a ``Reshape``; a model that wants raw 0-255
pixels (an integer input such as ``uint8``, or its own ``Rescaling(1/255)`` first) gets
``Rescaling(255)``. Behind, by what the output is: softmax probabilities stay as they are; logits
get a ``Softmax`` (a compiled model's loss is mapped to work on probabilities); independent sigmoid
scores are divided by their sum (a softmax would flatten them); float16/bfloat16 outputs are cast
to float32 (never a second softmax). Every adaptation is reported in words. Models that cannot be
adapted (not one 28x28 grey image input, not 10 classes, NaN weights or outputs) are refused with
one sentence.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from digitpad.core.modelfile.layers import sum_normalization
from digitpad.core.modelfile.sentences import fail
from digitpad.core.tfsetup import keras

_PROBE_SEED = 1234
_PROBE_COUNT = 6
# Inputs a Reshape in front can feed from a 28x28x1 image, with how the adaptation is reported.
_RESHAPED_INPUTS = {
    (28, 28): "input (28, 28) reshaped from 28x28x1",
    (784,): "input (784,) reshaped from 28x28x1",
}


def shape_text(shape: Any) -> str:
    """A shape as text, e.g. ``(None, 28, 28, 1)``."""
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def single_shape(shape: Any, what: str, name: str) -> tuple:
    """The one ``what`` ("input"/"output") shape of model file ``name``; refuse several or named ones."""
    if isinstance(shape, list):
        if len(shape) != 1:
            raise fail(f"{name} has {len(shape)} {what}s; digitpad needs a model with one image "
                       "input and one output")
        shape = shape[0]
    if isinstance(shape, dict):
        raise fail(f"{name} has named {what}s; digitpad needs a model with one image input and one output")
    return tuple(None if d is None else int(d) for d in shape)


def layer_activation(layer: Any) -> str | None:
    """The activation name of one layer (``"softmax"`` for a Softmax layer), or None if it has none."""
    if isinstance(layer, keras().layers.Softmax):
        return "softmax"
    try:
        cfg = layer.get_config()
    except Exception:
        return None
    act = cfg.get("activation")
    if isinstance(act, str):
        return act
    if isinstance(act, dict):
        inner = act.get("config")
        return inner if isinstance(inner, str) else act.get("class_name")
    return None


def last_activation(model: Any) -> str | None:
    """Name of the final activation of ``model`` from its layer configs, or None if unknown."""
    layer = model.layers[-1] if getattr(model, "layers", None) else None
    if layer is None:
        return None
    if isinstance(layer, keras().Model):
        return last_activation(layer)
    return layer_activation(layer)


def probe_inputs(input_shape: tuple) -> np.ndarray:
    """A few fixed test inputs (blank, full, sparse, random) in the model's own input shape."""
    rng = np.random.default_rng(_PROBE_SEED)
    x = rng.random((_PROBE_COUNT, 28, 28), dtype=np.float32)
    x[0] = 0.0
    x[1] = 1.0
    x[2] = (x[2] > 0.8).astype(np.float32)
    return x.reshape((_PROBE_COUNT, *input_shape[1:]))


def _input_reshape(in_shape: tuple, name: str, adaptations: list[str]) -> tuple | None:
    """The Reshape target in front of the model (None: none needed); refuse other inputs."""
    body = in_shape[1:]
    if body == (28, 28, 1):
        return None
    if body in _RESHAPED_INPUTS:
        adaptations.append(_RESHAPED_INPUTS[body])
        return body
    if body == (1, 28, 28):
        raise fail(
            f"{name} expects channels-first input {shape_text(in_shape)}; "
            "digitpad needs a 28x28 grey image input, channels last (28, 28, 1), (28, 28) or (784,)"
        )
    raise fail(
        f"{name} expects input of shape {shape_text(in_shape)}, which is not a 28x28 grey image "
        "((28, 28, 1), (28, 28) or (784,))"
    )


def _check_output(out_shape: tuple, name: str) -> None:
    if len(out_shape) != 2:
        if out_shape and out_shape[-1] == 10:
            raise fail(
                f"{name} outputs shape {shape_text(out_shape)} instead of (None, 10): a Dense layer was "
                "applied without Flatten, so it does not give one prediction per image"
            )
        raise fail(f"{name} outputs shape {shape_text(out_shape)}, not (None, 10) digit classes")
    if out_shape[1] != 10:
        raise fail(f"{name} has {out_shape[1]} outputs, not 10 digit classes")


def _check_weights(model: Any, name: str) -> None:
    """Refuse NaN/inf weights: they make every prediction meaningless."""
    k = keras()
    for w in model.weights:
        values = k.ops.convert_to_numpy(w.value if hasattr(w, "value") else w)
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise fail(f"{name} cannot be used: its weights contain NaN or infinite values ({w.path})")


def _first_layer(model: Any) -> Any:
    """The first layer that processes the input (skipping InputLayers, entering nested models)."""
    k = keras()
    for layer in getattr(model, "layers", []):
        if isinstance(layer, k.layers.InputLayer):
            continue
        return _first_layer(layer) if isinstance(layer, k.Model) else layer
    return None


def input_dtype(model: Any) -> str:
    """The input's dtype name (``"float32"`` when unknown)."""
    try:
        return str(keras().backend.standardize_dtype(model.inputs[0].dtype))
    except Exception:
        return "float32"


def expects_raw_pixels(model: Any) -> tuple[bool, str]:
    """``(True, why)`` when ``model`` wants pixels in 0-255, not digitpad's [0, 1].

    That is an integer input (e.g. ``uint8``: raw pixel values), or a first layer ``Rescaling``
    by a small factor (about 1/255 or 1/127.5) that maps 0-255 to [0, 1] or [-1, 1] itself.
    """
    dtype = input_dtype(model)
    if "int" in dtype:
        return True, f"the model takes {dtype} pixels"
    first = _first_layer(model)
    if isinstance(first, keras().layers.Rescaling):
        scale = first.get_config().get("scale")
        if isinstance(scale, (int, float)) and 0 < abs(scale) < 0.05:
            return True, f"the model rescales by {scale:.4g} itself"
    return False, ""


def input_key(model: Any) -> str | None:
    """The name of ``model``'s one input when it takes a dict (``{"img": tensor}``), else None."""
    try:
        structure = model.input
    except Exception:
        return None
    if isinstance(structure, dict) and len(structure) == 1:
        return str(next(iter(structure)))
    return None


def _feed(model: Any, x: Any, key: str | None, **kwargs: Any) -> Any:
    return model({key: x} if key is not None else x, **kwargs)


def probe_output(model: Any, in_shape: tuple, name: str, scale: float = 1.0) -> tuple[np.ndarray, str | None]:
    """``(outputs, key)`` of ``model`` on :func:`probe_inputs` times ``scale`` (255 for a model
    that wants raw pixels); ``key`` names the one entry of a dict output (None for a tensor).

    Raises
    ------
    ModelFileError
        Failing, NaN/inf outputs, or several named outputs.
    """
    try:
        probes = probe_inputs(in_shape) * np.float32(scale)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # e.g. Keras on a mixed-precision model
            out = _feed(model, probes, input_key(model), training=False)
    except Exception as exc:
        raise fail(f"{name} failed on a test input: {exc}") from None
    key = None
    if isinstance(out, dict):
        if len(out) != 1:
            raise fail(f"{name} has {len(out)} named outputs; digitpad needs a model with one "
                       "image input and one output")
        key, out = next(iter(out.items()))
        key = str(key)
    if isinstance(out, (list, tuple)):
        if len(out) != 1:
            raise fail(f"{name} has {len(out)} outputs; digitpad needs a model with one image "
                       "input and one output")
        out = out[0]
    values = np.asarray(keras().ops.convert_to_numpy(out), dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise fail(f"{name} produces NaN or infinite outputs, so it cannot be used")
    return values, key


def output_kind(model: Any, out: np.ndarray) -> str:
    """What ``model``'s output is: ``"softmax"``, ``"sigmoid"`` (independent scores) or ``"logits"``.

    The final activation decides when it is softmax or sigmoid; otherwise the probe outputs
    ``out`` do: non-negative rows summing to 1 are probabilities (at the output dtype's precision).
    """
    activation = last_activation(model)
    if activation == "softmax":
        return "softmax"
    if activation in ("sigmoid", "hard_sigmoid"):
        return "sigmoid"
    tolerance = 1e-3 if output_dtype(model) in ("float32", "float64") else 2e-2
    if np.all(out >= -1e-6) and np.allclose(out.sum(axis=1), 1.0, atol=tolerance):
        return "softmax"
    return "logits"


def output_dtype(model: Any) -> str:
    """The output's dtype name (``"float32"`` when unknown)."""
    try:
        return str(keras().backend.standardize_dtype(model.outputs[0].dtype))
    except Exception:
        return "float32"


def probability_loss(loss: Any) -> Any:
    """The same loss on probabilities instead of logits (used when a Softmax was appended)."""
    k = keras()
    if isinstance(loss, k.losses.Loss):
        try:
            cfg = loss.get_config()
            if cfg.get("from_logits"):
                cfg["from_logits"] = False
                return type(loss).from_config(cfg)
        except Exception:
            pass
        return loss
    return "sparse_categorical_crossentropy"


def adapt(model: Any, name: str) -> tuple[Any, list[str]]:
    """Check ``model``'s input/output and wrap it into a 28x28x1 -> softmax(10) model if needed.

    Parameters
    ----------
    model
        A Keras model as loaded from the file ``name`` (used in messages).

    Returns
    -------
    tuple
        ``(model, adaptations)``: the model itself when nothing was needed, else a new functional
        model around it (compiled with the file's optimizer when the file's model was compiled);
        ``adaptations`` lists what was adapted in words.

    Raises
    ------
    ModelFileError
        Several or named inputs/outputs, a fixed batch size, an input that is not a 28x28 grey
        image, an output that is not 10 classes, NaN/inf weights, NaN/inf or failing outputs.
    """
    k = keras()
    in_shape = single_shape(model.input_shape, "input", name)
    out_shape = single_shape(model.output_shape, "output", name)
    if len(in_shape) == 0 or in_shape[0] is not None:
        raise fail(
            f"{name} has a fixed batch size in its input shape {shape_text(in_shape)}; "
            "digitpad needs the batch dimension to be free (None)"
        )
    adaptations: list[str] = []
    reshape = _input_reshape(in_shape, name, adaptations)
    _check_output(out_shape, name)
    _check_weights(model, name)
    in_key = input_key(model)
    if in_key is not None:
        adaptations.append(f"input given as the model's named input {in_key[:40]!r}")
    raw, why = expects_raw_pixels(model)
    dtype = input_dtype(model)
    if raw:
        cast = f" and given as {dtype}" if "int" in dtype else ""
        adaptations.append(f"input scaled from [0, 1] to 0-255{cast} ({why})")
    out, key = probe_output(model, in_shape, name, 255.0 if raw else 1.0)
    if key is not None:
        adaptations.append(f"output {key[:40]!r} taken from the model's named outputs")
    kind = output_kind(model, out)
    out_dtype = output_dtype(model)
    if out_dtype not in ("float32", "float64"):
        adaptations.append(f"output cast from {out_dtype} to float32")
    if kind == "sigmoid":
        adaptations.append("independent sigmoid outputs normalised by their sum")
    elif kind == "logits":
        activation = last_activation(model)
        what = "logits" if activation in (None, "linear") else f"{activation} scores"
        adaptations.append(f"softmax added to {what} output")
    if not adaptations:
        return model, adaptations

    inp = k.Input((28, 28, 1), name="image")
    x = inp
    if reshape is not None:
        x = k.layers.Reshape(reshape, name="to_model_input")(x)
    if raw:
        # Integer inputs truncate: the 0.5 offset makes that a rounding.
        offset = 0.5 if "int" in dtype else 0.0
        x = k.layers.Rescaling(255.0, offset=offset, name="to_pixels")(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # e.g. Keras on a mixed-precision model
        x = _feed(model, x, in_key)
    if key is not None:
        x = x[next(iter(x))]
    if out_dtype not in ("float32", "float64"):
        x = k.layers.Activation("linear", dtype="float32", name="to_float32")(x)
    if kind == "sigmoid":
        x = sum_normalization()(name="probabilities")(x)
    elif kind == "logits":
        x = k.layers.Softmax(name="probabilities")(x)
    add_softmax = kind == "logits"
    adapted = k.Model(inp, x, name=f"{model.name}_adapted" if model.name else "adapted")
    if getattr(model, "compiled", False) and getattr(model, "optimizer", None) is not None:
        loss = getattr(model, "loss", None)
        if add_softmax:
            loss = probability_loss(loss)
        try:
            adapted.compile(optimizer=model.optimizer, loss=loss, metrics=["accuracy"])
        except Exception:
            pass   # the adapted model still predicts; training it compiles afresh
    return adapted, adaptations


__all__ = ["adapt", "expects_raw_pixels", "last_activation", "layer_activation", "output_dtype",
           "input_dtype", "input_key", "output_kind", "probability_loss", "probe_inputs", "probe_output", "shape_text", "single_shape"]
