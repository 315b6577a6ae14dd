"""One flat Keras graph over any digit classifier, exposing its convolutional and dense outputs.

A model loaded by digitpad is often nested: an adapted Keras-2 ``.h5`` file is a functional wrapper
(``Reshape`` in front, ``Softmax`` behind) around the file's ``Sequential`` model. The outputs of
layers *inside* a nested model belong to the inner model's own graph, so a plain
``keras.Model(outer.input, inner_layer.output)`` is disconnected. :func:`flat_graph` therefore
*replays* the model on a fresh input: a ``Sequential`` layer by layer, a functional model node by
node in its own order (its graph runner), entering every nested model the same way. The layers are
the model's own (shared weights, nothing copied), and the replayed graph is checked to give the
model's outputs.

A convolution's or dense layer's value is taken after the layers that directly follow it and only
rescale or activate it (batch normalisation, activations, dropout at inference), so a block
``Conv2D -> BatchNormalization -> ReLU`` is shown as what the next block receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from digitpad.core.errors import DigitpadError
from digitpad.core.tfsetup import keras

#: Layers whose output is a rescaled/activated version of their input: a probed value follows them.
FOLLOWERS = (
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "Activation", "ReLU",
    "LeakyReLU", "PReLU", "ELU", "Softmax", "Dropout", "SpatialDropout2D", "GaussianDropout",
    "GaussianNoise", "AlphaDropout",
)  # fmt: skip
#: Followers that are the identity at inference: the value passes through them unrenamed.
IDENTITIES = ("Dropout", "SpatialDropout2D", "GaussianDropout", "GaussianNoise", "AlphaDropout")
#: Largest difference allowed between the replayed graph's output and the model's.
REPLAY_TOLERANCE = 1e-4


@dataclass
class Probed:
    """One probed layer of the flat graph.

    Attributes
    ----------
    layer : str
        Name of the convolution or dense layer (made unique with ``#2``, ``#3`` ...).
    kind : str
        Its class name, e.g. ``"Conv2D"`` or ``"Dense"``.
    output_of : str
        Name of the layer whose output is taken (the layer itself or the last follower).
    tensor : Any
        The symbolic output in the flat graph.
    """

    layer: str
    kind: str
    output_of: str
    tensor: Any


def unwrap(model: Any) -> Any:
    """The Keras model of a ``modelfile.LoadedModel`` (anything with ``.model`` and ``.adaptations``)."""
    inner = getattr(model, "model", None)
    if inner is not None and hasattr(model, "adaptations"):
        return inner
    return model


def _probed_kind(layer: Any, rank: int) -> str | None:
    """``"Conv2D"``-like or ``"Dense"`` for a layer worth showing, else None."""
    name = type(layer).__name__
    if rank == 4 and "Conv" in name:
        return name
    if rank == 2 and isinstance(layer, keras().layers.Dense):
        return name
    return None


class _Replay:
    """Re-calls a model's layers on new symbolic tensors, recording the probed outputs."""

    def __init__(self) -> None:
        self.probed: list[Probed] = []
        self._latest: dict[int, int] = {}  # id(tensor) -> index in probed, for followers
        self._names: set[str] = set()

    def model(self, model: Any, inputs: Any) -> Any:
        k = keras()
        flat = k.tree.flatten(inputs)
        if isinstance(model, k.Sequential):
            x = flat[0]
            for layer in model.layers:
                x = self.call(layer, x)
            return x
        run = getattr(model, "_run_through_graph", None)
        if run is None or not getattr(model, "inputs", None):
            raise DigitpadError(f"the layers of {type(model).__name__} cannot be followed.")
        outputs = run(flat, operation_fn=lambda op: lambda *a, **kw: self.call(op, *a, **kw))
        outputs = k.tree.flatten(outputs)
        return outputs[0] if len(outputs) == 1 else outputs

    def call(self, op: Any, *args: Any, **kwargs: Any) -> Any:
        k = keras()
        if isinstance(op, k.Model):
            return self.model(op, args[0] if len(args) == 1 else list(args))
        y = op(*args, **kwargs)
        source = args[0] if args else None
        if type(op).__name__ in FOLLOWERS and id(source) in self._latest:
            index = self._latest.pop(id(source))
            self.probed[index].tensor = y
            if type(op).__name__ not in IDENTITIES:
                self.probed[index].output_of = op.name
            self._latest[id(y)] = index
            return y
        shape = getattr(y, "shape", None)
        kind = _probed_kind(op, len(shape)) if shape is not None else None
        if kind is not None:
            name, n = op.name, 1
            while name in self._names:
                n += 1
                name = f"{op.name}#{n}"
            self._names.add(name)
            self._latest[id(y)] = len(self.probed)
            self.probed.append(Probed(name, kind, op.name, y))
        return y


def model_input_shape(model: Any) -> tuple[int, ...]:
    """The per-image input shape of ``model`` (one of (28, 28, 1), (28, 28), (784,))."""
    from digitpad.core.inference.backends import model_input_shape as shape_of

    return shape_of(model)


def flat_graph(model: Any) -> tuple[Any, list[Probed]]:
    """A functional model giving every probed layer's output and, last, the model's output.

    Parameters
    ----------
    model : keras.Model or modelfile.LoadedModel
        A digit classifier (nested and adapted models included).

    Returns
    -------
    tuple
        ``(flat, probed)``: ``flat(x)`` returns ``[*probed outputs, probabilities]``.

    Raises
    ------
    DigitpadError
        The model's graph cannot be replayed, or the replay does not give the model's output.
    """
    from digitpad.core.inference.backends import probe_inputs

    k = keras()
    model = unwrap(model)
    shape = model_input_shape(model)
    replay = _Replay()
    try:
        inp = k.Input(shape, name="probe_image")
        out = replay.model(model, inp)
        flat = k.Model(inp, [p.tensor for p in replay.probed] + [out], name="activation_probe")
    except DigitpadError:
        raise
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise DigitpadError(f"the layers of this model cannot be followed ({reason}).") from None
    probes = probe_inputs().reshape((-1, *shape))
    want = np.asarray(model(probes, training=False), dtype=np.float64)
    got = np.asarray(flat(probes, training=False)[-1], dtype=np.float64)
    if got.shape != want.shape or not np.allclose(got, want, atol=REPLAY_TOLERANCE, rtol=0):
        raise DigitpadError("the layers of this model cannot be followed (replaying them changes "
                            "its output).")
    return flat, replay.probed


__all__ = ["FOLLOWERS", "IDENTITIES", "Probed", "REPLAY_TOLERANCE", "flat_graph", "model_input_shape", "unwrap"]
