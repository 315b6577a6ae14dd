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

from dataclasses import dataclass, field
from typing import Any

from digitpad.core.modelfile.layer_shapes import (
    Shape,
    Unknown,
    build_shapes,
    count,
    dim,
    input_shape,
    shaped,
)
from digitpad.core.modelfile.sentences import fail


@dataclass
class Tally:
    """What the walk found: weights declared, the largest layer output, and the layer names seen."""

    params: int = 0
    largest_output: int = 0
    layers: list[str] = field(default_factory=list)


_MODELS = {"Sequential", "Functional", "Model"}


class Walker:
    """Shape propagation with the tally of weights; ``name`` is the file name used in messages."""

    def __init__(self, name: str):
        self.name = name
        self.tally = Tally()
        self._counted: set[int] = set()   # layers already tallied (a shared layer has one set)

    def _add(self, layer: dict, layer_name: str, params: int, out: Shape) -> None:
        if id(layer) not in self._counted:
            self._counted.add(id(layer))
            self.tally.params += params
            self.tally.layers.append(layer_name)
        try:
            self.tally.largest_output = max(self.tally.largest_output, count(out))
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
            out = input_shape(cfg)
            self._add(layer, label, 0, out)
            return [out]
        if class_name in ("TimeDistributed", "Bidirectional") and isinstance(cfg.get("layer"), dict):
            return self._wrapper(class_name, cfg, shapes, label)
        built = build_shapes(layer)
        outs: list[Shape] | None = None
        params_seen: list[int] = []
        for candidate in (shapes, built):
            if candidate is None:
                continue
            try:
                out, params = shaped(str(class_name), cfg, candidate)
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
        self._add(layer, label, max(params_seen), outs[0] if outs else ())
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
        return [outs[0][:-1] + (dim(outs[0][-1]) * 2,)] if merge == "concat" else outs

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
                        current = [input_shape(layer["config"])]
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
