"""The Evaluate tab's worker jobs: load the test images, evaluate, robustness, a second model.

They run in :class:`~digitpad.gui.tasks.TaskRunner` workers and touch no widget; everything
computational is the core's (:func:`digitpad.core.evaluation.evaluate_model`,
:func:`digitpad.core.robustness.robustness_curves`).
"""

from __future__ import annotations

import itertools
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TestImages:
    """The labelled images a model is evaluated on."""

    source: str | None          # what ``load_dataset`` was given (None: bundled MNIST)
    x: np.ndarray               # uint8 (N, 28, 28)
    y: np.ndarray               # int64 (N,)
    description: str            # e.g. "bundled MNIST (60000 train / 10000 test), test split"


_TOKENS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_COUNTER = itertools.count(1)


def _model_token(model: Any) -> object:
    """A number for this model object, never reused for another one (``id()`` is, after GC)."""
    try:
        token = _TOKENS.get(model)
        if token is None:
            token = _TOKENS[model] = next(_COUNTER)
        return token
    except TypeError:   # not weak-referenceable: the object itself (kept alive by the key)
        return model


def model_keys(entry: Any) -> tuple[tuple, ...]:
    """The identities of a ``ModelEntry`` for the session's result caches.

    The model object itself (the same model keeps its results when it is saved) and, when its
    file holds it, the file as it is now (path, modification time, size: opening that file again
    finds the results; a changed file does not).
    """
    keys: list[tuple] = [("model", _model_token(entry.model))]
    if entry.saved and entry.path:
        try:
            st = os.stat(entry.path)
        except OSError:
            pass
        else:
            keys.append(("file", str(entry.path), st.st_mtime_ns, st.st_size))
    return tuple(keys)


class ResultCache:
    """Results per model (any of :func:`model_keys`) and per further key (data source, ...)."""

    def __init__(self) -> None:
        self._items: dict[tuple, Any] = {}

    def put(self, keys: tuple[tuple, ...], extra: tuple, value: Any) -> None:
        """Keep ``value`` under every model key in ``keys`` (taken when the job started)."""
        for key in keys:
            self._items[(key, extra)] = value

    def get(self, entry: Any, extra: tuple) -> Any:
        """The result kept for ``entry`` and ``extra``, or None."""
        if entry is None:
            return None
        for key in model_keys(entry):
            found = self._items.get((key, extra))
            if found is not None:
                return found
        return None


def same_model(entry: Any, keys: tuple[tuple, ...]) -> bool:
    """True when ``entry`` is the model ``keys`` were taken of."""
    return entry is not None and bool(set(model_keys(entry)) & set(keys))


class DataChoice:
    """The data source chosen in the Evaluate tab and the images loaded per source."""

    def __init__(self, source: str | None = None) -> None:
        self.source = source
        self._loaded: dict[str | None, TestImages] = {}

    def images(self) -> TestImages | None:
        """The images of the chosen source, when loaded already."""
        return self._loaded.get(self.source)

    def remember(self, images: TestImages) -> None:
        self._loaded[images.source] = images


def source_label(source: str | None) -> str:
    """A short name of a data source for the chooser."""
    if source is None:
        return "MNIST test set (bundled)"
    if str(source).lower() == "keras":
        return "MNIST test set (Keras download)"
    return Path(source).name or str(source)


def load_test_images(source: str | None) -> TestImages:
    """Worker: the test split of ``load_dataset(source)`` (all its images when it has none)."""
    from digitpad.core.data import load_dataset

    data = load_dataset(source)
    if data.x_test is not None and data.y_test is not None and len(data.y_test):
        return TestImages(source, data.x_test, data.y_test, f"{data.source}, test split")
    return TestImages(source, data.x_train, data.y_train, f"{data.source}, all images")


def _progress(report: Callable[[Any], None]) -> Callable[..., None]:
    def on_progress(*args: Any) -> None:
        report(tuple(args))

    return on_progress


def evaluate_job(predictor: Any, source: str | None, images: TestImages | None,
                 stop: threading.Event, report: Callable[[Any], None]):
    """Worker: load the images (unless given) and evaluate; returns ``(images, Evaluation)``."""
    from digitpad.core.evaluation import evaluate_model

    if images is None:
        report(("loading", source_label(source)))
        images = load_test_images(source)
    evaluation = evaluate_model(predictor, images.x, images.y, source=images.description,
                                on_progress=_progress(report), should_stop=stop.is_set)
    return images, evaluation


def robustness_job(predictor: Any, source: str | None, images: TestImages | None, n: int,
                   stop: threading.Event, report: Callable[[Any], None]):
    """Worker: robustness curves on ``n`` of the images; returns ``(images, curves)``."""
    from digitpad.core.robustness import robustness_curves

    if images is None:
        report(("loading", source_label(source)))
        images = load_test_images(source)
    curves = robustness_curves(predictor, images.x, images.y, n=n,
                               on_progress=_progress(report), should_stop=stop.is_set)
    return images, curves


def load_predictor_job(path: str) -> tuple[str, Any]:
    """Worker: a second model for comparison: ``(display name, Predictor)``, loaded safely."""
    from digitpad.core.modelfile import load_model
    from digitpad.gui.current_model import make_predictor

    loaded = load_model(path)
    return loaded.name or Path(path).stem, make_predictor(loaded)


def progress_fraction(reports: list) -> tuple[float | None, str]:
    """The latest ``(fraction done or None, text)`` of a list of job reports."""
    for item in reversed(reports):
        if len(item) == 2 and item[0] == "loading":
            return None, f"Loading {item[1]}…"
        numbers = [v for v in item if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(numbers) >= 2 and numbers[1] > 0:
            done, total = numbers[0], numbers[1]
            return min(1.0, done / total), f"{int(done):,} / {int(total):,}"
    return None, ""
