"""Calibrated confidence: temperature scaling, expected calibration error, reliability diagrams.

A classifier trained with label smoothing (digitpad's ``fast`` and ``best``) is under-confident
-- a clear digit never reads above ~93 % -- and any classifier may be over-confident on inputs
unlike its training data. Temperature scaling (Guo et al., 2017) fixes the first with one number
fitted after training: probabilities ``p`` become ``softmax(log(p) / T)``. ``T < 1`` sharpens,
``T > 1`` softens; the top digit never changes, so accuracy is untouched.

:func:`fit_temperature` finds ``T`` by minimising the negative log-likelihood on held-out
(validation) data. The fitted temperature travels inside the model file's metadata under
``"calibration"`` (:func:`calibration_metadata`, read back by :func:`temperature_from_metadata`)
and the :class:`~digitpad.core.inference.Predictor` applies it to every probability it returns.
A model without one is shown as it is ("confidence: not calibrated").

Pure numpy: no TensorFlow here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Smallest probability taken into a logarithm.
EPSILON = 1e-12
#: Temperatures outside this range are not fitted (and refused when read from a file).
T_MIN, T_MAX = 0.02, 50.0
#: Bins of the expected calibration error and the reliability diagram.
BINS = 15
METADATA_KEY = "calibration"


def _log_probs(probs: np.ndarray) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"probabilities must be a non-empty (N, classes) array, not {p.shape}.")
    return np.log(np.clip(p, EPSILON, 1.0))


def apply_temperature(probs: np.ndarray, temperature: float | None) -> np.ndarray:
    """Probabilities ``softmax(log(probs) / temperature)``, row by row (float32).

    Parameters
    ----------
    probs
        ``(N, classes)`` or ``(classes,)`` probabilities.
    temperature
        ``None`` or 1 leave ``probs`` as they are (returned as float32).
    """
    p = np.asarray(probs)
    if temperature is None or temperature == 1.0:
        return p.astype(np.float32, copy=False)
    one = p.ndim == 1
    z = _log_probs(p.reshape(1, -1) if one else p) / float(temperature)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out[0] if one else out


def nll(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of the true labels."""
    logp = _log_probs(probs)
    y = np.asarray(labels, dtype=np.int64).ravel()
    return float(-logp[np.arange(len(y)), y].mean())


def _nll_at(logp: np.ndarray, y: np.ndarray, beta: float) -> float:
    z = beta * logp
    m = z.max(axis=1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
    return float((lse - z[np.arange(len(y)), y]).mean())


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels``.

    The NLL is convex in ``1 / T`` (log-sum-exp of a linear function), so a golden-section
    search over ``log(1 / T)`` finds the minimum in [:data:`T_MIN`, :data:`T_MAX`].

    Parameters
    ----------
    probs
        ``(N, classes)`` probabilities of held-out images (never the test set).
    labels
        ``(N,)`` true classes.

    Returns
    -------
    float
        The fitted temperature (1.0 means the model was already calibrated in this sense).
    """
    logp = _log_probs(probs)
    y = np.asarray(labels, dtype=np.int64).ravel()
    if len(y) != len(logp):
        raise ValueError(f"{len(logp)} probability rows but {len(y)} labels.")
    lo, hi = math.log(1.0 / T_MAX), math.log(1.0 / T_MIN)
    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = _nll_at(logp, y, math.exp(a)), _nll_at(logp, y, math.exp(b))
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = _nll_at(logp, y, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = _nll_at(logp, y, math.exp(b))
    return float(1.0 / math.exp((lo + hi) / 2.0))


@dataclass(frozen=True)
class Reliability:
    """Reliability-diagram data: per confidence bin, the mean confidence and the accuracy.

    Attributes
    ----------
    edges : numpy.ndarray
        ``(bins + 1,)`` bin edges over [0, 1].
    confidence, accuracy : numpy.ndarray
        ``(bins,)`` mean top probability and fraction correct of each bin (NaN when empty).
    counts : numpy.ndarray
        ``(bins,)`` images per bin.
    ece : float
        Expected calibration error: the count-weighted mean of ``|accuracy - confidence|``.
    """

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    counts: np.ndarray
    ece: float


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> Reliability:
    """Bin the top probability of each image and compare it with how often it is right."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64).ravel()
    if p.ndim != 2 or len(p) != len(y) or len(y) == 0:
        raise ValueError("reliability needs (N, classes) probabilities and N labels, N > 0.")
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    counts = np.bincount(idx, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, conf, minlength=bins) / counts
        acc = np.bincount(idx, correct, minlength=bins) / counts
    gap = np.where(counts > 0, np.abs(acc - mean_conf), 0.0)
    ece = float((gap * counts).sum() / counts.sum())
    return Reliability(edges, mean_conf, acc, counts, ece)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error (fraction, 0..1) over ``bins`` equal-width confidence bins."""
    return reliability(probs, labels, bins).ece


def calibration_metadata(probs: np.ndarray, labels: np.ndarray, *, fitted_on: str) -> dict:
    """Fit a temperature on held-out ``probs``/``labels`` and describe it for a model file.

    Returns
    -------
    dict
        ``method`` ("temperature scaling"), ``temperature``, ``fitted_on`` (what data), ``n``,
        ``nll_before``/``nll_after`` and ``ece_before``/``ece_after`` on that data.
    """
    t = fit_temperature(probs, labels)
    scaled = apply_temperature(probs, t)
    return {
        "method": "temperature scaling",
        "temperature": round(t, 6),
        "fitted_on": fitted_on,
        "n": int(len(np.asarray(labels).ravel())),
        "nll_before": round(nll(probs, labels), 6),
        "nll_after": round(nll(scaled, labels), 6),
        "ece_before": round(expected_calibration_error(probs, labels), 6),
        "ece_after": round(expected_calibration_error(scaled, labels), 6),
    }


def temperature_from_metadata(metadata: Mapping[str, Any] | None) -> float | None:
    """The stored temperature of a model's metadata, or ``None`` when it has no usable one.

    A value that is not a finite number in [:data:`T_MIN`, :data:`T_MAX`] counts as none (a file
    is untrusted input: it must not make every answer 100 % sure).
    """
    if not isinstance(metadata, Mapping):
        return None
    entry = metadata.get(METADATA_KEY)
    if not isinstance(entry, Mapping):
        return None
    t = entry.get("temperature")
    if isinstance(t, bool) or not isinstance(t, int | float):
        return None
    t = float(t)
    return t if math.isfinite(t) and T_MIN <= t <= T_MAX else None


def carried_calibration(metadata: Mapping[str, Any] | None) -> dict | None:
    """A fine-tuned model's calibration entry: the starting model's temperature, marked as carried
    over (``None`` when the starting ``metadata`` has none). Only the temperature travels: the
    fit's error figures describe the starting model."""
    entry = metadata.get(METADATA_KEY) if isinstance(metadata, Mapping) else None
    if not isinstance(entry, Mapping) or "temperature" not in entry:
        return None
    fitted_on = str(entry.get("fitted_on") or "the starting model's validation data")
    return {"method": entry.get("method", "temperature scaling"),
            "temperature": entry["temperature"], "carried_over": True,
            "fitted_on": f"{fitted_on}, carried over from the starting model"}


def is_carried(metadata: Mapping[str, Any] | None) -> bool:
    """Whether the stored temperature came from the model this one was fine-tuned from."""
    entry = metadata.get(METADATA_KEY) if isinstance(metadata, Mapping) else None
    return isinstance(entry, Mapping) and entry.get("carried_over") is True


def confidence_text(temperature: float | None, *, carried: bool = False) -> str:
    """One line for ``digitpad info`` / the GUI: how the shown confidence is computed.

    ``carried``: the temperature was fitted for the model this one was fine-tuned from.
    """
    if temperature is None:
        return "not calibrated (the model's own probabilities are shown)"
    where = "the starting model's, carried over by fine-tuning" if carried else "fitted on validation data"
    return f"calibrated (temperature {temperature:.3g}, {where})"


__all__ = [
    "BINS", "EPSILON", "METADATA_KEY", "T_MAX", "T_MIN", "Reliability", "apply_temperature",
    "calibration_metadata", "carried_calibration", "confidence_text", "is_carried", "expected_calibration_error", "fit_temperature",
    "nll", "reliability", "temperature_from_metadata",
]
