"""Pixel attributions: which pixels of a drawing pushed the model towards a digit.

Integrated gradients (Sundararajan, Taly and Yan, 2017): the gradient of the target digit's
probability is averaged along the straight path from a black image (the baseline: no ink) to the
drawing, and multiplied by the drawing. The result is at pixel resolution -- one value per pixel of
the 28x28 input, so individual strokes stand out, unlike a 7x7 class-activation map -- and it is
*complete*: the signed attributions add up to ``p(drawing) - p(black)`` for the target digit, up to
the error of the ``steps``-point midpoint rule. With a black baseline, pixels without ink get
exactly zero.

The heatmap keeps the positive evidence (what argued *for* the target) and divides by its sum, so
it sums to 1 and can be drawn with any colour scale. All ``steps`` path points go through the model
in one batched call of a ``tf.function`` built once.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from digitpad.core.data import IMAGE_SIDE, NUM_CLASSES
from digitpad.core.errors import DigitpadError
from digitpad.core.explain.activations import as_image28
from digitpad.core.explain.graph import model_input_shape, unwrap

#: Attribution methods an :class:`Attributor` offers.
METHODS = ("integrated_gradients",)


def to_heatmap(attribution: np.ndarray) -> np.ndarray:
    """Positive part of a signed attribution, divided by its sum (all zeros when there is none).

    Returns
    -------
    numpy.ndarray
        float32, same shape, >= 0, summing to 1 (or all zeros).
    """
    positive = np.maximum(np.asarray(attribution, dtype=np.float64), 0.0)
    total = float(positive.sum())
    if not np.isfinite(total) or total <= 0.0:
        return np.zeros(positive.shape, np.float32)
    return (positive / total).astype(np.float32)


class Attributor:
    """Pixel attributions of a digit classifier for one 28x28 image and a target digit.

    Parameters
    ----------
    model : keras.Model or modelfile.LoadedModel
        A digit classifier with softmax outputs (a loaded, adapted model is).
    method : str
        ``"integrated_gradients"`` (see :data:`METHODS`).
    steps : int
        Points on the path from the black baseline to the image (midpoint rule), at least 2.

    Attributes
    ----------
    method : str
    steps : int

    Notes
    -----
    The ``tf.function`` is built and traced here (build it off the GUI thread); each call is one
    forward and backward pass over ``steps`` images. Calls are serialised by a lock.

    Raises
    ------
    DigitpadError
        Unknown ``method`` or ``steps`` below 2.
    """

    def __init__(
        self, model: Any, *, method: str = "integrated_gradients", steps: int = 32
    ) -> None:
        from digitpad.core.tfsetup import tf

        if method not in METHODS:
            raise DigitpadError(f"attribution method {method!r} is not one of {', '.join(METHODS)}.")
        if int(steps) < 2:
            raise DigitpadError(f"integrated gradients need at least 2 steps, got {steps}.")
        tf = tf()
        self.method = method
        self.steps = int(steps)
        keras_model = unwrap(model)
        shape = model_input_shape(keras_model)
        alphas = tf.constant(
            (np.arange(self.steps, dtype=np.float32) + 0.5) / np.float32(self.steps)
        )

        def integrated_gradients(image, target):
            path = tf.reshape(alphas, (-1, 1, 1)) * image[None]  # black baseline: 0
            with tf.GradientTape() as tape:
                tape.watch(path)
                probs = keras_model(tf.reshape(path, (-1, *shape)), training=False)
                picked = tf.gather(tf.cast(probs, tf.float32), target, axis=1)
            grads = tape.gradient(picked, path)
            return image * tf.reduce_mean(grads, axis=0)

        self._fn = tf.function(
            integrated_gradients,
            input_signature=[
                tf.TensorSpec((IMAGE_SIDE, IMAGE_SIDE), tf.float32),
                tf.TensorSpec((), tf.int32),
            ],
            jit_compile=False,
        )
        self._lock = threading.Lock()
        self._fn(np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.float32), np.int32(0))  # trace now

    def signed(self, image28: np.ndarray, target: int) -> np.ndarray:
        """Signed attributions of ``image28`` for digit ``target``.

        Returns
        -------
        numpy.ndarray
            float32 (28, 28): positive where a pixel's ink raised the target's probability,
            negative where it lowered it; the values add up to about
            ``p(image) - p(black image)``.

        Raises
        ------
        ImageError
            Not one 28x28 image in [0, 1].
        DigitpadError
            ``target`` is not a digit 0..9.
        """
        x = as_image28(image28)
        if isinstance(target, bool) or int(target) != target or not 0 <= int(target) < NUM_CLASSES:
            raise DigitpadError(f"the digit to explain must be 0..9, got {target!r}.")
        with self._lock:
            out = self._fn(x, np.int32(int(target)))
        return np.asarray(out, dtype=np.float32)

    def __call__(self, image28: np.ndarray, target: int) -> np.ndarray:
        """Heatmap of the pixels that pushed the model towards ``target``.

        Parameters
        ----------
        image28 : numpy.ndarray
            float32 (28, 28) in [0, 1], ink bright: the image the model sees.
        target : int
            The digit to explain (usually the predicted one).

        Returns
        -------
        numpy.ndarray
            float32 (28, 28), aligned with ``image28``, >= 0, summing to 1; all zeros when the
            image has no ink or nothing in it argues for ``target``.
        """
        return to_heatmap(self.signed(image28, target))


__all__ = ["METHODS", "Attributor", "to_heatmap"]
