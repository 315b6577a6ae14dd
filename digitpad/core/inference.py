"""Fast inference: one drawing at a time in well under a millisecond, and a batched path for files.

``model.predict`` is the wrong tool for an interactive app: every call builds a ``tf.data``
pipeline and a fresh execution context (70-80 ms a call on a 2-core CPU). :class:`Predictor`
never calls it. Its fast path converts the Keras model once, in memory, to a TFLite flatbuffer
(float32, no quantisation, no optimisations) and runs it with the LiteRT interpreter
(``ai_edge_litert``) on one thread, with the input and output tensors allocated once and reused.
For a small CNN that takes about 0.01-0.07 ms per drawing.

Before the fast path is used it is *verified*: a handful of probe inputs (random noise, a blank
field and a synthetic pen stroke) go through both LiteRT and the Keras model, and the
probabilities must agree to :data:`TOLERANCE` (1e-5). If the runtime is missing, the conversion
fails or the outputs differ, the predictor falls back to a ``tf.function`` compiled with a fixed
input signature (no XLA) and says why in :attr:`Predictor.fallback_reason`.

Thread safety: a :class:`Predictor` may be shared between threads but is used by one thread at a
time -- every call takes an internal lock, so concurrent calls are serialised, not run in
parallel. The GUI calls it from the GUI thread or from one worker.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from digitpad.core.errors import ArchitectureError, DigitpadError, ImageError
from digitpad.core.normalize import Normalized, normalize_canvas, normalize_image
from digitpad.core.tfsetup import quiet_native_stderr

#: Below this top probability a prediction is flagged ``low_confidence``.
LOW_CONFIDENCE = 0.6
#: Largest absolute difference allowed between LiteRT's and Keras's probabilities.
TOLERANCE = 1e-5
#: Backends a :class:`Predictor` can be asked for.
BACKENDS = ("auto", "litert", "tf.function")

_SIDE = 28
_CLASSES = 10


def _unwrap_model(model):
    """Accept a Keras model or a ``modelfile.LoadedModel`` (anything with ``.model`` and ``.path``)."""
    inner = getattr(model, "model", None)
    if inner is not None and hasattr(model, "adaptations"):
        return inner
    return model


def _model_input_shape(model) -> tuple[int, ...]:
    """The model's per-sample input shape, which must hold 784 values (28x28, 28x28x1 or 784)."""
    try:
        shape = tuple(model.inputs[0].shape)[1:]
    except (AttributeError, IndexError, TypeError, ValueError):
        shape = tuple(getattr(model, "input_shape", (None, _SIDE, _SIDE, 1)))[1:]
    if len(getattr(model, "inputs", [None]) or [None]) != 1:
        raise ArchitectureError(
            "the model has more than one input; digitpad needs one 28x28 image input."
        )
    if any(d is None for d in shape) or int(np.prod(shape)) != _SIDE * _SIDE:
        raise ArchitectureError(
            f"the model's input shape {shape} does not hold a 28x28 grey image (784 values)."
        )
    return tuple(int(d) for d in shape)


def _probe_inputs() -> np.ndarray:
    """Inputs used to check a converted model against Keras: noise, blank, a stroke, a ring."""
    rng = np.random.default_rng(1234)
    probes = [rng.random((_SIDE, _SIDE), dtype=np.float32) for _ in range(8)]
    probes.append(np.zeros((_SIDE, _SIDE), np.float32))
    yy, xx = np.mgrid[0:_SIDE, 0:_SIDE].astype(np.float32)
    # a "1": a slightly slanted vertical stroke with soft edges, MNIST-like placement
    one = np.clip(1.6 - np.abs(xx - (14.0 + (yy - 14.0) * 0.15)), 0.0, 1.0)
    one[(yy < 4) | (yy > 23)] = 0.0
    probes.append(one.astype(np.float32))
    # a "0": an ellipse ring
    r = np.sqrt(((yy - 14.0) / 9.0) ** 2 + ((xx - 14.0) / 6.0) ** 2)
    probes.append(np.clip(1.0 - np.abs(r - 1.0) * 6.0, 0.0, 1.0).astype(np.float32))
    return np.stack(probes)[..., None]


@contextlib.contextmanager
def _quiet_stdout():
    """Silence Python-level prints (Keras' export prints its signature during conversion)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def _short(exc: BaseException) -> str:
    """One line describing an exception, for ``fallback_reason``."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


@dataclass
class _LiteRT:
    """A LiteRT interpreter allocated once for a fixed batch size, with reusable buffers."""

    interpreter: object
    input_index: int
    output_index: int
    batch: int
    buffer: np.ndarray = field(repr=False)

    @classmethod
    def create(cls, flatbuffer: bytes, batch: int) -> _LiteRT:
        from ai_edge_litert.interpreter import Interpreter

        # allocate_tensors applies the XNNPACK delegate, which announces itself on fd 2 (CLI noise)
        with quiet_native_stderr():
            interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
            inputs = interpreter.get_input_details()
            outputs = interpreter.get_output_details()
            if len(inputs) != 1 or len(outputs) != 1:
                raise RuntimeError(
                    f"converted model has {len(inputs)} inputs and {len(outputs)} outputs"
                )
            index = inputs[0]["index"]
            if tuple(inputs[0]["shape"]) != (batch, _SIDE, _SIDE, 1):
                interpreter.resize_tensor_input(index, [batch, _SIDE, _SIDE, 1], strict=False)
            interpreter.allocate_tensors()
            buffer = np.zeros((batch, _SIDE, _SIDE, 1), np.float32)
            lite = cls(interpreter, index, outputs[0]["index"], batch, buffer)
            # with a dynamic batch dimension the output shape is only known after a run
            out_shape = tuple(int(d) for d in lite.run().shape)
        if out_shape != (batch, _CLASSES):
            raise RuntimeError(f"converted model outputs shape {out_shape}, expected ({batch}, 10)")
        return lite

    def run(self) -> np.ndarray:
        """Run on the current contents of :attr:`buffer`; returns a new (batch, 10) array."""
        it = self.interpreter
        it.set_tensor(self.input_index, self.buffer)
        it.invoke()
        return it.get_tensor(self.output_index)


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

    Attributes
    ----------
    backend : str
        ``"litert"`` or ``"tf.function"``: what actually runs.
    fallback_reason : str or None
        Why LiteRT is not used (None when it is).
    max_abs_diff : float or None
        Largest difference between LiteRT and Keras probabilities on the probe inputs.
    setup_ms : float
        Time taken to build the predictor (conversion and verification), in milliseconds.

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

    def __init__(self, model, *, backend: str = "auto") -> None:
        start = time.perf_counter()
        if backend not in BACKENDS:
            raise DigitpadError(
                f"inference backend {backend!r} is not one of {', '.join(BACKENDS)}."
            )
        from digitpad.core.tfsetup import tf

        self.model = _unwrap_model(model)
        self._input_shape = _model_input_shape(self.model)
        self._lock = threading.Lock()
        self._tf = tf()
        self.backend: str = "tf.function"
        self.fallback_reason: str | None = None
        self.max_abs_diff: float | None = None
        self._flatbuffer: bytes | None = None
        self._lite_one: _LiteRT | None = None
        self._lite_batch: _LiteRT | None = None

        probes = _probe_inputs()
        self._reference = self._keras_probs(probes)
        self._build_tf_functions()

        if backend == "tf.function":
            self.fallback_reason = "the tf.function backend was requested"
        else:
            reason = self._try_litert(probes)
            if reason is None:
                self.backend = "litert"
            elif backend == "litert":
                raise DigitpadError(f"the LiteRT runtime cannot run this model ({reason}).")
            else:
                self.fallback_reason = reason
        if self.backend == "tf.function":
            self._check_tf_function(probes)
        self.setup_ms = (time.perf_counter() - start) * 1000.0

    # ------------------------------------------------------------------ set-up
    def _keras_probs(self, x: np.ndarray) -> np.ndarray:
        """Reference probabilities from the Keras model itself (direct call, training=False)."""
        xin = x.reshape((len(x), *self._input_shape))
        try:
            out = np.asarray(self.model(xin, training=False), dtype=np.float32)
        except Exception as exc:  # a model that cannot run at all: say so in one sentence
            raise ArchitectureError(
                f"the model cannot be run on a batch of 28x28 images ({_short(exc)})."
            ) from None
        if out.ndim != 2 or out.shape[1] != _CLASSES:
            raise ArchitectureError(
                f"the model outputs shape {tuple(out.shape[1:])} per image; digitpad needs 10 class probabilities."
            )
        if not np.all(np.isfinite(out)):
            raise DigitpadError(
                "the model gives NaN or infinite probabilities, so its weights are unusable."
            )
        return out

    def _build_tf_functions(self) -> None:
        tf = self._tf
        model = self.model
        shape = self._input_shape

        if shape == (_SIDE, _SIDE, 1):

            def forward(x):
                return model(x, training=False)

        else:  # (28, 28) or (784,) models: reshape inside the graph

            def forward(x):
                return model(tf.reshape(x, (-1, *shape)), training=False)

        self._tf_one = tf.function(
            forward,
            input_signature=[tf.TensorSpec((1, _SIDE, _SIDE, 1), tf.float32)],
            jit_compile=False,
        )
        self._tf_many = tf.function(
            forward,
            input_signature=[tf.TensorSpec((None, _SIDE, _SIDE, 1), tf.float32)],
            jit_compile=False,
        )
        self._tf_buffer = np.zeros((1, _SIDE, _SIDE, 1), np.float32)

    def _convert(self) -> bytes:
        """Convert to a float32 TFLite flatbuffer: concrete function first, then the Keras route."""
        tf = self._tf
        errors = []
        with _quiet_stdout():
            try:
                holder = tf.Module()
                holder.variables_ = [getattr(v, "value", v) for v in self.model.variables]
                concrete = self._tf_many.get_concrete_function()
                converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], holder)
                converter.optimizations = []
                return converter.convert()
            except Exception as exc:  # converter errors come in many types
                errors.append(f"concrete function: {_short(exc)}")
            try:
                converter = tf.lite.TFLiteConverter.from_keras_model(self.model)
                converter.optimizations = []
                return converter.convert()
            except Exception as exc:
                errors.append(f"Keras model: {_short(exc)}")
        raise RuntimeError("; ".join(errors))

    def _try_litert(self, probes: np.ndarray) -> str | None:
        """Set up and verify the LiteRT path; return None on success or the reason it failed."""
        try:
            import ai_edge_litert.interpreter  # noqa: F401
        except ImportError as exc:
            return f"the LiteRT runtime (ai-edge-litert) is not installed: {_short(exc)}"
        try:
            flatbuffer = self._convert()
        except Exception as exc:
            return f"TFLite conversion failed: {_short(exc)}"
        try:
            lite = _LiteRT.create(flatbuffer, 1)
            got = np.empty_like(self._reference)
            for i, probe in enumerate(probes):
                lite.buffer[0] = probe
                got[i] = lite.run()[0]
        except Exception as exc:
            return f"the LiteRT interpreter failed on the converted model: {_short(exc)}"
        diff = (
            float(np.max(np.abs(got - self._reference)))
            if np.all(np.isfinite(got))
            else float("inf")
        )
        self.max_abs_diff = diff
        if not diff <= TOLERANCE:
            return f"LiteRT probabilities differ from Keras by {diff:.3g} (> {TOLERANCE:g})"
        self._flatbuffer = flatbuffer
        self._lite_one = lite
        return None

    def _check_tf_function(self, probes: np.ndarray) -> None:
        """Trace the tf.function paths now (not on the first drawing) and check their output."""
        got = np.asarray(self._tf_many(probes), dtype=np.float32)
        for probe in probes[:1]:
            self._tf_buffer[0] = probe
            np.asarray(self._tf_one(self._tf_buffer))
        self.max_abs_diff = float(np.max(np.abs(got - self._reference)))

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _as_field(x: np.ndarray) -> np.ndarray:
        """One image as float32 (28, 28, 1) in [0, 1]; uint8 0..255 is scaled."""
        a = np.asarray(x)
        if a.shape == (1, _SIDE, _SIDE, 1) or a.shape == (_SIDE * _SIDE,):
            a = a.reshape(_SIDE, _SIDE, 1)
        elif a.shape == (_SIDE, _SIDE):
            a = a[..., None]
        elif a.shape != (_SIDE, _SIDE, 1):
            raise ImageError(f"predict_one needs one 28x28 image, got an array of shape {a.shape}.")
        if a.dtype == np.uint8:
            return a.astype(np.float32) * np.float32(1.0 / 255.0)
        return a

    @staticmethod
    def _as_batch(xs: np.ndarray) -> np.ndarray:
        """Many images as float32 (N, 28, 28, 1) in [0, 1]; uint8 0..255 is scaled."""
        a = np.asarray(xs)
        if a.ndim == 2 and a.shape[1] == _SIDE * _SIDE:
            a = a.reshape(-1, _SIDE, _SIDE, 1)
        elif a.ndim == 3 and a.shape[1:] == (_SIDE, _SIDE):
            a = a[..., None]
        elif not (a.ndim == 4 and a.shape[1:] == (_SIDE, _SIDE, 1)):
            raise ImageError(f"predict_batch needs images of shape (N, 28, 28), got {a.shape}.")
        if a.dtype == np.uint8:
            return a.astype(np.float32) * np.float32(1.0 / 255.0)
        return a.astype(np.float32, copy=False)

    # ------------------------------------------------------------------ public API
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
            (28, 28) (or (28, 28, 1)) float in [0, 1], ink bright; uint8 0..255 is scaled.

        Returns
        -------
        numpy.ndarray
            float32 (10,) probabilities.
        """
        a = self._as_field(x)
        with self._lock:
            if self._lite_one is not None:
                lite = self._lite_one
                lite.buffer[0] = a
                return lite.run()[0]
            self._tf_buffer[0] = a
            return self._tf_one(self._tf_buffer).numpy()[0]

    def predict_batch(self, xs: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Class probabilities of many images, run in batches (not one call per image).

        Parameters
        ----------
        xs : numpy.ndarray
            (N, 28, 28) (or (N, 28, 28, 1), (N, 784)) float in [0, 1]; uint8 0..255 is scaled.
        batch_size : int
            Images per interpreter call.

        Returns
        -------
        numpy.ndarray
            float32 (N, 10) probabilities.
        """
        if batch_size < 1:
            raise DigitpadError(f"batch size must be at least 1, got {batch_size}.")
        a = self._as_batch(xs)
        n = len(a)
        out = np.empty((n, _CLASSES), np.float32)
        if n == 0:
            return out
        with self._lock:
            if self._flatbuffer is None:
                for start in range(0, n, batch_size):
                    out[start : start + batch_size] = self._tf_many(
                        a[start : start + batch_size]
                    ).numpy()
                return out
            size = min(batch_size, n)
            lite = self._lite_batch
            if lite is None or lite.batch != size:
                self._lite_batch = None  # free the old interpreter first
                lite = self._lite_batch = _LiteRT.create(self._flatbuffer, size)
            for start in range(0, n, size):
                chunk = a[start : start + size]
                k = len(chunk)
                lite.buffer[:k] = chunk
                if k < size:
                    lite.buffer[k:] = 0.0
                out[start : start + k] = lite.run()[:k]
        return out


@dataclass(frozen=True)
class Prediction:
    """What the model thinks one drawing is.

    Attributes
    ----------
    blank : bool
        Nothing drawn: no prediction was made.
    digit : int or None
        The most probable digit (None when blank).
    confidence : float
        Its probability (0.0 when blank).
    probabilities : numpy.ndarray or None
        float32 (10,) (None when blank).
    normalized : Normalized
        The normalisation steps, including the 28x28 image the model saw.
    low_confidence : bool
        ``confidence < LOW_CONFIDENCE`` for a real prediction (False when blank).
    """

    blank: bool
    digit: int | None
    confidence: float
    probabilities: np.ndarray | None
    normalized: Normalized
    low_confidence: bool


def _prediction(normalized: Normalized, probs: np.ndarray | None) -> Prediction:
    if normalized.blank or probs is None:
        return Prediction(True, None, 0.0, None, normalized, False)
    digit = int(np.argmax(probs))
    confidence = float(probs[digit])
    return Prediction(False, digit, confidence, probs, normalized, confidence < LOW_CONFIDENCE)


def recognize(predictor: Predictor, canvas: np.ndarray) -> Prediction:
    """Normalise a drawing MNIST-style and predict it.

    Parameters
    ----------
    predictor : Predictor
    canvas : numpy.ndarray
        2-D, ink bright: uint8 0..255 or float 0..1, any size.

    Returns
    -------
    Prediction
        ``blank=True`` (and no probabilities) when nothing is drawn.
    """
    normalized = normalize_canvas(canvas)
    if normalized.blank:
        return _prediction(normalized, None)
    return _prediction(normalized, predictor.predict_one(normalized.image))


def recognize_file(predictor: Predictor, path: str | os.PathLike) -> Prediction:
    """Load an image file, normalise it and predict it (:class:`ImageError` if unreadable)."""
    normalized = normalize_image(path)
    if normalized.blank:
        return _prediction(normalized, None)
    return _prediction(normalized, predictor.predict_one(normalized.image))


def recognize_files(
    predictor: Predictor,
    paths: Sequence[str | os.PathLike] | Iterable[str | os.PathLike],
    batch_size: int = 256,
) -> list[Prediction | DigitpadError]:
    """Recognise many image files with one batched model run.

    Each file is loaded and normalised on its own; every non-blank one then goes through
    :meth:`Predictor.predict_batch` together.

    Returns
    -------
    list
        One entry per path, in order: a :class:`Prediction`, or the :class:`DigitpadError`
        (usually :class:`ImageError`) that file raised -- the other files are still predicted.
    """
    results: list[Prediction | DigitpadError | Normalized] = []
    images, slots = [], []
    for path in paths:
        try:
            normalized = normalize_image(path)
        except DigitpadError as exc:
            results.append(exc)
            continue
        if not normalized.blank:
            slots.append(len(results))
            images.append(normalized.image)
        results.append(normalized)
    probs = predictor.predict_batch(np.stack(images), batch_size) if images else None
    out: list[Prediction | DigitpadError] = []
    row = {slot: i for i, slot in enumerate(slots)}
    for i, item in enumerate(results):
        if isinstance(item, Normalized):
            out.append(_prediction(item, probs[row[i]] if i in row else None))
        else:
            out.append(item)
    return out
