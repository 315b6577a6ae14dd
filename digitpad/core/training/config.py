"""Training configuration: :class:`TrainConfig` and its validation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from digitpad.core.archs import ARCHS, get_arch
from digitpad.core.errors import TrainingError
from digitpad.core.training.schedules import OPTIMIZERS, SCHEDULES

#: Augmentation modes: none; "mnist" (shift/rotate/zoom, what ``augment=True`` always meant);
#: "drawn" (pad-like strokes: width, rotation, shear, stretch, elastic; see ``drawn_augment``).
AUGMENT_MODES = ("none", "mnist", "drawn")
_AUGMENT_WORDS = {"none": False, "off": False, "false": False, "no": False, "mnist": True,
                  "on": True, "true": True, "yes": True, "drawn": "drawn"}


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
    augment: bool | str | None = None  # False/"none", True/"mnist", "drawn"; None = the arch's
    seed: int = 0
    device: str = "auto"
    data: str | None = None
    train_limit: int | None = None
    test_limit: int | None = None
    label_smoothing: float | None = None
    dropout: float | None = None  # every Dropout layer's rate; None = the architecture's rates

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
            augment=parse_augment(spec.augment if self.augment is None else self.augment),
            label_smoothing=(spec.label_smoothing if self.label_smoothing is None else self.label_smoothing),
        )
        check_int(cfg.epochs, "epochs", 1)
        check_int(cfg.batch_size, "batch size", 1)
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
        check_int(cfg.seed, "seed", 0)
        if cfg.dropout is not None:
            cfg.dropout = check_dropout(cfg.dropout, spec.name, bool(spec.dropout))
        for name in ("train_limit", "test_limit"):
            value = getattr(cfg, name)
            if value is not None:
                check_int(value, name.replace("_", " "), 1)
        return cfg

    def model_options(self) -> dict:
        """The builder options of :func:`~digitpad.core.archs.build_model` (``dropout``)."""
        return {} if self.dropout is None else {"dropout": float(self.dropout)}

    def to_dict(self) -> dict:
        """JSON-able dict of the fields."""
        return asdict(self)


def parse_augment(value: Any) -> bool | str:
    """An augmentation setting as stored in a resolved config: ``False``, ``True`` (the MNIST
    shift/rotate/zoom) or ``"drawn"``; names of :data:`AUGMENT_MODES` (and on/off) are accepted.

    Raises
    ------
    TrainingError
        ``value`` names no augmentation mode.
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    word = _AUGMENT_WORDS.get(str(value).strip().lower()) if isinstance(value, str) else None
    if word is None:
        raise TrainingError(f"augmentation {value!r} is not one of: {', '.join(AUGMENT_MODES)}.")
    return word


def augment_mode(value: Any) -> str:
    """The name (one of :data:`AUGMENT_MODES`) of an augmentation setting."""
    mode = parse_augment(value)
    return "drawn" if mode == "drawn" else ("mnist" if mode else "none")


def check_int(value: Any, what: str, minimum: int) -> None:
    """Raise a one-sentence :class:`TrainingError` unless ``value`` is a whole number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TrainingError(f"{what} must be a whole number, not {value!r}.")
    if value < minimum:
        raise TrainingError(f"{what} must be at least {minimum}, not {value}.")


def check_dropout(value: Any, arch: str, has_dropout: bool) -> float:
    """``value`` as a dropout rate in [0, 1) for ``arch``, else a one-sentence TrainingError."""
    if not has_dropout:
        names = ", ".join(name for name, spec in ARCHS.items() if spec.dropout)
        raise TrainingError(f"architecture {arch!r} has no dropout layers; dropout applies to: {names}.")
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise TrainingError(f"dropout {value!r} is not a number.") from None
    if isinstance(value, bool) or not (0.0 <= rate < 1.0):
        raise TrainingError(f"dropout must be in [0, 1), not {value!r}.")
    return rate
