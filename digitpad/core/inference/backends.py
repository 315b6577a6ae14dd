"""The two ways a :class:`~digitpad.core.inference.Predictor` runs a model, and their set-up checks.

* :class:`TFFunctionBackend` -- the model's forward pass as two ``tf.function``\\ s with fixed input
  signatures (one image, any batch), no XLA; always available.
* :class:`LiteRTBackend` -- the model converted once, in memory, to a float32 TFLite flatbuffer
  (no quantisation, no optimisations) and run by the LiteRT interpreter (``ai_edge_litert``) on one
  thread, with input and output tensors allocated once and reused. :func:`build_litert` converts
  and *verifies* it: probe inputs (:func:`probe_inputs`) must give the Keras probabilities to
  :data:`TOLERANCE`.

Both take float32 images shaped (28, 28, 1) / (N, 28, 28, 1) in [0, 1] and return float32
probabilities; neither is thread-safe on its own (the predictor's lock serialises calls).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field

import numpy as np

from digitpad.core.data import IMAGE_SIDE, NUM_CLASSES
from digitpad.core.errors import ArchitectureError, DigitpadError
from digitpad.core.tfsetup import quiet_native_stderr

#: Largest absolute difference allowed between LiteRT's and Keras's probabilities.
TOLERANCE = 1e-5
#: Backends a :class:`~digitpad.core.inference.Predictor` can be asked for.
BACKENDS = ("auto", "litert", "tf.function")

_FIELD = (IMAGE_SIDE, IMAGE_SIDE, 1)


def short_reason(exc: BaseException) -> str:
    """One line describing an exception, for ``fallback_reason`` and error messages."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


def model_input_shape(model) -> tuple[int, ...]:
    """The model's per-sample input shape, which must hold 784 values (28x28, 28x28x1 or 784).

    Raises
    ------
    ArchitectureError
        More than one input, or an input that is not one 28x28 grey image.
    """
    try:
        shape = tuple(model.inputs[0].shape)[1:]
    except (AttributeError, IndexError, TypeError, ValueError):
        shape = tuple(getattr(model, "input_shape", (None, *_FIELD)))[1:]
    if len(getattr(model, "inputs", [None]) or [None]) != 1:
        raise ArchitectureError(
            "the model has more than one input; digitpad needs one 28x28 image input."
        )
    if any(d is None for d in shape) or int(np.prod(shape)) != IMAGE_SIDE * IMAGE_SIDE:
        raise ArchitectureError(
            f"the model's input shape {shape} does not hold a 28x28 grey image (784 values)."
        )
    return tuple(int(d) for d in shape)


def probe_inputs() -> np.ndarray:
    """Inputs used to check a backend against Keras: noise, blank, a stroke, a ring (N, 28, 28, 1)."""
    rng = np.random.default_rng(1234)
    probes = [rng.random((IMAGE_SIDE, IMAGE_SIDE), dtype=np.float32) for _ in range(8)]
    probes.append(np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.float32))
    yy, xx = np.mgrid[0:IMAGE_SIDE, 0:IMAGE_SIDE].astype(np.float32)
    # a "1": a slightly slanted vertical stroke with soft edges, MNIST-like placement
    one = np.clip(1.6 - np.abs(xx - (14.0 + (yy - 14.0) * 0.15)), 0.0, 1.0)
    one[(yy < 4) | (yy > 23)] = 0.0
    probes.append(one.astype(np.float32))
    # a "0": an ellipse ring
    r = np.sqrt(((yy - 14.0) / 9.0) ** 2 + ((xx - 14.0) / 6.0) ** 2)
    probes.append(np.clip(1.0 - np.abs(r - 1.0) * 6.0, 0.0, 1.0).astype(np.float32))
    return np.stack(probes)[..., None]


def keras_probabilities(model, x: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """Reference probabilities from the Keras model itself (direct call, ``training=False``).

    Raises
    ------
    ArchitectureError
        The model cannot run on 28x28 images or does not give 10 values per image.
    DigitpadError
        It gives NaN or infinite probabilities (unusable weights).
    """
    xin = x.reshape((len(x), *input_shape))
    try:
        out = np.asarray(model(xin, training=False), dtype=np.float32)
    except Exception as exc:  # a model that cannot run at all: say so in one sentence
        raise ArchitectureError(
            f"the model cannot be run on a batch of 28x28 images ({short_reason(exc)})."
        ) from None
    if out.ndim != 2 or out.shape[1] != NUM_CLASSES:
        raise ArchitectureError(
            f"the model outputs shape {tuple(out.shape[1:])} per image; digitpad needs 10 class probabilities."
        )
    if not np.all(np.isfinite(out)):
        raise DigitpadError(
            "the model gives NaN or infinite probabilities, so its weights are unusable."
        )
    return out


class TFFunctionBackend:
    """The model's forward pass as ``tf.function``\\ s for one image and for batches (traced now)."""

    name = "tf.function"

    def __init__(self, model, input_shape: tuple[int, ...]) -> None:
        from digitpad.core.tfsetup import tf

        tf = tf()
        if input_shape == _FIELD:

            def forward(x):
                return model(x, training=False)

        else:  # (28, 28) or (784,) models: reshape inside the graph

            def forward(x):
                return model(tf.reshape(x, (-1, *input_shape)), training=False)

        self.one = tf.function(
            forward, input_signature=[tf.TensorSpec((1, *_FIELD), tf.float32)], jit_compile=False
        )
        self.many = tf.function(
            forward, input_signature=[tf.TensorSpec((None, *_FIELD), tf.float32)], jit_compile=False
        )
        self._buffer = np.zeros((1, *_FIELD), np.float32)

    def max_abs_diff(self, probes: np.ndarray, reference: np.ndarray) -> float:
        """Trace both paths now (not on the first drawing); the largest difference from Keras."""
        got = np.asarray(self.many(probes), dtype=np.float32)
        self.run_one(probes[0])
        return float(np.max(np.abs(got - reference)))

    def run_one(self, image: np.ndarray) -> np.ndarray:
        """(28, 28, 1) float32 -> (10,) float32 probabilities."""
        self._buffer[0] = image
        return self.one(self._buffer).numpy()[0]

    def run_many(self, x: np.ndarray, batch_size: int, out: np.ndarray) -> None:
        """Fill ``out`` (N, 10) with the probabilities of ``x`` (N, 28, 28, 1), ``batch_size`` at a time."""
        for start in range(0, len(x), batch_size):
            out[start : start + batch_size] = self.many(x[start : start + batch_size]).numpy()


@dataclass
class LiteRTInterpreter:
    """A LiteRT interpreter allocated once for a fixed batch size, with a reusable input buffer."""

    interpreter: object
    input_index: int
    output_index: int
    batch: int
    buffer: np.ndarray = field(repr=False)

    @classmethod
    def create(cls, flatbuffer: bytes, batch: int) -> LiteRTInterpreter:
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
            if tuple(inputs[0]["shape"]) != (batch, *_FIELD):
                interpreter.resize_tensor_input(index, [batch, *_FIELD], strict=False)
            interpreter.allocate_tensors()
            buffer = np.zeros((batch, *_FIELD), np.float32)
            lite = cls(interpreter, index, outputs[0]["index"], batch, buffer)
            # with a dynamic batch dimension the output shape is only known after a run
            out_shape = tuple(int(d) for d in lite.run().shape)
        if out_shape != (batch, NUM_CLASSES):
            raise RuntimeError(f"converted model outputs shape {out_shape}, expected ({batch}, 10)")
        return lite

    def run(self) -> np.ndarray:
        """Run on the current contents of :attr:`buffer`; returns a new (batch, 10) array."""
        it = self.interpreter
        it.set_tensor(self.input_index, self.buffer)
        it.invoke()
        return it.get_tensor(self.output_index)


class LiteRTBackend:
    """A verified TFLite flatbuffer run by LiteRT: one interpreter for single images, one for batches."""

    name = "litert"

    def __init__(self, flatbuffer: bytes, one: LiteRTInterpreter) -> None:
        self.flatbuffer = flatbuffer
        self.single = one
        self.batched: LiteRTInterpreter | None = None  # made on the first batch, kept for its size

    def run_one(self, image: np.ndarray) -> np.ndarray:
        """(28, 28, 1) float32 -> (10,) float32 probabilities."""
        self.single.buffer[0] = image
        return self.single.run()[0]

    def run_many(self, x: np.ndarray, batch_size: int, out: np.ndarray) -> None:
        """Fill ``out`` (N, 10) with the probabilities of ``x`` (N, 28, 28, 1), ``batch_size`` at a time."""
        n = len(x)
        size = min(batch_size, n)
        lite = self.batched
        if lite is None or lite.batch != size:
            self.batched = None  # free the old interpreter first
            lite = self.batched = LiteRTInterpreter.create(self.flatbuffer, size)
        for start in range(0, n, size):
            chunk = x[start : start + size]
            k = len(chunk)
            lite.buffer[:k] = chunk
            if k < size:
                lite.buffer[k:] = 0.0
            out[start : start + k] = lite.run()[:k]


@contextlib.contextmanager
def _quiet_stdout():
    """Silence Python-level prints (Keras' export prints its signature during conversion)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def convert_to_tflite(model, tf_backend: TFFunctionBackend) -> bytes:
    """Convert to a float32 TFLite flatbuffer: the concrete function first, then the Keras route.

    Raises
    ------
    RuntimeError
        Both routes failed (the message names both reasons).
    """
    from digitpad.core.tfsetup import tf

    tf = tf()
    errors = []
    with _quiet_stdout():
        try:
            holder = tf.Module()
            holder.variables_ = [getattr(v, "value", v) for v in model.variables]
            concrete = tf_backend.many.get_concrete_function()
            converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], holder)
            converter.optimizations = []
            return converter.convert()
        except Exception as exc:  # converter errors come in many types
            errors.append(f"concrete function: {short_reason(exc)}")
        try:
            converter = tf.lite.TFLiteConverter.from_keras_model(model)
            converter.optimizations = []
            return converter.convert()
        except Exception as exc:
            errors.append(f"Keras model: {short_reason(exc)}")
    raise RuntimeError("; ".join(errors))


def build_litert(
    model, tf_backend: TFFunctionBackend, probes: np.ndarray, reference: np.ndarray
) -> tuple[LiteRTBackend | None, float | None, str | None]:
    """Convert, run and verify the LiteRT path.

    Returns
    -------
    tuple
        ``(backend, max_abs_diff, None)`` when LiteRT gives ``reference`` on ``probes`` to
        :data:`TOLERANCE`; otherwise ``(None, max_abs_diff or None, reason)``.
    """
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError as exc:
        return None, None, f"the LiteRT runtime (ai-edge-litert) is not installed: {short_reason(exc)}"
    try:
        flatbuffer = convert_to_tflite(model, tf_backend)
    except Exception as exc:
        return None, None, f"TFLite conversion failed: {short_reason(exc)}"
    try:
        lite = LiteRTInterpreter.create(flatbuffer, 1)
        got = np.empty_like(reference)
        for i, probe in enumerate(probes):
            lite.buffer[0] = probe
            got[i] = lite.run()[0]
    except Exception as exc:
        return None, None, f"the LiteRT interpreter failed on the converted model: {short_reason(exc)}"
    diff = float(np.max(np.abs(got - reference))) if np.all(np.isfinite(got)) else float("inf")
    if not diff <= TOLERANCE:
        return None, diff, f"LiteRT probabilities differ from Keras by {diff:.3g} (> {TOLERANCE:g})"
    return LiteRTBackend(flatbuffer, lite), diff, None
