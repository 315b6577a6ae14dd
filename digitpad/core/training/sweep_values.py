"""What a sweep varies: the parameter names, their values as typed values, and the configurations.

Everything here runs before anything trains, so a sweep that cannot work is refused with one
:class:`~digitpad.core.errors.TrainingError` sentence at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from digitpad.core.errors import DigitpadError, TrainingError
from digitpad.core.training.config import TrainConfig

#: The parameters a sweep can vary (the :class:`TrainConfig` field names).
SWEEP_PARAMS = ("dropout", "learning_rate", "batch_size", "epochs", "optimizer", "augment", "arch")
ALIASES = {"lr": "learning_rate", "batch": "batch_size", "architecture": "arch",
           "augmentation": "augment", "rate": "dropout"}
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def canonical_param(name: str) -> str:
    """``name`` as a :data:`SWEEP_PARAMS` entry (``lr``, ``batch-size`` ... accepted).

    Raises
    ------
    TrainingError
        ``name`` is not a parameter a sweep can vary.
    """
    key = str(name).strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in SWEEP_PARAMS:
        raise TrainingError(f"cannot sweep {name!r}; choose one of: {', '.join(SWEEP_PARAMS)}.")
    return key


def _convert(param: str, value: Any) -> Any:
    text = str(value).strip()
    if param in ("dropout", "learning_rate"):
        try:
            return float(value if isinstance(value, int | float) and not isinstance(value, bool)
                         else text)
        except ValueError:
            raise TrainingError(f"{param} value {text!r} is not a number.") from None
    if param in ("batch_size", "epochs"):
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if not number.is_integer() or isinstance(value, bool):
            raise TrainingError(f"{param} value {text!r} is not a whole number.")
        return int(number)
    if param == "augment":
        if isinstance(value, bool):
            return value
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise TrainingError(f"augment value {text!r} is not one of: on, off (true, false).")
    return text.lower()  # optimizer, arch: checked by the configuration


def parse_values(param: str, values: str | Sequence[Any]) -> list[Any]:
    """The sweep's values of ``param``, converted to the parameter's type.

    Parameters
    ----------
    param
        One of :data:`SWEEP_PARAMS` (or an alias, see :func:`canonical_param`).
    values
        ``"0.1,0.2,0.3"`` or a sequence of values (strings are converted).

    Returns
    -------
    list
        Floats (dropout, learning_rate), ints (batch_size, epochs), bools (augment) or lower-case
        names (optimizer, arch), in the given order.

    Raises
    ------
    TrainingError
        Unknown parameter, no values, an empty or unconvertible item, or a value listed twice.
    """
    param = canonical_param(param)
    items = values.split(",") if isinstance(values, str) else list(values)
    if not items or all(not str(v).strip() for v in items):
        raise TrainingError(f"the sweep over {param} needs at least one value.")
    if any(not str(v).strip() for v in items):
        raise TrainingError(f"the values of {param} contain an empty item (two commas in a row?).")
    converted = [_convert(param, v) for v in items]
    for n, value in enumerate(converted):
        if value in converted[:n]:
            raise TrainingError(f"the {param} value {format_value(value)} is listed twice.")
    return converted


def format_value(value: Any) -> str:
    """A sweep value for tables and labels: ``0.1``, ``64``, ``on``/``off``, ``adam``."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def sweep_configs(base: TrainConfig, param: str, values: Sequence[Any]) -> list[TrainConfig]:
    """``base`` with ``param`` set to each value, every one checked (not yet resolved).

    Raises
    ------
    TrainingError
        A value does not fit (one sentence naming the value and why), e.g. a dropout rate for an
        architecture without dropout layers or a batch size of 0.
    """
    configs = []
    for value in values:
        config = replace(base, **{param: value})
        try:
            config.resolved()
        except DigitpadError as exc:
            reason = str(exc).rstrip(".")
            raise TrainingError(
                f"cannot sweep {param} over {format_value(value)}: {reason}."
            ) from None
        configs.append(config)
    return configs


__all__ = ["SWEEP_PARAMS", "ALIASES", "canonical_param", "parse_values", "format_value",
           "sweep_configs"]
