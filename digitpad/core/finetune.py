"""Fine-tuning on personal drawings: train a model further on MNIST plus a person's drawings.

:class:`Finetuner` holds out a part of the drawings per digit, oversamples and augments the rest
(:func:`~digitpad.core.training.drawn_augment.augment_drawn`: stroke width, rotation, slant,
stretch, elastic distortion), mixes them into a random MNIST subset and trains a copy of the model
for a few epochs with a low learning rate through a recorded
:class:`~digitpad.core.training.TrainingSession` (kind ``"finetune"``). It measures the model
before and after on the held-out drawings and the MNIST test set. The starting model is never
changed: both are kept in the :class:`FinetuneResult`.

The defaults keep MNIST test accuracy within :data:`MNIST_DROP_BOUND` (0.2 points): MNIST is
most of every batch, the learning rate is a fifth of a usual one, the batch-normalisation
layers keep the statistics they learnt on MNIST (``freeze_batchnorm``: batches that are a fifth
drawings would otherwise shift them and cost MNIST accuracy), and the loss keeps the starting
model's own label smoothing (hard labels would sharpen every output and move MNIST with it;
``bench/bench_personal.py``). Because the objective stays the starting model's, so does the
scale of its outputs: its stored confidence temperature is carried over to the tuned model.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from digitpad.core.calibration import METADATA_KEY as CALIBRATION_KEY
from digitpad.core.calibration import carried_calibration
from digitpad.core.data import Dataset, load_dataset, to_model_input, unit_to_pixels
from digitpad.core.errors import DataError
from digitpad.core.personal.load import Drawings
from digitpad.core.tfsetup import keras, tf
from digitpad.core.training import Progress, RunStatus, TrainConfig, TrainingSession

#: Most MNIST test accuracy may fall, in points (0.2 points = 0.002).
MNIST_DROP_BOUND = 0.002


@dataclass
class FinetuneConfig:
    """Settings of a fine-tune (defaults: about 45 s on a 2-core CPU for the ``best`` model).

    Attributes
    ----------
    epochs, learning_rate, batch_size
        Training of the copy (Adam, constant learning rate).
    mnist_images
        Size of the random MNIST training subset mixed in.
    drawings_share
        Fraction of the training images that are (augmented copies of) drawings.
    max_copies
        Most augmented copies of one drawing.
    hold_out
        Fraction of each digit's drawings held out to measure (none from a digit with one).
    mnist_test
        MNIST test images measured before and after (None: all 10,000).
    freeze_batchnorm
        Keep every ``BatchNormalization`` layer fixed (inference mode, weights not trained).
    label_smoothing
        Label smoothing of the loss; ``None``: the starting model's own (its metadata's training
        configuration), 0 when unknown.
    """

    epochs: int = 4
    learning_rate: float = 2e-4
    batch_size: int = 128
    mnist_images: int = 30_000
    drawings_share: float = 0.4
    max_copies: int = 100
    hold_out: float = 0.2
    mnist_test: int | None = None
    seed: int = 0
    device: str = "auto"
    arch: str = "fast"  # only for the run record: the model's own architecture when known
    freeze_batchnorm: bool = True
    label_smoothing: float | None = None


@dataclass(frozen=True)
class Scores:
    """Accuracy of one model on the held-out drawings (None: none held out) and MNIST test."""

    drawings_accuracy: float | None
    mnist_accuracy: float
    drawings_predicted: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"drawings_accuracy": self.drawings_accuracy, "mnist_accuracy": self.mnist_accuracy}


@dataclass
class FinetuneResult:
    """Both models and their scores."""

    model: Any
    base_model: Any
    before: Scores
    after: Scores
    held_out: int
    trained_drawings: int
    trained_images: int
    status: RunStatus
    reason: str
    elapsed: float
    metadata: dict
    held_out_index: list[int] = field(default_factory=list)

    @property
    def mnist_drop(self) -> float:
        """How much MNIST test accuracy fell (negative: it rose)."""
        return self.before.mnist_accuracy - self.after.mnist_accuracy

    @property
    def mnist_within_bound(self) -> bool:
        """Whether MNIST test accuracy fell by no more than :data:`MNIST_DROP_BOUND`."""
        return self.mnist_drop <= MNIST_DROP_BOUND + 1e-12

    def to_dict(self) -> dict:
        return {"before": self.before.to_dict(), "after": self.after.to_dict(),
                "held_out": self.held_out, "trained_drawings": self.trained_drawings,
                "trained_images": self.trained_images, "status": self.status.value,
                "reason": self.reason, "elapsed": round(self.elapsed, 2),
                "mnist_drop_points": round(100 * self.mnist_drop, 3),
                "mnist_within_bound": self.mnist_within_bound}


def split_held_out(y: np.ndarray, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, held_out)``: about ``fraction`` of each digit's drawings held out.

    A digit with n >= 2 drawings holds out ``max(1, round(n * fraction))`` (at most n - 1);
    one with a single drawing holds out none. ``fraction`` 0 holds out nothing.
    """
    rng = np.random.default_rng(seed)
    held: list[int] = []
    for digit in np.unique(y):
        idx = np.flatnonzero(y == digit)
        n = len(idx)
        k = 0 if fraction <= 0 or n < 2 else min(n - 1, max(1, round(n * fraction)))
        held.extend(rng.permutation(idx)[:k].tolist())
    held_arr = np.sort(np.asarray(held, dtype=np.int64))
    train = np.setdiff1d(np.arange(len(y)), held_arr)
    return train, held_arr


def augmented_copies(x: np.ndarray, copies: int, seed: int) -> np.ndarray:
    """``copies`` augmented versions of each uint8 image (``augment_drawn``), uint8 (N*copies,28,28)."""
    T = tf()
    T.random.set_seed(int(seed))
    from digitpad.core.training.drawn_augment import augment_drawn

    batch = np.repeat(to_model_input(x), copies, axis=0)
    out = []
    with T.device("/CPU:0"):
        for i in range(0, len(batch), 4096):
            out.append(np.asarray(augment_drawn(T.constant(batch[i:i + 4096]), T)))
    return unit_to_pixels(np.concatenate(out)[..., 0])


def copy_model(model: Any, *, freeze_batchnorm: bool = False) -> Any:
    """An uncompiled copy of ``model`` with the same weights (trained with a fresh optimizer).

    With ``freeze_batchnorm`` every ``BatchNormalization`` layer of the copy (nested models
    included) is made non-trainable, which in Keras 3 also runs it in inference mode: its moving
    statistics stay as they are.
    """
    k = keras()
    clone = k.models.clone_model(model)
    clone.set_weights(model.get_weights())
    if freeze_batchnorm:
        for layer in _all_layers(clone):
            if isinstance(layer, k.layers.BatchNormalization):
                layer.trainable = False
    return clone


def _all_layers(model: Any) -> list[Any]:
    """Every layer of ``model``, those of nested models too (depth first)."""
    out = []
    for layer in getattr(model, "layers", []):
        out.append(layer)
        out.extend(_all_layers(layer))
    return out


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    """Predicted digits, by direct calls: ``predict`` of a model compiled with several steps per
    execution fails on a set smaller than those steps' batches."""
    xs = to_model_input(x)
    out = [np.asarray(model(xs[i:i + 512], training=False)).argmax(axis=1)
           for i in range(0, len(xs), 512)]
    return np.concatenate(out) if out else np.zeros(0, np.int64)


class Finetuner:
    """Fine-tune ``model`` on ``drawings`` (see the module docstring); stoppable from any thread.

    Parameters
    ----------
    model
        The Keras model to start from (adapted, softmax output); left unchanged.
    drawings
        From :func:`~digitpad.core.personal.load.load_drawings`.
    config
        :class:`FinetuneConfig` (defaults when None).
    mnist
        The MNIST data set (default: the bundled one).
    on_progress
        Training progress, as for :class:`~digitpad.core.training.TrainingSession`.
    record
        Add the run to the run history.
    base_metadata
        The starting model's file metadata: its label smoothing (when the config leaves it to
        the model) and its confidence temperature, which the tuned model keeps.
    """

    def __init__(self, model: Any, drawings: Drawings, *, config: FinetuneConfig | None = None,
                 mnist: Dataset | None = None,
                 on_progress: Callable[[Progress], None] | None = None,
                 record: bool = True, base_metadata: dict | None = None) -> None:
        if len(drawings) == 0:
            raise DataError(f"there are no usable drawings in {drawings.folder} to fine-tune on.")
        self.model = model
        self.drawings = drawings
        self.config = config or FinetuneConfig()
        self.mnist = mnist
        self.on_progress = on_progress
        self.record = record
        self.base_metadata = dict(base_metadata or {})
        self.session: TrainingSession | None = None
        self._stop = threading.Event()

    def request_stop(self) -> None:
        """Stop the training after the batch in flight (the weights so far are kept)."""
        self._stop.set()
        if self.session is not None:
            self.session.request_stop()

    def label_smoothing(self) -> float:
        """The loss's label smoothing: the config's, else the starting model's own, else 0."""
        if self.config.label_smoothing is not None:
            return float(self.config.label_smoothing)
        config = self.base_metadata.get("config")
        value = config.get("label_smoothing") if isinstance(config, dict) else None
        try:
            value = float(value)
        except (TypeError, ValueError):
            return 0.0
        return value if 0.0 <= value < 1.0 else 0.0

    def scores(self, model: Any, held: Drawings, x_test: np.ndarray, y_test: np.ndarray) -> Scores:
        """Accuracy of ``model`` on ``held`` and on the MNIST test images."""
        predicted = _predict(model, held.x).tolist() if len(held) else []
        acc = float(np.mean(np.asarray(predicted) == held.y)) if len(held) else None
        mnist = float(np.mean(_predict(model, x_test) == y_test))
        return Scores(acc, mnist, predicted)

    def run(self) -> FinetuneResult:
        """Measure, train a copy, measure again.

        Raises
        ------
        DataError
            No drawings left to train on.
        DigitpadError
            Training failed (recorded first).
        """
        t0 = time.perf_counter()
        cfg = self.config
        mnist = self.mnist if self.mnist is not None else load_dataset("mnist")
        test = mnist.subset(n_test=cfg.mnist_test, seed=cfg.seed)
        train_idx, held_idx = split_held_out(self.drawings.y, cfg.hold_out, cfg.seed)
        held = self.drawings.subset(held_idx)
        mine = self.drawings.subset(train_idx)
        if len(mine) == 0:
            raise DataError("every drawing was held out; label more drawings to fine-tune.")
        before = self.scores(self.model, held, test.x_test, test.y_test)

        base = mnist.subset(n_train=cfg.mnist_images, seed=cfg.seed)
        share = min(0.9, max(0.01, float(cfg.drawings_share)))
        copies = int(np.clip(round(share / (1 - share) * len(base.x_train) / len(mine)),
                             1, cfg.max_copies))
        x_aug = augmented_copies(mine.x, copies, cfg.seed)
        x = np.concatenate([base.x_train, mine.x, x_aug])
        y = np.concatenate([base.y_train, mine.y, np.repeat(mine.y, copies)])
        mixed = Dataset(x, y, None, None,
                        f"{base.source} + {len(mine)} drawings x{copies + 1} (augmented)")
        config = TrainConfig(arch=cfg.arch, epochs=cfg.epochs, batch_size=cfg.batch_size,
                             optimizer="adam", learning_rate=cfg.learning_rate,
                             schedule="constant", val_split=0.0, augment=False, seed=cfg.seed,
                             device=cfg.device, data=str(self.drawings.folder),
                             label_smoothing=self.label_smoothing())
        tuned = copy_model(self.model, freeze_batchnorm=cfg.freeze_batchnorm)
        self.session = TrainingSession(config, dataset=mixed, model=tuned,
                                       on_progress=self.on_progress, record=self.record,
                                       kind="finetune")
        if self._stop.is_set():
            self.session.request_stop()
        result = self.session.run()
        after = self.scores(result.model, held, test.x_test, test.y_test)
        metadata = result.metadata()
        metadata["finetune"] = {"before": before.to_dict(), "after": after.to_dict(),
                                "held_out": len(held), "drawings": len(mine),
                                "copies": copies, "folder": str(self.drawings.folder)}
        metadata["test_accuracy"] = after.mnist_accuracy
        calibration = carried_calibration(self.base_metadata)
        if calibration is not None:
            metadata[CALIBRATION_KEY] = calibration
        return FinetuneResult(
            model=result.model, base_model=self.model, before=before, after=after,
            held_out=len(held), trained_drawings=len(mine), trained_images=len(x),
            status=result.status, reason=result.reason, elapsed=time.perf_counter() - t0,
            metadata=metadata, held_out_index=held_idx.tolist())


def finetune(model: Any, drawings: Drawings, **kwargs: Any) -> FinetuneResult:
    """``Finetuner(model, drawings, **kwargs).run()``."""
    return Finetuner(model, drawings, **kwargs).run()


def accuracy_words(value: float | None) -> str:
    """``"97.50 %"`` or ``"–"`` for no value."""
    return "–" if value is None or not math.isfinite(value) else f"{100 * value:.2f} %"
