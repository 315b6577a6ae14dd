"""The Qt-free training engine: configuration, a stoppable trainer, evaluation and k-fold.

The engine reports through a plain callback (``on_progress(Progress)``) called from the thread
that runs the training, and checks its own stop flag (a :class:`threading.Event`) after every
batch, so a GUI, a command line or a test can drive it alike. It never imports Qt.

Design notes
------------
* Training runs one ``fit`` call per epoch on a ``tf.data`` pipeline built once. Validation is
  done by the engine itself after an epoch, and only when the epoch was not stopped, so a stop
  costs at most the batch in flight (Keras' own ``validation_data`` would still run after a stop).
* The learning-rate schedule is applied per batch by assigning the optimizer's learning-rate
  variable. The optimizer therefore keeps a plain float learning rate, which saves and loads
  without custom objects.
* Pixels are scaled by :func:`digitpad.core.data.to_model_input` and nowhere else.
"""

from __future__ import annotations

import datetime as _dt
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from digitpad.core.archs import build_model, check_classifier, get_arch
from digitpad.core.data import Dataset, load_dataset, to_model_input
from digitpad.core.errors import DataError, TrainingError
from digitpad.core.tfsetup import describe_device, keras, resolve_device, tf

OPTIMIZERS = ("sgd", "adam", "adadelta", "rmsprop", "adamw", "nadam")
SCHEDULES = ("constant", "onecycle", "cosine", "step")
NUM_CLASSES = 10

# augmentation ranges (training pipeline only)
AUG_MAX_ROTATION_DEG = 10.0
AUG_MAX_ZOOM = 0.10
AUG_MAX_SHIFT_PX = 2.5

ONECYCLE_WARMUP = 0.2  # fraction of the steps spent warming up
ONECYCLE_START = 0.1  # warm-up starts at this fraction of the peak learning rate
# A mean cross-entropy above this means the run has blown up (chance level is ln 10 = 2.3; Keras
# computes the loss from the logits under the softmax, so a diverged run can stay finite).
DIVERGED_LOSS = 1e3
# Batches run per call of Keras's compiled train function. Each call costs fixed Python and
# dispatch overhead (callbacks, setting the learning rate), a large part of a small CNN's batch on
# a CPU: with 8 steps per call a whole `digitpad train`-like process of `fast` took 10 % less wall
# time here (farm-bench, 5 paired runs), the training phase alone about 20-40 % less. Callbacks
# (progress, the stop flag, the learning-rate schedule) then run once per call, so small data
# sets (fewer than MIN_CALLS_PER_EPOCH * 8 batches) get fewer steps per call: a schedule moved in
# too few steps trains worse (3000 images, 22 batches: 87 % instead of 91 % with 8 steps per call).
STEPS_PER_EXECUTION = 8
MIN_CALLS_PER_EPOCH = 32


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------


@dataclass
class TrainConfig:
    """Everything that defines a training run. ``None`` fields take the architecture's default."""

    arch: str = "fast"
    epochs: int | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    learning_rate: float | None = None
    schedule: str | None = None
    val_split: float = 0.1
    augment: bool | None = None
    seed: int = 0
    device: str = "auto"
    data: str | None = None
    train_limit: int | None = None
    test_limit: int | None = None
    label_smoothing: float | None = None

    def resolved(self) -> TrainConfig:
        """Return a copy with every ``None`` filled from the architecture and all values checked.

        Raises
        ------
        TrainingError
            A value is out of range (one sentence naming it).
        ArchitectureError
            The architecture name is unknown.
        """
        spec = get_arch(self.arch)
        cfg = replace(
            self,
            arch=spec.name,
            epochs=spec.epochs if self.epochs is None else self.epochs,
            batch_size=spec.batch_size if self.batch_size is None else self.batch_size,
            optimizer=(spec.optimizer if self.optimizer is None else str(self.optimizer).strip().lower()),
            learning_rate=spec.learning_rate if self.learning_rate is None else self.learning_rate,
            schedule=(spec.schedule if self.schedule is None else str(self.schedule).strip().lower()),
            augment=spec.augment if self.augment is None else bool(self.augment),
            label_smoothing=(spec.label_smoothing if self.label_smoothing is None else self.label_smoothing),
        )
        _check_int(cfg.epochs, "epochs", 1)
        _check_int(cfg.batch_size, "batch size", 1)
        try:
            lr = float(cfg.learning_rate)
        except (TypeError, ValueError):
            raise TrainingError(f"learning rate {cfg.learning_rate!r} is not a number.") from None
        if not math.isfinite(lr) or lr <= 0:
            raise TrainingError(f"learning rate must be a positive finite number, not {cfg.learning_rate!r}.")
        cfg.learning_rate = lr
        if cfg.optimizer not in OPTIMIZERS:
            raise TrainingError(f"unknown optimizer {cfg.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}.")
        if cfg.schedule not in SCHEDULES:
            raise TrainingError(f"unknown schedule {cfg.schedule!r}; choose one of: {', '.join(SCHEDULES)}.")
        try:
            vs = float(cfg.val_split)
        except (TypeError, ValueError):
            raise TrainingError(f"validation split {cfg.val_split!r} is not a number.") from None
        if not (0.0 <= vs <= 0.5):
            raise TrainingError(f"validation split must be between 0 and 0.5, not {cfg.val_split!r}.")
        cfg.val_split = vs
        ls = float(cfg.label_smoothing)
        if not (0.0 <= ls < 1.0):
            raise TrainingError(f"label smoothing must be in [0, 1), not {cfg.label_smoothing!r}.")
        cfg.label_smoothing = ls
        _check_int(cfg.seed, "seed", 0)
        for name in ("train_limit", "test_limit"):
            value = getattr(cfg, name)
            if value is not None:
                _check_int(value, name.replace("_", " "), 1)
        return cfg

    def to_dict(self) -> dict:
        """JSON-able dict of the fields."""
        return asdict(self)


def _check_int(value: Any, what: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TrainingError(f"{what} must be a whole number, not {value!r}.")
    if value < minimum:
        raise TrainingError(f"{what} must be at least {minimum}, not {value}.")


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """One report from the engine, sent from the training thread.

    Kinds: ``start`` (once per run, before the first batch), ``batch`` (every ``batch_interval``
    batches, the last batch of an epoch and the batch a stop or fault ended on; logs hold the
    running ``loss``/``accuracy`` of the epoch and ``lr``), ``epoch`` (after each completed epoch;
    logs add ``val_loss``/``val_accuracy`` when there is a validation split), ``message`` (a
    note for the user in ``message``) and ``end`` (once; ``message`` is the end reason and logs hold
    ``test_accuracy``/``test_loss`` when measured). ``step`` counts batches over the trainer's
    life and only grows; ``epoch``/``epochs`` count over the trainer's life too, so a continued run
    goes on from where the previous one ended. ``eta_s`` is the training time left in this run.
    """

    kind: str
    epoch: int
    epochs: int
    batch: int
    batches: int
    step: int
    logs: dict[str, float]
    elapsed: float
    samples_per_s: float
    eta_s: float | None
    message: str = ""


@dataclass
class TrainResult:
    """What a run produced: the model, per-epoch history, why it ended and its test metrics."""

    model: Any
    history: dict[str, list[float]]
    stopped: bool
    reason: str
    epochs_done: int
    best_epoch: int | None
    test_accuracy: float | None
    test_loss: float | None
    device: str
    elapsed: float
    config: TrainConfig
    data_source: str = ""
    params: int = 0
    samples_per_s: float = 0.0

    def metadata(self) -> dict:
        """JSON-able description of the run (stored inside saved model files)."""
        import digitpad

        k = keras()

        def num(value: float | None) -> float | None:
            return None if value is None or not math.isfinite(value) else float(value)

        return {
            "arch": self.config.arch,
            "config": self.config.to_dict(),
            "history": {key: [num(v) for v in vals] for key, vals in self.history.items()},
            "test_accuracy": num(self.test_accuracy),
            "test_loss": num(self.test_loss),
            "best_epoch": self.best_epoch,
            "epochs_done": self.epochs_done,
            "stopped": self.stopped,
            "reason": self.reason,
            "device": self.device,
            "elapsed": round(float(self.elapsed), 3),
            "samples_per_s": round(float(self.samples_per_s), 1),
            "params": int(self.params),
            "data": self.data_source,
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "versions": {
                "digitpad": digitpad.__version__,
                "keras": k.__version__,
                "tensorflow": tf().__version__,
            },
        }


@dataclass
class EvalResult:
    """Accuracy, loss, per-class accuracy and confusion matrix (rows = true digit)."""

    accuracy: float
    loss: float
    per_class: list[float]
    confusion: np.ndarray
    n: int


@dataclass
class KFoldResult:
    """Per-fold test accuracies with their mean and (population) standard deviation."""

    accuracies: list[float]
    mean: float
    std: float
    histories: list[dict]
    stopped: bool = False


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def make_optimizer(name: str, learning_rate: float, **kwargs: Any) -> Any:
    """Create a Keras optimizer by digitpad name with a plain float learning rate."""
    k = keras()
    classes = {
        "sgd": k.optimizers.SGD,
        "adam": k.optimizers.Adam,
        "adadelta": k.optimizers.Adadelta,
        "rmsprop": k.optimizers.RMSprop,
        "adamw": k.optimizers.AdamW,
        "nadam": k.optimizers.Nadam,
    }
    if name not in classes:
        raise TrainingError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}.")
    return classes[name](learning_rate=float(learning_rate), **kwargs)


def lr_at(schedule: str, base: float, step: int, total: int, *, warmup: bool = True) -> float:
    """Learning rate of ``schedule`` at 0-based ``step`` of ``total`` steps.

    ``onecycle`` warms up linearly from 10 % to 100 % of ``base`` over the first 20 % of the steps
    and then follows a cosine down to 0; ``cosine`` is the cosine part alone; ``step`` divides by
    10 at 50 % and again at 75 % of the steps; ``constant`` is ``base``.
    """
    total = max(1, int(total))
    t = min(max(step, 0), total) / total
    if schedule == "constant":
        return base
    if schedule == "step":
        return base * (0.1 ** (int(t >= 0.5) + int(t >= 0.75)))
    if schedule == "onecycle" and warmup:
        w = ONECYCLE_WARMUP
        if t < w:
            return base * (ONECYCLE_START + (1 - ONECYCLE_START) * t / w)
        t = (t - w) / (1 - w)
    return base * 0.5 * (1.0 + math.cos(math.pi * t))


def _augment_batch(x: Any, T: Any) -> Any:
    """Random rotation, zoom and shift of a float batch (B, 28, 28, 1) as one affine warp.

    ``T`` is the ``tensorflow`` module (passed in so the traced function calls no Python helpers).
    """
    b = T.shape(x)[0]
    angle = T.random.uniform([b], -1.0, 1.0) * (AUG_MAX_ROTATION_DEG * math.pi / 180.0)
    scale = T.random.uniform([b], 1.0 - AUG_MAX_ZOOM, 1.0 + AUG_MAX_ZOOM)
    tx = T.random.uniform([b], -AUG_MAX_SHIFT_PX, AUG_MAX_SHIFT_PX)
    ty = T.random.uniform([b], -AUG_MAX_SHIFT_PX, AUG_MAX_SHIFT_PX)
    c = 13.5
    cos = T.cos(angle) / scale
    sin = T.sin(angle) / scale
    zeros = T.zeros_like(angle)
    # output pixel (x, y) samples the input at R(angle)/scale * ((x, y) - c) + c - shift
    transforms = T.stack(
        [cos, -sin, c - cos * c + sin * c - tx, sin, cos, c - sin * c - cos * c - ty, zeros, zeros],
        axis=1,
    )
    return T.raw_ops.ImageProjectiveTransformV3(
        images=x, transforms=transforms, output_shape=[28, 28], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT",
    )


def _aligned_empty(shape: tuple[int, ...], dtype: Any, align: int = 64) -> np.ndarray:
    """``np.empty`` whose data start on an ``align``-byte boundary (TensorFlow's alignment)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + align, dtype=np.uint8)
    offset = (-raw.ctypes.data) % align
    return raw[offset:offset + nbytes].view(dtype).reshape(shape)


def _tensor_without_gil_stall(a: np.ndarray, T: Any) -> Any:
    """A CPU tensor holding ``a`` without holding the GIL for the whole copy.

    ``tf.constant`` copies a large array inside TensorFlow with the GIL held: 70-200 ms for the
    full MNIST training set, during which a GUI thread cannot run (measured with
    ``bench/bench_gui_training.py --trace``). Here numpy makes the copy (it releases the GIL) into
    a 64-byte-aligned buffer that TensorFlow then adopts without copying (DLPack). Should that
    fail, the tensor is built from chunks of a few MB, so the GIL is released between them.
    """
    a = np.asarray(a)
    try:
        buf = _aligned_empty(a.shape, a.dtype)
        np.copyto(buf, a)
        return T.experimental.dlpack.from_dlpack(buf.__dlpack__())
    except Exception:  # no DLPack support for this dtype/version: chunked copies
        chunk = max(1, (8 << 20) // max(1, a[:1].nbytes))
        parts = [T.constant(a[i:i + chunk]) for i in range(0, len(a), chunk)]
        return T.concat(parts, axis=0) if len(parts) > 1 else parts[0]


def _predict_probs(model: Any, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64)


def evaluate(model: Any, x: np.ndarray, y: np.ndarray, *, batch_size: int = 512) -> EvalResult:
    """Evaluate a classifier on images ``x`` (uint8 or float in [0, 1]) with labels ``y``.

    Prediction is batched (one ``predict`` call over the whole set, never one per image).

    Returns
    -------
    EvalResult
        Accuracy, mean cross-entropy, per-class accuracy (NaN for a class absent from ``y``) and
        the confusion matrix, rows = true digit, columns = predicted digit.

    Raises
    ------
    DataError
        Empty input or mismatched image and label counts.
    """
    check_classifier(model)
    xs = to_model_input(x)
    ys = np.asarray(y).astype(np.int64).ravel()
    if len(xs) == 0:
        raise DataError("there are no images to evaluate.")
    if len(xs) != len(ys):
        raise DataError(f"{len(xs)} images but {len(ys)} labels were given for evaluation.")
    probs = _predict_probs(model, xs, batch_size)
    pred = probs.argmax(axis=1)
    picked = np.clip(probs[np.arange(len(ys)), ys], 1e-7, 1.0)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(confusion, (ys, pred), 1)
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)
    return EvalResult(
        accuracy=float(np.mean(pred == ys)),
        loss=float(-np.mean(np.log(picked))),
        per_class=[float(v) for v in per_class],
        confusion=confusion,
        n=int(len(ys)),
    )


# ---------------------------------------------------------------------------------------------
# trainer
# ---------------------------------------------------------------------------------------------


class Trainer:
    """Train a model with a :class:`TrainConfig`, reporting progress and honouring stop requests.

    Parameters
    ----------
    config
        The run's configuration (resolved and validated here: bad values raise TrainingError).
    dataset
        Data to train on; ``None`` loads ``config.data``.
    model
        An existing model to train further. Kept with its optimizer state if it was compiled
        with one; otherwise compiled with a fresh optimizer (and a message says so).
    on_progress
        Called from the training thread with each :class:`Progress`.
    batch_interval
        Send a ``batch`` progress every this many batches (and on the last batch of an epoch).
    stop_event
        Use this event as the stop flag (shared with another controller, e.g. :func:`kfold`).
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        dataset: Dataset | None = None,
        model: Any = None,
        on_progress: Callable[[Progress], None] | None = None,
        batch_interval: int = 1,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.config = config.resolved()
        self.on_progress = on_progress
        self.batch_interval = max(1, int(batch_interval))
        self._stop = stop_event if stop_event is not None else threading.Event()
        self._dataset = dataset
        self.model = model
        self._given_model = model is not None
        self._run_lock = threading.Lock()
        self._prepared = False
        self._ran = False
        self.history: dict[str, list[float]] = {}
        self.epochs_done = 0
        self.best_epoch: int | None = None
        self._best_key: tuple[float, float] | None = None
        self._best_weights: list | None = None
        self._weights_are_best = True
        self.step = 0
        self.test_accuracy: float | None = None
        self.test_loss: float | None = None
        self._elapsed_total = 0.0
        self._samples_total = 0
        self._train_time_total = 0.0
        self._schedule_enabled = True

    # -- public API ----------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the run to stop after the batch in flight. Thread-safe and idempotent."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        """Whether a stop has been requested and not yet consumed by a new run."""
        return self._stop.is_set()

    def run(self) -> TrainResult:
        """Train for ``config.epochs`` epochs (a second call continues for as many more)."""
        if self._ran:
            return self.continue_training(self.config.epochs)
        return self._train(self.config.epochs, first=True)

    def continue_training(self, epochs: int) -> TrainResult:
        """Train ``epochs`` more epochs on the same model with the same optimizer state.

        The schedule restarts over the added epochs (``onecycle`` without its warm-up).
        """
        _check_int(epochs, "epochs", 1)
        self._stop.clear()
        return self._train(int(epochs), first=not self._ran)

    # -- internals -----------------------------------------------------------------------------

    def _emit(self, kind: str, message: str = "", **fields: Any) -> None:
        if self.on_progress is None:
            return
        base = {
            "epoch": self.epochs_done,
            "epochs": self.epochs_done,
            "batch": 0,
            "batches": getattr(self, "batches", 0),
            "step": self.step,
            "logs": {},
            "elapsed": time.perf_counter() - self._t0,
            "samples_per_s": 0.0,
            "eta_s": None,
        }
        base.update(fields)
        self.on_progress(Progress(kind=kind, message=message, **base))

    def _message(self, text: str) -> None:
        self.messages.append(text)
        self._emit("message", text)

    def _prepare(self) -> None:
        cfg = self.config
        k = keras()
        ds = self._dataset if self._dataset is not None else load_dataset(cfg.data)
        if cfg.train_limit is not None or cfg.test_limit is not None:
            ds = ds.subset(cfg.train_limit, cfg.test_limit, seed=cfg.seed)
        self.data_source = ds.source
        x = to_model_input(ds.x_train)
        y = np.asarray(ds.y_train).astype(np.int64).ravel()
        if len(x) == 0:
            raise TrainingError("the training data holds no images.")
        if len(x) != len(y):
            raise TrainingError(f"the training data has {len(x)} images but {len(y)} labels.")
        if x.shape[1:] != (28, 28, 1):
            raise TrainingError(f"training images must be 28x28, not {x.shape[1:3]}.")
        if y.min() < 0 or y.max() > 9:
            raise TrainingError("training labels must be whole numbers 0 to 9.")
        n_val = int(round(len(x) * cfg.val_split))
        if cfg.val_split > 0 and n_val == 0 and len(x) >= 2:
            n_val = 1
        if n_val >= len(x):
            n_val = 0
        if n_val:
            perm = np.random.default_rng(cfg.seed).permutation(len(x))
            val_idx, train_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
            self.x_train, self.y_train = x[train_idx], y[train_idx]
            self.x_val, self.y_val = x[val_idx], y[val_idx]
        else:  # no copy: the pipeline shuffles anyway
            self.x_train, self.y_train = x, y
            self.x_val = self.y_val = None
        self.x_test = ds.x_test
        self.y_test = ds.y_test
        n = len(self.x_train)
        bs = int(cfg.batch_size)
        if bs > n:
            self._message(f"batch size {bs} is larger than the {n} training images; using {n}.")
            bs = n
        self.effective_batch_size = bs
        self.batches = math.ceil(n / bs)
        self.n_train = n

        self.tf_device = resolve_device(cfg.device)
        self.device = describe_device(self.tf_device)
        k.utils.set_random_seed(int(cfg.seed))

        with tf().device(self.tf_device):
            if self.model is None:
                self.model = build_model(cfg.arch)
                self._compile(fresh=True)
            else:
                check_classifier(self.model)
                opt = getattr(self.model, "optimizer", None)
                if opt is not None and getattr(self.model, "compiled", False):
                    self._compile(fresh=False)
                    self._message(
                        f"continuing with the model's own {type(opt).__name__} optimizer and its saved state."
                    )
                else:
                    self._compile(fresh=True)
                    self._message(f"continuing with a fresh optimizer ({cfg.optimizer}).")
        self._one_hot = cfg.label_smoothing > 0
        self.train_ds = self._make_dataset()
        self.x_train = None  # the pipeline holds its own copy; free ~170 MB for full MNIST
        self._prepared = True

    def _compile(self, *, fresh: bool) -> None:
        k = keras()
        cfg = self.config
        if fresh:
            spec = get_arch(cfg.arch)
            kwargs = dict(spec.optimizer_kwargs) if cfg.optimizer == spec.optimizer else {}
            optimizer = make_optimizer(cfg.optimizer, cfg.learning_rate, **kwargs)
        else:
            optimizer = self.model.optimizer  # same object: its variables (state) are kept
        if cfg.label_smoothing > 0:
            loss = k.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing)
        else:
            loss = k.losses.SparseCategoricalCrossentropy()
        steps = max(1, min(STEPS_PER_EXECUTION, self.batches // MIN_CALLS_PER_EPOCH))
        self.model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"],
                           steps_per_execution=steps)
        try:  # a plain-variable learning rate can follow our schedule
            self.model.optimizer.learning_rate = float(cfg.learning_rate)
        except (TypeError, ValueError, AttributeError):
            self._schedule_enabled = False

    def _make_dataset(self) -> Any:
        T = tf()
        cfg = self.config
        with T.device("/CPU:0"):
            X = _tensor_without_gil_stall(self.x_train, T)
            Y = T.constant(self.y_train)
        one_hot = self._one_hot
        augment = bool(cfg.augment)

        @T.autograph.experimental.do_not_convert  # plain tensor code: skip autograph's rewrite
        def gather(idx):
            xb = T.gather(X, idx)
            yb = T.gather(Y, idx)
            if augment:
                xb = _augment_batch(xb, T)
            if one_hot:
                yb = T.one_hot(yb, NUM_CLASSES)
            return xb, yb

        n = self.n_train
        ds = T.data.Dataset.range(n).shuffle(n, seed=int(cfg.seed), reshuffle_each_iteration=True)
        ds = ds.batch(self.effective_batch_size).map(gather, num_parallel_calls=T.data.AUTOTUNE)
        return ds.prefetch(T.data.AUTOTUNE)

    def _labels_for_model(self, y: np.ndarray) -> np.ndarray:
        if self._one_hot:
            return np.eye(NUM_CLASSES, dtype=np.float32)[y]
        return y

    def _make_callback(self) -> Any:
        k = keras()
        trainer = self

        class _EngineCallback(k.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                trainer._on_batch_begin(batch)

            def on_train_batch_end(self, batch, logs=None):
                trainer._on_batch_end(self.model, batch, logs or {})

            def on_epoch_end(self, epoch, logs=None):
                trainer._epoch_logs = {key: float(v) for key, v in (logs or {}).items()}

        return _EngineCallback()

    def _on_batch_begin(self, batch: int) -> None:
        if self._schedule_enabled:
            step = self._run_step + 0
            lr = lr_at(self.config.schedule, self.config.learning_rate, step, self._run_steps,
                       warmup=self._warmup)
            self.model.optimizer.learning_rate = lr
            self._current_lr = lr

    def _on_batch_end(self, model: Any, batch: int, logs: dict) -> None:
        # ``batch`` is the 0-based index of the last batch of this call of the train function,
        # which runs STEPS_PER_EXECUTION batches at a time.
        now = time.perf_counter()
        batch = min(batch, self.batches - 1)  # Keras reports a whole call's end past the last batch
        done = batch + 1 - self._batch_in_epoch
        self.step += done
        self._run_step += done
        self._batch_in_epoch = batch + 1
        is_last = batch + 1 == self.batches
        self._run_samples += min(self.n_train, (batch + 1) * self.effective_batch_size) - min(
            self.n_train, (batch + 1 - done) * self.effective_batch_size)
        if self._first_batch_end is None:
            self._first_batch_end = now
            self._first_batch_steps = self._run_step
        values = {key: float(v) for key, v in logs.items()}
        loss = values.get("loss", float("nan"))
        if not math.isfinite(loss):
            what = "NaN" if math.isnan(loss) else "infinite"
            self._fault = f"loss became {what} at epoch {self._epoch_no}, batch {batch + 1}"
            model.stop_training = True
        elif loss > DIVERGED_LOSS:
            self._fault = (
                f"loss diverged to {loss:.3g} at epoch {self._epoch_no}, batch {batch + 1} "
                "(the learning rate is too high)"
            )
            model.stop_training = True
        if self._stop.is_set():
            model.stop_training = True
        if self._run_step // self.batch_interval > (self._run_step - done) // self.batch_interval \
                or is_last or model.stop_training:
            values["lr"] = self._current_lr
            self._emit(
                "batch",
                epoch=self._epoch_no,
                epochs=self._run_epochs_total,
                batch=batch + 1,
                batches=self.batches,
                step=self.step,
                logs=values,
                elapsed=now - self._t0,
                samples_per_s=self._rate(now),
                eta_s=self._eta(now),
            )

    def _rate(self, now: float) -> float:
        dt = now - self._run_train_start
        return self._run_samples / dt if dt > 0 else 0.0

    def _eta(self, now: float) -> float | None:
        done = self._run_step
        remaining = self._run_steps - done
        if self._first_batch_end is None or done <= self._first_batch_steps:
            return None
        per_batch = (now - self._first_batch_end) / (done - self._first_batch_steps)
        return max(0.0, remaining * per_batch)

    def _snapshot_best(self) -> None:
        self._best_weights = [np.array(w, copy=True) for w in self.model.get_weights()]

    def _train(self, epochs: int, *, first: bool) -> TrainResult:
        if not self._run_lock.acquire(blocking=False):
            raise TrainingError("training is already running; stop it before starting again.")
        try:
            return self._train_locked(epochs, first=first)
        finally:
            self._run_lock.release()

    def _train_locked(self, epochs: int, *, first: bool) -> TrainResult:
        self._t0 = time.perf_counter()
        self.messages: list[str] = []
        if not self._prepared:
            self._prepare()
        cfg = self.config
        T = tf()
        self._ran = True
        self._fault: str | None = None
        self._run_steps = epochs * self.batches
        self._run_step = 0
        self._run_samples = 0
        self._first_batch_end = None
        self._warmup = first
        self._run_epochs_total = self.epochs_done + epochs
        self._current_lr = float(cfg.learning_rate)
        callback = self._make_callback()
        self._emit(
            "start",
            f"training {cfg.arch} for {epochs} epoch(s) on {self.n_train} images ({self.device})",
            epoch=self.epochs_done + 1, epochs=self._run_epochs_total, batches=self.batches,
        )
        self._run_train_start = time.perf_counter()
        stopped = False
        for _ in range(epochs):
            if self._stop.is_set():
                stopped = True
                break
            self._epoch_no = self.epochs_done + 1
            self._batch_in_epoch = 0
            self._epoch_logs = {}
            start_weights = self.model.get_weights()
            try:
                with T.device(self.tf_device):
                    self.model.fit(self.train_ds, epochs=1, verbose=0, callbacks=[callback], shuffle=False)
            except T.errors.ResourceExhaustedError:
                raise TrainingError(
                    f"ran out of memory with batch size {self.effective_batch_size}; use a smaller batch."
                ) from None
            if self._fault is not None:
                self.model.set_weights(start_weights)
                self._weights_are_best = False
                break
            if self._batch_in_epoch < self.batches:  # stopped inside the epoch
                stopped = True
                self._weights_are_best = False
                break
            self._finish_epoch()
            if self._stop.is_set():
                stopped = True
                break
        reason = self._end_reason(stopped)
        self._restore_best()
        self._evaluate_test()
        now = time.perf_counter()
        elapsed = now - self._t0
        self._elapsed_total += elapsed
        rate = self._rate(now) if self._run_samples else 0.0
        result = TrainResult(
            model=self.model,
            history={key: list(v) for key, v in self.history.items()},
            stopped=stopped and self._fault is None,
            reason=reason,
            epochs_done=self.epochs_done,
            best_epoch=self.best_epoch,
            test_accuracy=self.test_accuracy,
            test_loss=self.test_loss,
            device=self.device,
            elapsed=self._elapsed_total,
            config=cfg,
            data_source=self.data_source,
            params=int(self.model.count_params()),
            samples_per_s=rate,
        )
        end_logs = {}
        if self.test_accuracy is not None:
            end_logs = {"test_accuracy": self.test_accuracy, "test_loss": self.test_loss}
        self._emit("end", reason, epoch=self.epochs_done, epochs=self._run_epochs_total,
                   batches=self.batches, logs=end_logs, samples_per_s=rate, eta_s=0.0)
        return result

    def _end_reason(self, stopped: bool) -> str:
        if self._fault is not None:
            return self._fault
        if stopped:
            return "stopped by user"
        return "completed"

    def _finish_epoch(self) -> None:
        self.epochs_done += 1
        logs = {"loss": self._epoch_logs.get("loss", float("nan")),
                "accuracy": self._epoch_logs.get("accuracy", float("nan")),
                "lr": float(self._current_lr)}
        if self.x_val is not None:
            with tf().device(self.tf_device):
                val = self.model.evaluate(
                    self.x_val, self._labels_for_model(self.y_val),
                    batch_size=512, verbose=0, return_dict=True,
                )
            logs["val_loss"] = float(val["loss"])
            logs["val_accuracy"] = float(val.get("accuracy", val.get("compile_metrics", float("nan"))))
            key = (logs["val_accuracy"], -logs["val_loss"])
            if self._best_key is None or key > self._best_key:
                self._best_key = key
                self.best_epoch = self.epochs_done
                self._snapshot_best()
                self._weights_are_best = True
            else:
                self._weights_are_best = False
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        now = time.perf_counter()
        self._emit(
            "epoch",
            epoch=self.epochs_done,
            epochs=self._run_epochs_total,
            batch=self.batches,
            batches=self.batches,
            step=self.step,
            logs=dict(logs),
            elapsed=now - self._t0,
            samples_per_s=self._rate(now),
            eta_s=self._eta(now),
        )

    def _restore_best(self) -> None:
        if self._best_weights is None or self._weights_are_best:
            return
        self.model.set_weights(self._best_weights)
        self._weights_are_best = True
        acc = self._best_key[0] if self._best_key else float("nan")
        self._message(
            f"restored the weights of epoch {self.best_epoch} (best validation accuracy {acc:.2%})."
        )

    def _evaluate_test(self) -> None:
        if self.x_test is None or self.y_test is None or len(self.x_test) == 0:
            return
        with tf().device(self.tf_device):
            ev = evaluate(self.model, self.x_test, self.y_test)
        self.test_accuracy = ev.accuracy
        self.test_loss = ev.loss


# ---------------------------------------------------------------------------------------------
# k-fold cross-validation
# ---------------------------------------------------------------------------------------------


def kfold(
    config: TrainConfig,
    k: int = 5,
    *,
    dataset: Dataset | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop_event: threading.Event | None = None,
) -> KFoldResult:
    """k-fold cross-validation of ``config`` on the training images, as in the tutorial.

    The training images are shuffled once (numpy permutation, seed 1 like the tutorial's
    ``KFold(shuffle=True, random_state=1)``) and split into ``k`` folds; each fold is held out
    once while a fresh model trains on the rest. The held-out fold is the fold's test set.

    Returns
    -------
    KFoldResult
        The accuracies of the completed folds, their mean and standard deviation; ``stopped`` is
        True when ``stop_event`` ended it early.

    Raises
    ------
    TrainingError
        ``k`` is below 2 or above the number of images.
    """
    cfg = config.resolved()
    _check_int(k, "k", 2)
    ds = dataset if dataset is not None else load_dataset(cfg.data)
    if cfg.train_limit is not None:
        ds = ds.subset(cfg.train_limit, None, seed=cfg.seed)
    cfg = replace(cfg, train_limit=None, test_limit=None)
    x, y = ds.x_train, np.asarray(ds.y_train)
    if k > len(x):
        raise TrainingError(f"k = {k} folds need at least {k} images, but there are {len(x)}.")
    stop = stop_event if stop_event is not None else threading.Event()
    folds = np.array_split(np.random.default_rng(1).permutation(len(x)), k)
    accuracies: list[float] = []
    histories: list[dict] = []
    stopped = False
    for i, test_idx in enumerate(folds, start=1):
        if stop.is_set():
            stopped = True
            break
        train_idx = np.sort(np.concatenate([f for j, f in enumerate(folds, start=1) if j != i]))
        test_idx = np.sort(test_idx)
        fold_ds = Dataset(x[train_idx], y[train_idx], x[test_idx], y[test_idx],
                          f"{ds.source} (fold {i}/{k})")
        if on_progress is not None:
            on_progress(Progress("message", 0, cfg.epochs, 0, 0, 0, {"fold": float(i)}, 0.0, 0.0, None,
                                 message=f"fold {i}/{k}: training on {len(train_idx)}, testing on {len(test_idx)}"))
        trainer = Trainer(cfg, dataset=fold_ds, on_progress=on_progress, stop_event=stop)
        result = trainer.run()
        if result.stopped:
            stopped = True
            break
        accuracies.append(float(result.test_accuracy))
        histories.append(result.history)
        if on_progress is not None:
            on_progress(Progress("message", result.epochs_done, cfg.epochs, 0, 0, trainer.step,
                                 {"fold": float(i), "accuracy": float(result.test_accuracy)},
                                 result.elapsed, result.samples_per_s, None,
                                 message=f"fold {i}/{k}: accuracy {result.test_accuracy:.2%}"))
    arr = np.asarray(accuracies, dtype=np.float64)
    return KFoldResult(
        accuracies=accuracies,
        mean=float(arr.mean()) if len(arr) else float("nan"),
        std=float(arr.std()) if len(arr) else float("nan"),
        histories=histories,
        stopped=stopped,
    )


__all__ = [
    "OPTIMIZERS", "SCHEDULES", "TrainConfig", "Progress", "TrainResult", "Trainer", "EvalResult",
    "evaluate", "KFoldResult", "kfold", "make_optimizer", "lr_at",
]
