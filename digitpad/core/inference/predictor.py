"""The :class:`Predictor`: one drawing in well under a millisecond, and a batched path for files.

``model.predict`` is the wrong tool for an interactive app: every call builds a ``tf.data``
pipeline and a fresh execution context (70-80 ms a call on a 2-core CPU). A predictor never calls
it: it runs the LiteRT backend when that is verified to give Keras's probabilities (about
0.01-0.07 ms per drawing for a small CNN), else a ``tf.function``
(:mod:`~digitpad.core.inference.backends`), and says why in :attr:`Predictor.fallback_reason`.
Images reach either backend through :func:`~digitpad.core.data.to_model_input`.

Thread safety: a :class:`Predictor` may be shared between threads but is used by one thread at a
time -- every call takes an internal lock, so concurrent calls are serialised, not run in
parallel. The GUI calls it from the GUI thread or from one worker.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from digitpad.core.calibration import apply_temperature, temperature_from_metadata
from digitpad.core.data import IMAGE_SIDE, NUM_CLASSES, to_model_input
from digitpad.core.errors import DigitpadError, ImageError
from digitpad.core.inference.backends import (
    BACKENDS,
    LiteRTBackend,
    TFFunctionBackend,
    build_litert,
    keras_probabilities,
    model_input_shape,
    probe_inputs,
)


def _unwrap_model(model):
    """Accept a Keras model or a ``modelfile.LoadedModel`` (anything with ``.model`` and ``.adaptations``)."""
    inner = getattr(model, "model", None)
    if inner is not None and hasattr(model, "adaptations"):
        return inner
    return model


class Predictor:
    """Runs a Keras digit classifier fast, one drawing or many, without ``model.predict``.

    Parameters
    ----------
    model : keras.Model or modelfile.LoadedModel
        A classifier taking 28x28 grey images in [0, 1] (input ``(None, 28, 28, 1)``,
        ``(None, 28, 28)`` or ``(None, 784)``) and giving 10 softmax probabilities.
    backend : {"auto", "litert", "tf.function"}
        ``"auto"`` (default) uses LiteRT when the converted model is verified to give the same
        probabilities as Keras (to 1e-5), else a ``tf.function``. ``"litert"`` insists on LiteRT
        and raises :class:`DigitpadError` if it cannot be used; ``"tf.function"`` skips LiteRT.
    temperature : float or None
        Calibration temperature applied to every probability returned
        (:func:`~digitpad.core.calibration.apply_temperature`). ``None`` (default) takes the one
        stored in a ``LoadedModel``'s metadata, if any; a plain Keras model then stays
        uncalibrated. Pass ``1.0`` for the model's own probabilities.

    Attributes
    ----------
    backend : str
        ``"litert"`` or ``"tf.function"``: what actually runs.
    fallback_reason : str or None
        Why LiteRT is not used (None when it is).
    max_abs_diff : float or None
        Largest difference between the backend's and Keras's probabilities on the probe inputs.
    setup_ms : float
        Time taken to build the predictor (conversion and verification), in milliseconds.
    model : keras.Model
        The Keras model (unwrapped from a ``LoadedModel``).
    temperature : float or None
        The temperature applied (None: the model's own probabilities, not calibrated).

    Notes
    -----
    Safe to share between threads, but calls are serialised by an internal lock: use it from one
    thread at a time (the GUI thread or one worker) for predictable latency.

    The LiteRT backend runs a *snapshot* of the weights taken when the predictor was built: after
    more training, build a new ``Predictor``. Building one converts and verifies the model, which
    takes 0.1-1.5 s on a 2-core CPU, so do it off the GUI thread.

    Raises
    ------
    ArchitectureError
        The model does not take a 28x28 image or does not output 10 classes.
    DigitpadError
        ``backend`` is unknown, or ``"litert"`` was required and cannot be used.
    """

    def __init__(self, model, *, backend: str = "auto", temperature: float | None = None) -> None:
        start = time.perf_counter()
        if backend not in BACKENDS:
            raise DigitpadError(
                f"inference backend {backend!r} is not one of {', '.join(BACKENDS)}."
            )
        if temperature is None and hasattr(model, "adaptations"):
            temperature = temperature_from_metadata(getattr(model, "metadata", None))
        if temperature is not None and not (float(temperature) > 0.0):
            raise DigitpadError(f"the temperature must be a positive number, not {temperature!r}.")
        self.temperature: float | None = None if temperature is None else float(temperature)
        self.model = _unwrap_model(model)
        input_shape = model_input_shape(self.model)
        self._lock = threading.Lock()
        self.fallback_reason: str | None = None
        self.max_abs_diff: float | None = None

        probes = probe_inputs()
        reference = keras_probabilities(self.model, probes, input_shape)
        tf_backend = TFFunctionBackend(self.model, input_shape)
        self._backend: TFFunctionBackend | LiteRTBackend = tf_backend

        if backend == "tf.function":
            self.fallback_reason = "the tf.function backend was requested"
        else:
            lite, self.max_abs_diff, reason = build_litert(self.model, tf_backend, probes, reference)
            if lite is not None:
                self._backend = lite
            elif backend == "litert":
                raise DigitpadError(f"the LiteRT runtime cannot run this model ({reason}).")
            else:
                self.fallback_reason = reason
        if self._backend is tf_backend:
            self.max_abs_diff = tf_backend.max_abs_diff(probes, reference)
        self.setup_ms = (time.perf_counter() - start) * 1000.0

    @property
    def backend(self) -> str:
        """``"litert"`` or ``"tf.function"``: what actually runs."""
        return self._backend.name

    @property
    def description(self) -> str:
        """Human-readable backend, e.g. ``"LiteRT (1 thread)"`` or ``"tf.function (fallback: ...)"``."""
        if self.backend == "litert":
            return "LiteRT (1 thread)"
        return f"tf.function ({self.fallback_reason})" if self.fallback_reason else "tf.function"

    def predict_one(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities of one image.

        Parameters
        ----------
        x : numpy.ndarray
            (28, 28) (or (28, 28, 1), (1, 28, 28, 1), (784,)) float in [0, 1], ink bright;
            uint8 0..255 is scaled by :func:`~digitpad.core.data.to_model_input`.

        Returns
        -------
        numpy.ndarray
            float32 (10,) probabilities.

        Raises
        ------
        ImageError
            ``x`` is not one 28x28 image.
        DataError
            Float pixels outside [0, 1] (see :func:`~digitpad.core.data.to_model_input`).
        """
        a = np.asarray(x)
        if a.size != IMAGE_SIDE * IMAGE_SIDE or a.shape not in (
            (IMAGE_SIDE, IMAGE_SIDE), (IMAGE_SIDE, IMAGE_SIDE, 1), (1, IMAGE_SIDE, IMAGE_SIDE, 1),
            (IMAGE_SIDE * IMAGE_SIDE,),
        ):  # fmt: skip
            raise ImageError(f"predict_one needs one 28x28 image, got an array of shape {a.shape}.")
        field = to_model_input(a.reshape(IMAGE_SIDE, IMAGE_SIDE))[0]
        with self._lock:
            probs = self._backend.run_one(field)
        return apply_temperature(probs, self.temperature)

    def predict_batch(self, xs: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Class probabilities of many images, run in batches (not one call per image).

        Parameters
        ----------
        xs : numpy.ndarray
            (N, 28, 28) (or (N, 28, 28, 1), (N, 784)) float in [0, 1]; uint8 0..255 is scaled by
            :func:`~digitpad.core.data.to_model_input`.
        batch_size : int
            Images per interpreter call.

        Returns
        -------
        numpy.ndarray
            float32 (N, 10) probabilities.

        Raises
        ------
        ImageError
            ``xs`` is not a stack of 28x28 images.
        DataError
            Float pixels outside [0, 1].
        """
        if batch_size < 1:
            raise DigitpadError(f"batch size must be at least 1, got {batch_size}.")
        a = np.asarray(xs)
        if not (
            (a.ndim == 2 and a.shape[1] == IMAGE_SIDE * IMAGE_SIDE)
            or (a.ndim == 3 and a.shape[1:] == (IMAGE_SIDE, IMAGE_SIDE))
            or (a.ndim == 4 and a.shape[1:] == (IMAGE_SIDE, IMAGE_SIDE, 1))
        ):
            raise ImageError(f"predict_batch needs images of shape (N, 28, 28), got {a.shape}.")
        a = to_model_input(a)
        out = np.empty((len(a), NUM_CLASSES), np.float32)
        if len(a) == 0:
            return out
        with self._lock:
            self._backend.run_many(a, batch_size, out)
        return apply_temperature(out, self.temperature)
