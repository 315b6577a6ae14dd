"""Per-layer shape rules for :mod:`.declared`: the output shape and weight count of one layer.

Each rule reads a layer's JSON config and its input shapes (the dimensions after the batch one)
and returns ``(output shape, weights it creates)``, as Keras would build them, or raises
:class:`Unknown` where the config does not say. Nothing is imported from the file or built.
"""

from __future__ import annotations

import math
from typing import Any

Shape = tuple  # dimensions after the batch one; an entry is an int or None (free)

_SAME = {
    "Activation", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianDropout", "GaussianNoise", "AlphaDropout", "ActivityRegularization", "Masking",
    "Softmax", "ReLU", "LeakyReLU", "ELU", "ThresholdedReLU", "Rescaling", "Identity",
    "UnitNormalization", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
    "RandomContrast", "RandomBrightness", "BatchNormalization", "LayerNormalization",
    "GroupNormalization", "Normalization", "PReLU", "Cropping1D", "Cropping2D", "Cropping3D",
}
_NORMS = {"BatchNormalization", "LayerNormalization", "GroupNormalization", "Normalization"}
_MERGE = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}
_RNN_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}


class Unknown(Exception):
    """A shape that cannot be followed from the config."""


def _ints(value: Any, rank: int) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * rank
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
        return tuple(value)
    raise Unknown


def dim(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise Unknown


def _known(shape: Shape) -> Shape:
    if shape is None or any(d is not None and (not isinstance(d, int) or d < 0) for d in shape):
        raise Unknown
    return shape


def count(shape: Shape) -> int:
    if any(d is None for d in shape):
        raise Unknown
    return math.prod(shape)


def _rank(class_name: str) -> int:
    digits = [c for c in class_name if c.isdigit()]
    return int(digits[0]) if digits else 2


def _strided(shape: Shape, cfg: dict, rank: int, transpose: bool = False) -> Shape:
    """Spatial dims after a conv/pool (channels last; transposed convs an upper bound)."""
    window = cfg.get("kernel_size") or cfg.get("pool_size") or 1
    strides = _ints(cfg.get("strides") or cfg.get("pool_size") or 1, rank)
    kernel = _ints(window, rank)
    dilation = _ints(cfg.get("dilation_rate") or 1, rank)
    valid = cfg.get("padding", "valid") == "valid"
    out = []
    for d, s, k, r in zip(shape[:rank], strides, kernel, dilation, strict=False):
        s = max(s, 1)
        if d is None:
            out.append(None)
        elif transpose:
            out.append(d * s + max(k - s, 0))
        elif valid:
            out.append(max((d - r * (k - 1) - 1) // s + 1, 0))
        else:
            out.append(-(-d // s))
    return tuple(out) + shape[rank:]


def _conv(class_name: str, cfg: dict, shape: Shape) -> tuple[Shape, int]:
    rank = _rank(class_name)
    kernel = math.prod(_ints(cfg.get("kernel_size"), rank))
    channels = dim(shape[-1])
    bias = 1 if cfg.get("use_bias", True) else 0
    mult = dim(cfg.get("depth_multiplier", 1))
    out = _strided(shape, cfg, rank, transpose="Transpose" in class_name)
    if class_name.startswith("Depthwise"):
        return out[:-1] + (channels * mult,), kernel * channels * mult + bias * channels * mult
    filters = dim(cfg.get("filters"))
    if class_name.startswith("Separable"):
        return (out[:-1] + (filters,),
                kernel * channels * mult + channels * mult * filters + bias * filters)
    groups = max(dim(cfg.get("groups", 1)), 1)
    return out[:-1] + (filters,), kernel * (channels // groups) * filters + bias * filters


def _rnn(class_name: str, cfg: dict, shape: Shape) -> tuple[Shape, int]:
    units = dim(cfg.get("units"))
    width = dim(shape[-1])
    biases = 2 if class_name == "GRU" and cfg.get("reset_after", True) else 1
    params = _RNN_GATES[class_name] * (units * width + units * units + biases * units)
    return (shape[:-2] + (shape[-2], units) if cfg.get("return_sequences") else (units,)), params


def _merge(shapes: list[Shape]) -> Shape:
    ranks = {len(s) for s in shapes}
    if len(ranks) != 1:
        raise Unknown
    return tuple(max((d for d in dims if d is not None), default=None) for dims in zip(*shapes, strict=False))


def _concat(cfg: dict, shapes: list[Shape]) -> Shape:
    axis = cfg.get("axis", -1)
    rank = len(shapes[0])
    if not isinstance(axis, int) or any(len(s) != rank for s in shapes):
        raise Unknown
    axis = axis - 1 if axis > 0 else axis + rank   # config axes count the batch dimension
    out = list(_merge([tuple(None if i == axis else d for i, d in enumerate(s)) for s in shapes]))
    out[axis] = sum(dim(s[axis]) for s in shapes)
    return tuple(out)


def _reshape(cfg: dict, shape: Shape) -> Shape:
    target = [int(d) for d in _ints(cfg.get("target_shape"), 1)]
    if -1 in target:
        rest = math.prod(d for d in target if d != -1) or 1
        target[target.index(-1)] = count(shape) // rest
    return _known(tuple(target))


def _norm_weights(class_name: str, cfg: dict, shape: Shape) -> int:
    """Weights of a normalisation layer: per channel, or per number when normalising other axes."""
    axis = cfg.get("axis", -1)
    width = dim(shape[-1]) if axis in (-1, [-1], len(shape), [len(shape)]) else count(shape)
    if class_name == "Normalization":
        return 2 * width + 1                       # mean, variance, count
    affine = int(cfg.get("scale", True) is not False) + int(cfg.get("center", True) is not False)
    moving = 2 if class_name == "BatchNormalization" else 0
    return (affine + moving) * width


def shaped(class_name: str, cfg: dict, shapes: list[Shape]) -> tuple[Shape, int]:
    """``(output shape, weights)`` of one plain layer fed ``shapes``; Unknown without a rule."""
    shape = shapes[0]
    if class_name in _SAME:
        if class_name in _NORMS:
            return shape, _norm_weights(class_name, cfg, shape)
        return shape, count(shape) if class_name == "PReLU" else 0
    if class_name in _MERGE:
        return _merge(shapes), 0
    if class_name == "Concatenate":
        return _concat(cfg, shapes), 0
    if class_name == "Dense":
        units = dim(cfg.get("units"))
        bias = units if cfg.get("use_bias", True) is not False else 0
        return shape[:-1] + (units,), units * dim(shape[-1]) + bias
    if class_name == "Flatten":
        return (count(shape),), 0
    if class_name == "Reshape":
        return _reshape(cfg, shape), 0
    if "Conv" in class_name and "LSTM" not in class_name:
        return _conv(class_name, cfg, shape)
    if "Pooling" in class_name:
        if class_name.startswith("Global"):
            kept = tuple([1] * _rank(class_name)) if cfg.get("keepdims") else ()
            return kept + shape[-1:], 0
        return _strided(shape, cfg, _rank(class_name)), 0
    if class_name.startswith("UpSampling"):
        rank = _rank(class_name)
        size = _ints(cfg.get("size", 2), rank)
        return tuple(None if d is None else d * s for d, s in zip(shape[:rank], size, strict=False)) + shape[rank:], 0
    if class_name.startswith("ZeroPadding"):
        rank = _rank(class_name)
        pads = _ints(cfg.get("padding", 1), rank) if not isinstance(cfg.get("padding"), list) or \
            all(isinstance(p, int) for p in cfg["padding"]) else \
            tuple(sum(_ints(p, 2)) // 2 for p in cfg["padding"])
        return tuple(None if d is None else d + 2 * p for d, p in zip(shape[:rank], pads, strict=False)) \
            + shape[rank:], 0
    if class_name == "Embedding":
        out_dim = dim(cfg.get("output_dim"))
        return shape + (out_dim,), dim(cfg.get("input_dim")) * out_dim
    if class_name in _RNN_GATES:
        return _rnn(class_name, cfg, shape)
    if class_name == "RepeatVector":
        return (dim(cfg.get("n")),) + shape, 0
    if class_name == "Permute":
        dims = _ints(cfg.get("dims"), 1)
        return tuple(shape[d - 1] for d in dims), 0
    if class_name in ("Resizing", "CenterCrop"):
        return (dim(cfg.get("height")), dim(cfg.get("width"))) + shape[2:], 0
    if class_name in ("Attention", "AdditiveAttention"):
        return shape, dim(shape[-1]) if cfg.get("use_scale") else 0
    if class_name == "MultiHeadAttention":
        return _attention(cfg, shapes)
    if class_name == "InputLayer":
        return shape, 0
    raise Unknown


def _attention(cfg: dict, shapes: list[Shape]) -> tuple[Shape, int]:
    """MultiHeadAttention: query, key and value projections, then the output projection."""
    heads, key_dim = dim(cfg.get("num_heads")), dim(cfg.get("key_dim"))
    value_dim = dim(cfg.get("value_dim") or key_dim)
    query = dim(shapes[0][-1])
    value = dim(shapes[1][-1]) if len(shapes) > 1 else query
    key = dim(shapes[2][-1]) if len(shapes) > 2 else value
    out_shape = cfg.get("output_shape")
    out = dim(out_shape[-1] if isinstance(out_shape, list) else (out_shape or query))
    bias = 1 if cfg.get("use_bias", True) is not False else 0
    params = (query * heads * key_dim + key * heads * key_dim + value * heads * value_dim
              + heads * value_dim * out + bias * (2 * heads * key_dim + heads * value_dim + out))
    return shapes[0][:-1] + (out,), params


def build_shapes(layer: dict) -> list[Shape] | None:
    """The input shapes a layer's ``build_config`` declares (Keras builds from it), if any."""
    build = layer.get("build_config")
    if not isinstance(build, dict):
        return None
    shape = build.get("input_shape")
    if not isinstance(shape, list) or not shape:
        return None
    many = shape if isinstance(shape[0], list) else [shape]
    try:
        return [_known(tuple(s[1:])) for s in many]
    except (Unknown, TypeError):
        return None


def input_shape(cfg: dict) -> Shape:
    shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
    if isinstance(shape, list) and shape:
        return _known(tuple(shape[1:]))
    raise Unknown


__all__ = ["Shape", "Unknown", "build_shapes", "count", "dim", "input_shape", "shaped"]
