"""The "is this a digit?" detector: a tiny CNN beside the classifier, independent of it.

It reads the same 28x28 model input as any classifier (the MNIST-style normalised drawing) and
gives one number, the probability that the drawing is **not** a digit. It was trained by
``tools/train_detector.py`` on MNIST digits and rendered stroke digits (positives) against
synthetic non-digits drawn with seeds and shape families of their own
(:mod:`digitpad.core.strokes.negatives_train`) -- never the drawn benchmark's.

The file ``models/detector.keras`` ships with digitpad but is loaded like any user file: one
private snapshot, checked by :func:`~digitpad.core.modelfile.safety.check_snapshot`, then Keras with
``safe_mode=True``. It runs on the predictor's fast path: converted once to LiteRT and verified
against Keras on the probe inputs, else a ``tf.function``.
:func:`default_detector` loads it lazily, once per process; a missing or broken file gives
``None`` and one sentence (the verdict then uses ink statistics and confidence alone).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np

from digitpad.core.data import IMAGE_SIDE, to_model_input
from digitpad.core.errors import DigitpadError, ModelFileError
from digitpad.core.inference.backends import (
    TOLERANCE,
    TFFunctionBackend,
    convert_to_tflite,
    probe_inputs,
    short_reason,
)
from digitpad.core.paths import bundled_models_dir
from digitpad.core.tfsetup import quiet_native_stderr

DETECTOR_NAME = "detector.keras"
#: Metadata key in the detector file holding its decision threshold and how it was made.
METADATA_KEY = "detector"
#: Used when the file does not say: scores above it mean "not a digit".
DEFAULT_THRESHOLD = 0.5
_FIELD = (IMAGE_SIDE, IMAGE_SIDE, 1)


def detector_path() -> Path:
    """The bundled detector file (``models/detector.keras``)."""
    return bundled_models_dir() / DETECTOR_NAME


def build_detector_model():
    """A fresh, untrained detector: 2 small convolutions, a dense layer, one sigmoid (~44 k weights)."""
    from digitpad.core.tfsetup import keras

    k = keras()
    return k.Sequential([
        k.layers.Input(_FIELD),
        k.layers.Conv2D(16, 3, activation="relu"),
        k.layers.MaxPooling2D(),
        k.layers.Conv2D(32, 3, activation="relu"),
        k.layers.MaxPooling2D(),
        k.layers.Flatten(),
        k.layers.Dense(48, activation="relu"),
        k.layers.Dense(1, activation="sigmoid"),
    ], name="digit_detector")


class _LiteRT:
    """The detector as a verified LiteRT interpreter, batch 1, buffers allocated once."""

    def __init__(self, flatbuffer: bytes) -> None:
        from ai_edge_litert.interpreter import Interpreter

        with quiet_native_stderr():
            it = Interpreter(model_content=flatbuffer, num_threads=1)
            inp, out = it.get_input_details(), it.get_output_details()
            if len(inp) != 1 or len(out) != 1:
                raise RuntimeError("the converted detector does not have one input and one output")
            if tuple(inp[0]["shape"]) != (1, *_FIELD):
                it.resize_tensor_input(inp[0]["index"], [1, *_FIELD], strict=False)
            it.allocate_tensors()
        self.it, self.inp, self.out = it, inp[0]["index"], out[0]["index"]
        self.buffer = np.zeros((1, *_FIELD), np.float32)

    def run_one(self, image: np.ndarray) -> float:
        self.buffer[0] = image
        self.it.set_tensor(self.inp, self.buffer)
        self.it.invoke()
        return float(self.it.get_tensor(self.out).reshape(-1)[0])


class Detector:
    """Scores drawings: the probability that a 28x28 model input is not a digit.

    Parameters
    ----------
    model : keras.Model
        Input ``(None, 28, 28, 1)`` in [0, 1], output ``(None, 1)`` in [0, 1].
    threshold : float
        Scores above it mean "not a digit".
    backend : {"auto", "tf.function"}
        ``"auto"`` uses LiteRT when it gives Keras's scores to 1e-5 on the probe inputs.

    Attributes
    ----------
    backend : str
        ``"litert"`` or ``"tf.function"``.
    setup_ms : float
        Time to build (conversion and verification), milliseconds.

    Raises
    ------
    ModelFileError
        The model does not take one 28x28 image or does not give one score in [0, 1].
    """

    def __init__(self, model, *, threshold: float = DEFAULT_THRESHOLD, backend: str = "auto") -> None:
        start = time.perf_counter()
        if not 0.0 < float(threshold) < 1.0:
            raise ModelFileError(f"the detector's threshold must lie between 0 and 1, not {threshold!r}.")
        self.model = model
        self.threshold = float(threshold)
        self._lock = threading.Lock()
        probes = probe_inputs()
        try:
            shape = tuple(model.inputs[0].shape)[1:]
            ref = np.asarray(model(probes, training=False), dtype=np.float32)
        except Exception as exc:  # a model of the wrong shape: one sentence
            raise ModelFileError(f"the detector cannot be run on 28x28 images ({short_reason(exc)}).") from None
        if shape != _FIELD or ref.shape != (len(probes), 1) or not np.all((ref >= 0) & (ref <= 1)):
            raise ModelFileError("the detector must take one 28x28 image and give one score between 0 and 1.")
        self._tf = TFFunctionBackend(model, _FIELD)
        self._lite: _LiteRT | None = None
        self.fallback_reason: str | None = "the tf.function backend was requested"
        if backend == "auto":
            self._lite, self.fallback_reason = self._try_litert(probes, ref)
        self.setup_ms = (time.perf_counter() - start) * 1000.0

    def _try_litert(self, probes: np.ndarray, ref: np.ndarray) -> tuple[_LiteRT | None, str | None]:
        try:
            import ai_edge_litert.interpreter  # noqa: F401
        except ImportError:
            return None, "the LiteRT runtime is not installed"
        try:
            lite = _LiteRT(convert_to_tflite(self.model, self._tf))
            got = np.array([lite.run_one(p) for p in probes], np.float32)
        except Exception as exc:
            return None, f"LiteRT cannot run the detector: {short_reason(exc)}"
        diff = float(np.max(np.abs(got - ref[:, 0])))
        if not diff <= TOLERANCE:
            return None, f"LiteRT scores differ from Keras by {diff:.3g}"
        return lite, None

    @property
    def backend(self) -> str:
        """``"litert"`` or ``"tf.function"``: what actually runs."""
        return "litert" if self._lite is not None else "tf.function"

    def score(self, image: np.ndarray) -> float:
        """Probability that one 28x28 model input (floats in [0, 1]) is not a digit."""
        field = to_model_input(np.asarray(image).reshape(IMAGE_SIDE, IMAGE_SIDE))[0]
        with self._lock:
            if self._lite is not None:
                return self._lite.run_one(field)
            return float(self._tf.run_one(field).reshape(-1)[0])

    def score_batch(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """Scores of many 28x28 model inputs, float32 ``(N,)``."""
        x = to_model_input(np.asarray(images).reshape(-1, IMAGE_SIDE, IMAGE_SIDE))
        out = np.empty(len(x), np.float32)
        with self._lock:
            for s in range(0, len(x), batch_size):
                out[s:s + batch_size] = np.asarray(self._tf.many(x[s:s + batch_size])).reshape(-1)
        return out


def load_detector(path: str | os.PathLike, *, backend: str = "auto") -> Detector:
    """Load a detector file safely (snapshot, check, Keras ``safe_mode=True``).

    Raises
    ------
    ModelFileError
        One sentence: missing, unreadable, refused by the safety check, or not a detector.
    """
    from digitpad.core.modelfile.metadata import read_snapshot_metadata
    from digitpad.core.modelfile.safety import check_snapshot
    from digitpad.core.modelfile.snapshot import private_snapshot
    from digitpad.core.tfsetup import keras

    path = Path(path)
    name = path.name
    with private_snapshot(path) as copy:
        check_snapshot(copy, name)
        meta = read_snapshot_metadata(copy, name)
        try:
            model = keras().saving.load_model(copy, compile=False, safe_mode=True)
        except Exception as exc:
            raise ModelFileError(f"{name} could not be loaded as a detector ({short_reason(exc)}).") from None
    info = meta.get(METADATA_KEY) if isinstance(meta.get(METADATA_KEY), dict) else {}
    threshold = info.get("threshold", DEFAULT_THRESHOLD)
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
        threshold = DEFAULT_THRESHOLD
    return Detector(model, threshold=float(threshold), backend=backend)


_cache: dict[str, tuple[Detector | None, str | None]] = {}
_cache_lock = threading.Lock()


def default_detector(path: str | os.PathLike | None = None) -> tuple[Detector | None, str | None]:
    """The detector loaded once per process (thread-safe): ``(detector, None)`` or ``(None, why)``.

    A missing or broken file never raises: the reason is one sentence, e.g. "the digit detector
    (detector.keras) is missing, so the verdict uses ink and confidence only."
    """
    p = Path(path) if path is not None else detector_path()
    key = str(p)
    with _cache_lock:
        if key not in _cache:
            try:
                _cache[key] = (load_detector(p), None)
            except DigitpadError as exc:
                why = str(exc).rstrip(".")
                _cache[key] = (None, f"the digit detector is unavailable ({why}), so the verdict "
                                     "uses ink and confidence only.")
            except Exception as exc:  # anything else a broken file can cause: still one sentence
                _cache[key] = (None, f"the digit detector is unavailable ({short_reason(exc)}), "
                                     "so the verdict uses ink and confidence only.")
        return _cache[key]


def forget_default_detector() -> None:
    """Drop the cached detector (tests, or after the file was replaced)."""
    with _cache_lock:
        _cache.clear()
