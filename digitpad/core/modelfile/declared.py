"""How many weights a model configuration declares, worked out from the JSON alone.

Keras allocates every weight a config declares (a Dense of ``units`` x its input width, a Conv of
``kernel`` x channels x ``filters``, ...) while it *builds* the model, before any weight is read
from the file, so a 43 KB config can ask for gigabytes. :func:`declared_size` propagates tensor
shapes through the config - Sequential and Functional models, nested ones included - with one small
rule per kind of layer, and adds up the weights each layer would create. Where a shape cannot be
followed (a layer kind without a rule), a layer's own ``build_config`` shape is used, as Keras
itself does; a layer with weights whose input is known from neither is refused. Nothing is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from digitpad.core.modelfile.sentences import fail

Shape = tuple  # dimensions after the batch one; an entry is an int or None (free)

_MODELS = {"Sequential", "Functional", "Model"}
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


@dataclass
class Tally:
    """What the walk found: weights declared, the largest layer output, and the layer names seen."""

    params: int = 0
    largest_output: int = 0
    layers: list[str] = field(default_factory=list)


def _ints(value: Any, rank: int) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * rank
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
        return tuple(value)
    raise Unknown


def _dim(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise Unknown


def _known(shape: Shape) -> Shape:
    if shape is None or any(d is not None and (not isinstance(d, int) or d < 0) for d in shape):
        raise Unknown
    return shape


def _count(shape: Shape) -> int:
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
    channels = _dim(shape[-1])
    bias = 1 if cfg.get("use_bias", True) else 0
    mult = _dim(cfg.get("depth_multiplier", 1))
    out = _strided(shape, cfg, rank, transpose="Transpose" in class_name)
    if class_name.startswith("Depthwise"):
        return out[:-1] + (channels * mult,), kernel * channels * mult + bias * channels * mult
    filters = _dim(cfg.get("filters"))
    if class_name.startswith("Separable"):
        return (out[:-1] + (filters,),
                kernel * channels * mult + channels * mult * filters + bias * filters)
    groups = max(_dim(cfg.get("groups", 1)), 1)
    return out[:-1] + (filters,), kernel * (channels // groups) * filters + bias * filters


def _rnn(class_name: str, cfg: dict, shape: Shape) -> tuple[Shape, int]:
    units = _dim(cfg.get("units"))
    width = _dim(shape[-1])
    params = _RNN_GATES[class_name] * (units * width + units * units + 2 * units)
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
    out[axis] = sum(_dim(s[axis]) for s in shapes)
    return tuple(out)


def _reshape(cfg: dict, shape: Shape) -> Shape:
    target = [int(d) for d in _ints(cfg.get("target_shape"), 1)]
    if -1 in target:
        rest = math.prod(d for d in target if d != -1) or 1
        target[target.index(-1)] = _count(shape) // rest
    return _known(tuple(target))


def _shaped(class_name: str, cfg: dict, shapes: list[Shape]) -> tuple[Shape, int]:
    """``(output shape, weights)`` of one plain layer fed ``shapes``; Unknown without a rule."""
    shape = shapes[0]
    if class_name in _SAME:
        if class_name in _NORMS:
            return shape, 4 * (_dim(shape[-1]) if cfg.get("axis", -1) in (-1, [-1], len(shape))
                               else _count(shape))
        return shape, _count(shape) if class_name == "PReLU" else 0
    if class_name in _MERGE:
        return _merge(shapes), 0
    if class_name == "Concatenate":
        return _concat(cfg, shapes), 0
    if class_name == "Dense":
        units = _dim(cfg.get("units"))
        return shape[:-1] + (units,), units * _dim(shape[-1]) + units
    if class_name == "Flatten":
        return (_count(shape),), 0
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
        out_dim = _dim(cfg.get("output_dim"))
        return shape + (out_dim,), _dim(cfg.get("input_dim")) * out_dim
    if class_name in _RNN_GATES:
        return _rnn(class_name, cfg, shape)
    if class_name == "RepeatVector":
        return (_dim(cfg.get("n")),) + shape, 0
    if class_name == "Permute":
        dims = _ints(cfg.get("dims"), 1)
        return tuple(shape[d - 1] for d in dims), 0
    if class_name == "InputLayer":
        return shape, 0
    raise Unknown


def _build_shapes(layer: dict) -> list[Shape] | None:
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


def _input_shape(cfg: dict) -> Shape:
    shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
    if isinstance(shape, list) and shape:
        return _known(tuple(shape[1:]))
    raise Unknown


class Walker:
    """Shape propagation with the tally of weights; ``name`` is the file name used in messages."""

    def __init__(self, name: str):
        self.name = name
        self.tally = Tally()

    def _add(self, layer_name: str, params: int, out: Shape) -> None:
        self.tally.params += params
        self.tally.layers.append(layer_name)
        try:
            self.tally.largest_output = max(self.tally.largest_output, _count(out))
        except Unknown:
            pass

    def layer(self, layer: dict, shapes: list[Shape] | None) -> list[Shape] | None:
        """Output shapes of one layer config fed ``shapes`` (None: not known); tallies weights."""
        class_name = layer.get("class_name")
        cfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        label = str(cfg.get("name") or class_name)[:60]
        if class_name in _MODELS:
            return self.model(layer, shapes)
        if class_name == "InputLayer":
            out = _input_shape(cfg)
            self._add(label, 0, out)
            return [out]
        if class_name in ("TimeDistributed", "Bidirectional") and isinstance(cfg.get("layer"), dict):
            return self._wrapper(class_name, cfg, shapes, label)
        built = _build_shapes(layer)
        outs: list[Shape] | None = None
        params_seen: list[int] = []
        for candidate in (shapes, built):
            if candidate is None:
                continue
            try:
                out, params = _shaped(str(class_name), cfg, candidate)
            except (Unknown, IndexError, TypeError, ValueError, ZeroDivisionError):
                continue
            params_seen.append(params)
            if outs is None and candidate is shapes:
                outs = [out]
        if not params_seen:
            if built is None and _declares_weights(cfg):
                raise fail(f"{self.name} has a layer {label!r} ({str(class_name)[:40]}) whose size "
                           "digitpad cannot work out from the file, so it is refused")
            return None
        self._add(label, max(params_seen), outs[0] if outs else ())
        return outs

    def _wrapper(self, class_name: str, cfg: dict, shapes: list[Shape] | None,
                 label: str) -> list[Shape] | None:
        inner = cfg["layer"]
        if class_name == "TimeDistributed":
            if shapes is None:
                return None
            outs = self.layer(inner, [shapes[0][1:]])
            return None if outs is None else [(shapes[0][0],) + outs[0]]
        before = self.tally.params
        outs = self.layer(inner, shapes)
        self.tally.params += self.tally.params - before   # forward and backward copies
        if outs is None:
            return None
        merge = cfg.get("merge_mode", "concat")
        return [outs[0][:-1] + (_dim(outs[0][-1]) * 2,)] if merge == "concat" else outs

    def model(self, node: dict, shapes: list[Shape] | None) -> list[Shape] | None:
        """Output shapes of a Sequential or Functional config fed ``shapes`` (None: its own)."""
        cfg = node.get("config")
        if isinstance(cfg, list):          # Keras 2 Sequential: the layer list itself
            cfg = {"layers": cfg}
        if not isinstance(cfg, dict) or not isinstance(cfg.get("layers"), list):
            return None
        layers = [layer for layer in cfg["layers"] if isinstance(layer, dict)]
        if node.get("class_name") == "Sequential":
            current = shapes
            for layer in layers:
                if current is None and isinstance(layer.get("config"), dict):
                    try:   # Keras 2: the first layer names the input
                        current = [_input_shape(layer["config"])]
                    except Unknown:
                        pass
                current = self.layer(layer, current)
            return current
        return self._functional(cfg, layers, shapes)

    def _functional(self, cfg: dict, layers: list[dict], shapes: list[Shape] | None) -> list[Shape] | None:
        produced: dict[tuple[str, int], list[Shape] | None] = {}
        inputs = _references(cfg.get("input_layers"))
        for i, ref in enumerate(inputs):
            if shapes is not None and i < len(shapes):
                produced[(ref[0], 0)] = [shapes[i]]
        pending = [(layer, n, node) for layer in layers
                   for n, node in enumerate(_nodes(layer))] + \
                  [(layer, 0, None) for layer in layers if not _nodes(layer)]
        while pending:
            left = []
            for layer, index, node in pending:
                name = str(layer.get("name") or (layer.get("config") or {}).get("name"))
                if node is None:
                    if (name, 0) not in produced:
                        produced[(name, 0)] = self.layer(layer, None)
                    continue
                refs = node
                if not all((ref[0], ref[1]) in produced for ref in refs):
                    left.append((layer, index, node))
                    continue
                fed = [produced[(ref[0], ref[1])] for ref in refs]
                ins = None if any(f is None or ref[2] >= len(f) for f, ref in zip(fed, refs, strict=False)) \
                    else [f[ref[2]] for f, ref in zip(fed, refs, strict=False)]
                produced[(name, index)] = self.layer(layer, ins)
            if len(left) == len(pending):   # a reference to nothing: Keras will refuse the file
                for layer, _index, _node in left:
                    self.layer(layer, None)
                break
            pending = left
        outs = []
        for ref in _references(cfg.get("output_layers")):
            got = produced.get((ref[0], ref[1]))
            if got is None or ref[2] >= len(got):
                return None
            outs.append(got[ref[2]])
        return outs


def _declares_weights(cfg: dict) -> bool:
    return any(key in cfg for key in ("units", "filters", "output_dim", "kernel_size", "num_heads",
                                      "key_dim", "input_dim", "output_shape"))


def _references(value: Any) -> list[tuple[str, int, int]]:
    """``[[name, node, tensor], ...]`` (or one such triple, or a dict of them) as a list."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        value = [value]
    refs = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, list) and len(item) >= 3 and isinstance(item[0], str) \
                and isinstance(item[1], int) and isinstance(item[2], int):
            refs.append((item[0], item[1], item[2]))
    return refs


def _history(value: Any, out: list[tuple[str, int, int]]) -> None:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            out.extend(_references((value.get("config") or {}).get("keras_history")))
            return
        for item in value.values():
            _history(item, out)
    elif isinstance(value, list):
        for item in value:
            _history(item, out)


def _nodes(layer: dict) -> list[list[tuple[str, int, int]]]:
    """The inbound nodes of a functional layer, each as the list of tensors it takes."""
    nodes = layer.get("inbound_nodes")
    result = []
    for node in nodes if isinstance(nodes, list) else []:
        refs: list[tuple[str, int, int]] = []
        if isinstance(node, dict):          # Keras 3: {"args": [...], "kwargs": {...}}
            _history(node.get("args"), refs)
        elif isinstance(node, list):        # Keras 2: [[name, node, tensor, kwargs], ...]
            refs = _references(node)
        if refs:
            result.append(refs)
    return result


def declared_size(config: dict, name: str) -> Tally:
    """The weights and largest layer output a model config declares, without building it.

    Parameters
    ----------
    config
        The decoded model configuration (``{"class_name": ..., "config": ...}``).
    name
        File name for messages.

    Returns
    -------
    Tally
        ``params`` (weights Keras would allocate; the larger figure where a layer's inputs and its
        ``build_config`` disagree), ``largest_output`` (numbers one layer outputs per image).

    Raises
    ------
    ModelFileError
        A layer with weights whose input shape cannot be worked out from the file.
    """
    walker = Walker(name)
    walker.model(config, None)
    return walker.tally


__all__ = ["Tally", "declared_size"]
