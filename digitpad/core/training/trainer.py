"""The Qt-free training engine: :class:`Trainer` trains, continues and stops one model.

The engine reports through a plain callback (``on_progress(Progress)``) called from the thread
that runs the training, and checks its stop flag (a :class:`threading.Event`) after every call of
the train function, so a GUI, a command line or a test can drive it alike. It never imports Qt.

Design notes
------------
* Training runs one ``fit`` call per epoch on a ``tf.data`` pipeline built once. Validation is
  done by the engine itself after an epoch, and only when the epoch was not stopped, so a stop
  costs at most the batches in flight (Keras' own ``validation_data`` would still run after a stop).
* Stop keeps the weights trained so far, the part of the epoch in progress included. A run that
  completes restores its best validation epoch's weights when a later epoch was worse (and says
  so in a message). A diverged epoch is undone, then the best validation epoch is restored.
* The learning-rate schedule (:mod:`~digitpad.core.training.schedules`) is applied per call by
  assigning the optimizer's plain float learning rate, which saves without custom objects.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from digitpad.core.archs import build_model, check_classifier, get_arch
from digitpad.core.data import Dataset, load_dataset
from digitpad.core.errors import TrainingError
from digitpad.core.tfsetup import describe_device, keras, resolve_device, tf
from digitpad.core.training.calibrate import fit_on_validation
from digitpad.core.training.callbacks import RunCounter, engine_callbacks, fault_reason, stop_reason
from digitpad.core.training.config import TrainConfig, check_int
from digitpad.core.training.evaluate import evaluate, predict_probabilities, scores
from digitpad.core.training.events import Progress, RunStatus, TrainResult
from digitpad.core.training.pipeline import make_train_dataset, training_arrays
from digitpad.core.training.schedules import make_optimizer, make_schedule

# Batches run per call of Keras's compiled train function. Each call costs fixed Python and
# dispatch overhead (callbacks, setting the learning rate), a large part of a small CNN's batch on
# a CPU: with 8 steps per call a whole `digitpad train`-like process of `fast` took 10 % less wall
# time here (farm-bench, 5 paired runs), the training phase alone about 20-40 % less. Callbacks
# (progress, the stop flag, the learning-rate schedule) then run once per call, so small data
# sets (fewer than MIN_CALLS_PER_EPOCH * 8 batches) get fewer steps per call: a schedule moved in
# too few steps trains worse (3000 images, 22 batches: 87 % instead of 91 % with 8 steps per call).
STEPS_PER_EXECUTION = 8
MIN_CALLS_PER_EPOCH = 32


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
        Use this event as the stop flag; its owner clears it (e.g. a session or :func:`kfold`).
        Without one, the trainer's own flag is consumed when a run ends.
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
        self._owns_stop = stop_event is None
        self._stop = stop_event if stop_event is not None else threading.Event()
        self._dataset = dataset
        self.model = model
        self._run_lock = threading.Lock()
        self._prepared = False
        self._ran = False
        self.history: dict[str, list[float]] = {}
        self.epochs_done = 0
        self.batches = 0
        self.best_epoch: int | None = None
        self._best_key: tuple[float, float] | None = None
        self._best_weights: list | None = None
        self._best_val_probs: np.ndarray | None = None  # validation probabilities of those
        self._weights_are_best = True
        self.step = 0
        self.test_accuracy: float | None = None
        self.test_loss: float | None = None
        self.calibration: dict | None = None
        self.data_source = ""
        self.device = ""
        self.messages: list[str] = []
        self._elapsed_total = 0.0
        self._schedule_enabled = True
        self._t0 = time.perf_counter()

    # -- public API ----------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the run to stop after the batch in flight. Thread-safe and idempotent.

        Asked between runs, it stops the next run before its first batch.
        """
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        """Whether a stop has been requested and not yet consumed by the end of a run."""
        return self._stop.is_set()

    @property
    def epoch_float(self) -> float:
        """Batches trained over the trainer's life divided by the batches of an epoch."""
        return self.step / self.batches if self.batches else float(self.epochs_done)

    def run(self) -> TrainResult:
        """Train for ``config.epochs`` epochs (a second call continues for as many more)."""
        if self._ran:
            return self.continue_training(self.config.epochs)
        return self._train(self.config.epochs, first=True)

    def continue_training(self, epochs: int) -> TrainResult:
        """Train ``epochs`` more epochs on the same model with the same optimizer state.

        The schedule restarts over the added epochs (``onecycle`` without its warm-up). A stop
        requested before this call is honoured (the run stops before its first batch).
        """
        check_int(epochs, "epochs", 1)
        return self._train(int(epochs), first=not self._ran)

    def result(self, status: RunStatus, reason: str, *, batches_done: int = 0,
               restored_epoch: int | None = None, samples_per_s: float = 0.0) -> TrainResult:
        """A :class:`TrainResult` of the trainer's present state (also for a failed run)."""
        model = self.model
        return TrainResult(
            model=model,
            history={key: list(v) for key, v in self.history.items()},
            reason=reason,
            epochs_done=self.epochs_done,
            best_epoch=self.best_epoch,
            test_accuracy=self.test_accuracy,
            test_loss=self.test_loss,
            device=self.device,
            elapsed=self._elapsed_total,
            config=self.config,
            data_source=self.data_source,
            params=int(model.count_params()) if getattr(model, "built", False) else 0,
            samples_per_s=samples_per_s,
            status=status,
            batches_done=batches_done,
            batches=self.batches,
            step=self.step,
            restored_epoch=restored_epoch,
            calibration=self.calibration,
        )

    # -- reporting -----------------------------------------------------------------------------

    def _emit(self, kind: str, message: str = "", **fields: Any) -> None:
        if self.on_progress is None:
            return
        base = {
            "epoch": self.epochs_done,
            "epochs": self.epochs_done,
            "batch": 0,
            "batches": self.batches,
            "step": self.step,
            "logs": {},
            "elapsed": time.perf_counter() - self._t0,
            "samples_per_s": 0.0,
            "eta_s": None,
        }
        base.update(fields)
        base["epoch_float"] = base["step"] / self.batches if self.batches else 0.0
        self.on_progress(Progress(kind=kind, message=message, **base))

    def _message(self, text: str) -> None:
        self.messages.append(text)
        self._emit("message", text)

    def _report_batch(self, counter: RunCounter, epochs_total: int) -> None:
        now = time.perf_counter()
        self._emit("batch", epoch=counter.epoch, epochs=epochs_total, batch=counter.batch_in_epoch,
                   step=counter.step, logs={**counter.logs, "lr": counter.lr},
                   elapsed=now - self._t0, samples_per_s=counter.rate(now), eta_s=counter.eta(now))

    # -- preparation ---------------------------------------------------------------------------

    def _prepare(self) -> None:
        cfg = self.config
        ds = self._dataset if self._dataset is not None else load_dataset(cfg.data)
        if cfg.train_limit is not None or cfg.test_limit is not None:
            ds = ds.subset(cfg.train_limit, cfg.test_limit, seed=cfg.seed)
        self.data_source = ds.source
        x_train, y_train, self.x_val, self.y_val = training_arrays(ds, cfg.val_split, cfg.seed)
        self.x_test, self.y_test = ds.x_test, ds.y_test
        n = len(x_train)
        bs = int(cfg.batch_size)
        if bs > n:
            self._message(f"batch size {bs} is larger than the {n} training images; using {n}.")
            bs = n
        self.effective_batch_size = bs
        self.batches = math.ceil(n / bs)
        self.n_train = n

        self.tf_device = resolve_device(cfg.device)
        self.device = describe_device(self.tf_device)
        keras().utils.set_random_seed(int(cfg.seed))
        with tf().device(self.tf_device):
            if self.model is None:
                self.model = build_model(cfg.arch, **cfg.model_options())
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
        self.train_ds = make_train_dataset(x_train, y_train, batch_size=bs, seed=cfg.seed,
                                           augment=cfg.augment, one_hot=self._one_hot)
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

    # -- a run ---------------------------------------------------------------------------------

    def _train(self, epochs: int, *, first: bool) -> TrainResult:
        if not self._run_lock.acquire(blocking=False):
            raise TrainingError("training is already running; stop it before starting again.")
        try:
            return self._train_locked(epochs, first=first)
        finally:
            if self._owns_stop:  # a stop request is consumed by the run it ended (or found)
                self._stop.clear()
            self._run_lock.release()

    def _train_locked(self, epochs: int, *, first: bool) -> TrainResult:
        self._t0 = time.perf_counter()
        self.messages = []
        if not self._prepared:
            self._prepare()
        cfg = self.config
        self._ran = True
        total = self.epochs_done + epochs
        counter = RunCounter(batches=self.batches, batch_size=self.effective_batch_size,
                             n_train=self.n_train, planned_steps=epochs * self.batches,
                             step=self.step, lr=float(cfg.learning_rate))
        schedule = None
        if self._schedule_enabled and cfg.schedule != "constant":
            schedule = make_schedule(cfg.schedule, cfg.learning_rate, epochs * self.batches,
                                     warmup=first)
        callbacks = engine_callbacks(
            self.model, counter, report=lambda: self._report_batch(counter, total),
            batch_interval=self.batch_interval, stop_event=self._stop, schedule=schedule,
        )
        self._emit("start", f"training {cfg.arch} for {epochs} epoch(s) on {self.n_train} images "
                   f"({self.device})", epoch=self.epochs_done + 1, epochs=total)
        counter.started = time.perf_counter()
        status, fault = RunStatus.COMPLETED, None
        for _ in range(epochs):
            counter.begin_epoch(self.epochs_done + 1)
            if self._stop.is_set():
                status = RunStatus.STOPPED
                break
            start_weights = self.model.get_weights()
            self._fit_epoch(callbacks)
            self.step = counter.step
            self._weights_are_best = False  # the weights moved
            fault = fault_reason(counter)
            if fault is not None:
                self.model.set_weights(start_weights)
                status = RunStatus.DIVERGED
                break
            if not counter.epoch_done:  # a stop ended fit inside the epoch
                status = RunStatus.STOPPED
                break
            self._finish_epoch(counter, total)
        restored = None if status is RunStatus.STOPPED else self._restore_best()
        self.calibration = None if status is not RunStatus.COMPLETED else fit_on_validation(
            self.model, self.x_val, self.y_val, self.tf_device, self._message,
            probs=self._best_val_probs if self._weights_are_best else None)
        stopped = status is RunStatus.STOPPED
        reason = stop_reason(counter, self.epochs_done) if stopped else fault or "completed"
        self._evaluate_test()
        now = time.perf_counter()
        self._elapsed_total += now - self._t0
        rate = counter.rate(now)
        result = self.result(status, reason, batches_done=counter.batch_in_epoch,
                             restored_epoch=restored, samples_per_s=rate)
        end_logs = {}
        if self.test_accuracy is not None:
            end_logs = {"test_accuracy": self.test_accuracy, "test_loss": self.test_loss}
        self._emit("end", reason, epoch=self.epochs_done, epochs=total, logs=end_logs,
                   samples_per_s=rate, eta_s=0.0)
        return result

    def _fit_epoch(self, callbacks: list) -> None:
        T = tf()
        try:
            with T.device(self.tf_device):
                self.model.fit(self.train_ds, epochs=1, verbose=0, callbacks=callbacks, shuffle=False)
        except T.errors.ResourceExhaustedError:
            raise TrainingError(
                f"ran out of memory with batch size {self.effective_batch_size}; use a smaller batch."
            ) from None

    def _finish_epoch(self, counter: RunCounter, total: int) -> None:
        self.epochs_done += 1
        logs = {"loss": counter.logs.get("loss", float("nan")),
                "accuracy": counter.logs.get("accuracy", float("nan")),
                "lr": float(counter.lr)}
        if self.x_val is not None:
            with tf().device(self.tf_device):  # the predict function the test set uses too
                probs = predict_probabilities(self.model, self.x_val)
            logs["val_loss"], logs["val_accuracy"] = scores(probs, self.y_val,
                                                            self.config.label_smoothing)
            key = (logs["val_accuracy"], -logs["val_loss"])
            if self._best_key is None or key > self._best_key:
                self._best_key = key
                self.best_epoch = self.epochs_done
                self._best_weights = [np.array(w, copy=True) for w in self.model.get_weights()]
                self._best_val_probs = probs
                self._weights_are_best = True
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        now = time.perf_counter()
        self._emit("epoch", epoch=self.epochs_done, epochs=total, batch=self.batches,
                   step=self.step, logs=dict(logs), elapsed=now - self._t0,
                   samples_per_s=counter.rate(now), eta_s=counter.eta(now))

    def _restore_best(self) -> int | None:
        """Put the best validation epoch's weights back if the model holds others; its epoch."""
        if self._best_weights is None or self._weights_are_best:
            return None
        self.model.set_weights(self._best_weights)
        self._weights_are_best = True
        acc = self._best_key[0] if self._best_key else float("nan")
        self._message(f"restored the weights of epoch {self.best_epoch} (best validation accuracy "
                      f"{acc:.2%}): the later epochs validated worse.")
        return self.best_epoch

    def _evaluate_test(self) -> None:
        if self.x_test is None or self.y_test is None or len(self.x_test) == 0:
            return
        with tf().device(self.tf_device):
            ev = evaluate(self.model, self.x_test, self.y_test)
        self.test_accuracy = ev.accuracy
        self.test_loss = ev.loss
