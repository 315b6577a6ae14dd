"""Layer activations of a digit classifier for one drawing: feature maps and dense strips."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from digitpad.core.data import IMAGE_SIDE
from digitpad.core.errors import ImageError
from digitpad.core.explain.graph import flat_graph, model_input_shape, unwrap


@dataclass
class Activation:
    """The output of one layer for one image.

    Attributes
    ----------
    layer : str
        Layer name (unique within the probe).
    kind : str
        Layer class name, e.g. ``"Conv2D"`` or ``"Dense"``.
    values : numpy.ndarray
        Convolution: float32 (H, W, C) feature maps. Dense: float32 (units,).
    output_of : str
        The layer whose output ``values`` is: the layer itself, or the batch normalisation /
        activation that directly follows it.
    """

    layer: str
    kind: str
    values: np.ndarray
    output_of: str = ""


def as_image28(image28: np.ndarray) -> np.ndarray:
    """Check and convert one 28x28 image in [0, 1] to float32 (28, 28).

    Raises
    ------
    ImageError
        Not 784 values in a (28, 28), (28, 28, 1) or (784,) array, or values outside [0, 1].
    """
    a = np.asarray(image28, dtype=np.float32)
    if a.size != IMAGE_SIDE * IMAGE_SIDE or a.shape not in (
        (IMAGE_SIDE, IMAGE_SIDE), (IMAGE_SIDE, IMAGE_SIDE, 1), (IMAGE_SIDE * IMAGE_SIDE,),
    ):  # fmt: skip
        raise ImageError(f"one 28x28 image is needed, got an array of shape {a.shape}.")
    a = a.reshape(IMAGE_SIDE, IMAGE_SIDE)
    if not np.all(np.isfinite(a)) or a.min() < 0.0 or a.max() > 1.0:
        raise ImageError("image pixels must be finite values in [0, 1].")
    return a


class ActivationProbe:
    """All convolutional feature maps and dense outputs of a model, for one image at a time.

    Parameters
    ----------
    model : keras.Model or modelfile.LoadedModel
        A digit classifier; nested and adapted models (Keras-2 ``.h5`` wrappers) are followed
        inside (:func:`~digitpad.core.explain.graph.flat_graph`).

    Attributes
    ----------
    layers : list of tuple of str
        ``(name, kind)`` of the probed layers, in the order the image flows through them.

    Notes
    -----
    One Keras sub-model and one ``tf.function`` are built once, here (about a second on a 2-core
    CPU: build it off the GUI thread); each call is then a single forward pass. Calls are
    serialised by a lock.

    Raises
    ------
    DigitpadError
        The model's layers cannot be followed.
    """

    def __init__(self, model: Any) -> None:
        from digitpad.core.tfsetup import tf

        tf = tf()
        keras_model = unwrap(model)
        self._shape = model_input_shape(keras_model)
        flat, probed = flat_graph(keras_model)
        self._flat = flat
        self._probed = [(p.layer, p.kind, p.output_of) for p in probed]
        self.layers: list[tuple[str, str]] = [(p.layer, p.kind) for p in probed]
        self._fn = tf.function(
            lambda x: flat(x, training=False),
            input_signature=[tf.TensorSpec((1, *self._shape), tf.float32)],
            jit_compile=False,
        )
        self._lock = threading.Lock()
        self._fn(np.zeros((1, *self._shape), np.float32))  # trace now, not on the first drawing

    def __call__(self, image28: np.ndarray) -> list[Activation]:
        """The probed layers' outputs for one image.

        Parameters
        ----------
        image28 : numpy.ndarray
            float32 (28, 28) in [0, 1], ink bright (e.g. ``Normalized.image``).

        Returns
        -------
        list of Activation
            One per entry of :attr:`layers`, in that order.

        Raises
        ------
        ImageError
            Not one 28x28 image in [0, 1].
        """
        x = as_image28(image28).reshape((1, *self._shape))
        with self._lock:
            outputs = self._fn(x)
        return [
            Activation(layer=name, kind=kind, values=np.asarray(out, np.float32)[0], output_of=of)
            for (name, kind, of), out in zip(self._probed, outputs[:-1], strict=True)
        ]


__all__ = ["Activation", "ActivationProbe", "as_image28"]
