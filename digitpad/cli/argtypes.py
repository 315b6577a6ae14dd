"""Argument value types for argparse: each refuses a bad value with a one-phrase reason.

The reasons quote the value as typed, shortened and with control characters escaped, and name
the allowed range, so no value (negative, huge, NaN, inf, empty) gets past the parser to fail
later as an unexpected error.
"""

from __future__ import annotations

import argparse
import math

from digitpad.cli.terminal_text import shown

MAX_SEED = 2**32 - 1  # NumPy's and TensorFlow's seeds are 32-bit
MAX_EPOCHS = 100_000
MIN_LEARNING_RATE = 1e-10
MAX_LEARNING_RATE = 100.0
MAX_VAL_SPLIT = 0.5  # at least half the images stay for training (TrainConfig's rule)


def _q(text: str) -> str:
    """``text`` quoted for a message: escaped and cut to 40 characters."""
    short = text if len(text) <= 40 else text[:40] + "…"
    return f"'{shown(short, backslash=False)}'"


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_q(text)} is not a whole number") from None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_q(text)} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {_q(text)}")
    return value


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


#: Most integrated-gradient points per image (each is one image through the model, both ways).
MAX_IG_STEPS = 1024


def ig_steps(text: str) -> int:
    """Integrated-gradient points: a whole number from 2 to :data:`MAX_IG_STEPS`."""
    value = _whole(text)
    if not 2 <= value <= MAX_IG_STEPS:
        raise argparse.ArgumentTypeError(f"must be between 2 and {MAX_IG_STEPS}, got {value}")
    return value


def nonneg_int(text: str) -> int:
    """A whole number of at least 0."""
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def seed(text: str) -> int:
    """A random seed: a whole number from 0 to 2**32 - 1."""
    value = _whole(text)
    if not 0 <= value <= MAX_SEED:
        shown_value = value if abs(value) < 10**30 else _q(text)
        raise argparse.ArgumentTypeError(
            f"must be between 0 and {MAX_SEED} (2**32 - 1), got {shown_value}"
        )
    return value


def epochs(text: str) -> int:
    """A number of epochs: a whole number from 1 to :data:`MAX_EPOCHS`."""
    value = positive_int(text)
    if value > MAX_EPOCHS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_EPOCHS:,}, got {_q(text)}")
    return value


def positive_float(text: str) -> float:
    """A finite number above 0."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {_q(text)}")
    return value


def learning_rate(text: str) -> float:
    """A learning rate from :data:`MIN_LEARNING_RATE` to :data:`MAX_LEARNING_RATE`."""
    value = positive_float(text)
    if not MIN_LEARNING_RATE <= value <= MAX_LEARNING_RATE:
        raise argparse.ArgumentTypeError(
            f"must be between {MIN_LEARNING_RATE:g} and {MAX_LEARNING_RATE:g}, got {_q(text)}"
        )
    return value


def fraction(text: str) -> float:
    """A number in [0, 1)."""
    value = _number(text)
    if not (0.0 <= value < 1.0):
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {_q(text)}")
    return value


def val_split(text: str) -> float:
    """A validation fraction from 0 to :data:`MAX_VAL_SPLIT`."""
    value = _number(text)
    if not (0.0 <= value <= MAX_VAL_SPLIT):
        raise argparse.ArgumentTypeError(
            f"must be between 0 and {MAX_VAL_SPLIT:g}, got {_q(text)}"
        )
    return value


def kfold_k(text: str) -> int:
    """A number of folds: a whole number of at least 2."""
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"k-fold needs at least 2 folds, got {value}")
    return value


def nonempty(text: str) -> str:
    """Any text but the empty string (a file name, a data source, a device)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty or blank")
    return text
