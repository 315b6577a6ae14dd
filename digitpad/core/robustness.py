"""Robustness curves: a model's accuracy as the test digits are rotated, shifted, scaled,
thickened or thinned and noised.

A fixed random subset of the images (``n``, chosen by ``seed``) is perturbed at each value of each
perturbation (:mod:`digitpad.core.perturb`, vectorised numpy), and every perturbed set goes through
the predictor in one batched call. The same subset and the same noise are used for every model, so
two models' curves can be overlaid and compared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from digitpad.core import perturb
from digitpad.core.data import pixels_to_unit, validate_arrays
from digitpad.core.errors import DigitpadError

PERTURBATIONS = ("rotate", "shift", "scale", "thickness", "noise")

#: (unit, default values) per perturbation; each range contains the unperturbed value.
SETTINGS: dict[str, tuple[str, tuple[float, ...]]] = {
    "rotate": ("degrees", tuple(float(v) for v in range(-45, 46, 9))),
    "shift": ("pixels right", tuple(float(v) for v in range(-8, 9, 2))),
    "scale": ("factor", (0.5, 0.625, 0.75, 0.875, 1.0, 1.125, 1.25, 1.375, 1.5)),
    "thickness": ("dilation steps", (-2.0, -1.0, 0.0, 1.0, 2.0, 3.0)),
    "noise": ("noise sigma", (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)),
}


@dataclass
class Curve:
    """Accuracy at each value of one perturbation.

    Attributes
    ----------
    perturbation : str
        One of :data:`PERTURBATIONS`.
    unit : str
        What the values measure, e.g. ``"degrees"``.
    values : list of float
        Perturbation strengths, increasing.
    accuracies : list of float
        Fraction correct at each value.
    """

    perturbation: str
    unit: str
    values: list[float]
    accuracies: list[float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"perturbation": self.perturbation, "unit": self.unit,
                "values": list(self.values), "accuracies": list(self.accuracies)}


def perturbed(images: np.ndarray, perturbation: str, value: float, seed: int = 0) -> np.ndarray:
    """``images`` (float32 (N, 28, 28) in [0, 1]) under one perturbation at one value.

    Noise is drawn from ``numpy.random.default_rng(seed)``, so a seed gives the same noise for
    every model.

    Raises
    ------
    DigitpadError
        Unknown perturbation.
    """
    if perturbation == "rotate":
        return perturb.rotate(images, value)
    if perturbation == "shift":
        return perturb.shift(images, value)
    if perturbation == "scale":
        return perturb.scale(images, value)
    if perturbation == "thickness":
        return perturb.thickness(images, int(round(value)))
    if perturbation == "noise":
        return perturb.noise(images, value, np.random.default_rng(seed))
    raise DigitpadError(
        f"perturbation {perturbation!r} is not one of {', '.join(PERTURBATIONS)}."
    )


def robustness_curves(
    predictor: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    perturbations: Sequence[str] = PERTURBATIONS,
    n: int = 1000,
    seed: int = 0,
    values: Mapping[str, Sequence[float]] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Curve]:
    """Accuracy curves of a model under each perturbation.

    Parameters
    ----------
    predictor : digitpad.core.inference.Predictor
        The model's predictor (anything with ``predict_batch(xs, batch_size=...)``).
    x, y : numpy.ndarray
        Test images (uint8 (N, 28, 28) ink bright, as ``Dataset.x_test``) and labels.
    perturbations : sequence of str
        Which curves, from :data:`PERTURBATIONS`.
    n : int
        Use a random subset of this many images (all when there are fewer).
    seed : int
        Chooses the subset and the noise.
    values : mapping, optional
        Perturbation strengths to use instead of the defaults of :data:`SETTINGS`.
    on_progress : callable, optional
        ``on_progress(done, total)`` counted in perturbed sets (``(0, total)`` first).
    should_stop : callable, optional
        Checked before each perturbed set; when it returns True the curves finished so far are
        returned (a curve being computed is dropped).

    Returns
    -------
    dict
        perturbation name -> :class:`Curve`, in the order asked.

    Raises
    ------
    DataError
        Invalid images or labels.
    DigitpadError
        Unknown perturbation, or ``n`` below 1.
    """
    for name in perturbations:
        if name not in SETTINGS:
            raise DigitpadError(f"perturbation {name!r} is not one of {', '.join(PERTURBATIONS)}.")
    if n < 1:
        raise DigitpadError(f"robustness needs at least 1 image, got n={n}.")
    xs, ys = validate_arrays(x, y, what="the robustness data")
    if len(xs) > n:
        pick = np.sort(np.random.default_rng(seed).permutation(len(xs))[:n])
        xs, ys = xs[pick], ys[pick]
    images = pixels_to_unit(xs)
    plan = {
        name: sorted(float(v) for v in (values or {}).get(name, SETTINGS[name][1]))
        for name in perturbations
    }
    total = sum(len(v) for v in plan.values())
    done = 0
    if on_progress is not None:
        on_progress(0, total)
    curves: dict[str, Curve] = {}
    for name, strengths in plan.items():
        accuracies: list[float] = []
        for index, value in enumerate(strengths):
            if should_stop is not None and should_stop():
                return curves
            batch = perturbed(images, name, value, seed=seed + index)
            probs = predictor.predict_batch(batch, batch_size=len(batch))
            accuracies.append(float(np.mean(np.argmax(probs, axis=1) == ys)))
            done += 1
            if on_progress is not None:
                on_progress(done, total)
        curves[name] = Curve(name, SETTINGS[name][0], list(strengths), accuracies)
    return curves


__all__ = ["PERTURBATIONS", "SETTINGS", "Curve", "perturbed", "robustness_curves"]
