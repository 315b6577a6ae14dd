"""Load models and build predictors off the GUI thread.

:class:`ModelLoader` lives in the GUI thread. Each request runs in a superqt worker (Qt's global
thread pool); the worker's signals are connected only to ``@Slot`` methods of the loader, so the
results arrive on the GUI thread. A newer request supersedes an older one still running: the
older result is dropped when it arrives.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, Signal, Slot
from superqt.utils import create_worker

import digitpad.gui.qtcompat  # noqa: F401  (PySide6 emit() refcount work-around)
from digitpad.core.errors import DigitpadError
from digitpad.gui.gc_guard import collect_on_gui_thread


@dataclass
class ModelReady:
    """A predictor ready to use, with what the GUI shows about it."""

    request: int
    predictor: object
    name: str
    metadata: dict = field(default_factory=dict)
    path: str | None = None
    adaptations: list[str] = field(default_factory=list)
    model: object = None


def make_predictor(model):
    """Build the core Predictor for ``model`` and warm it up (first calls are slower)."""
    from digitpad.core.inference import Predictor

    predictor = Predictor(model)
    probe = np.zeros((28, 28), dtype=np.float32)
    probe[8:20, 13:15] = 1.0
    for _ in range(3):
        predictor.predict_one(probe)
    return predictor


def _load_file_job(request: int, path: str) -> ModelReady:
    from digitpad.core.modelfile import load_model

    loaded = load_model(path)
    predictor = make_predictor(loaded.model)
    return ModelReady(
        request=request,
        predictor=predictor,
        name=loaded.name or Path(path).stem,
        metadata=dict(loaded.metadata or {}),
        path=str(loaded.path),
        adaptations=list(loaded.adaptations or []),
        model=loaded.model,
    )


def _predictor_job(request: int, model, name: str, metadata: dict | None, path: str | None) -> ModelReady:
    predictor = make_predictor(model)
    return ModelReady(
        request=request, predictor=predictor, name=name, metadata=dict(metadata or {}),
        path=path, model=model,
    )


@dataclass
class ModelFailed:
    """A request that failed, with its one-sentence reason."""

    request: int
    what: str
    message: str


def _guarded(func, request: int, what: str, *args) -> ModelReady | ModelFailed:
    """Run a job; any exception becomes a :class:`ModelFailed` (so the GUI always hears back)."""
    try:
        return func(request, *args)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message, never a crash
        return ModelFailed(request, what, error_sentence(exc, what))


def error_sentence(exc: BaseException, what: str) -> str:
    """One clear sentence for an exception raised while loading ``what``."""
    if isinstance(exc, DigitpadError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{what} could not be loaded: {text}"


def tensorflow_loaded() -> bool:
    """True once TensorFlow has been imported in this process."""
    return "tensorflow" in sys.modules


class ModelLoader(QObject):
    """Runs model loading / predictor building in workers and reports on the GUI thread.

    Signals
    -------
    ready(ModelReady)
        The newest request finished.
    failed(str, str)
        The newest request failed: (what was being loaded, one-sentence reason).
    """

    ready = Signal(object)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        collect_on_gui_thread()  # no cyclic GC (and so no Qt destructors) in worker threads
        self._request = 0
        self._workers: dict[int, tuple[object, str]] = {}

    def busy(self) -> bool:
        """True while a request is running."""
        return bool(self._workers)

    def load_file(self, path: str) -> int:
        """Load a model file (``.keras``/``.h5``) and build its predictor in a worker."""
        return self._start(_load_file_job, str(path), what=Path(path).name)

    def use_model(self, model, name: str, metadata: dict | None = None, path: str | None = None) -> int:
        """Build the predictor of an in-memory Keras model in a worker."""
        return self._start(_predictor_job, model, name, metadata, path, what=name)

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Wait for the running workers (used on close). Returns False on timeout."""
        return QThreadPool.globalInstance().waitForDone(timeout_ms) if self._workers else True

    def _start(self, func, *args, what: str) -> int:
        self._request += 1
        request = self._request
        worker = create_worker(_guarded, func, request, what, *args, _start_thread=False)
        worker.returned.connect(self._on_returned)
        self._workers[request] = (worker, what)
        worker.start()
        return request

    @Slot(object)
    def _on_returned(self, result: ModelReady | ModelFailed) -> None:
        self._workers.pop(result.request, None)
        if result.request != self._request:
            return  # superseded by a newer request
        if isinstance(result, ModelFailed):
            self.failed.emit(result.what, result.message)
        else:
            self.ready.emit(result)
