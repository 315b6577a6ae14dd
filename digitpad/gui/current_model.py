"""The one owner of the model in use: :class:`CurrentModel` (file, metadata, predictor, saved state).

Recognize, Train and every later tab observe it instead of keeping their own copies. Loading a
file, building a predictor and saving run as tasks of a :class:`~digitpad.gui.tasks.TaskRunner`;
the results arrive on the GUI thread. A newer ``load_file``/``use`` supersedes one still running
(its late result is dropped); a failure keeps the previous entry.

Usage::

    current = CurrentModel(shared_runner())
    current.changed.connect(self._show_model)          # entry replaced, or its path/saved changed
    current.failed.connect(lambda title, why: ...)     # the previous entry is kept
    current.load_file("mine.keras")                    # worker: safe load + predictor

    # the Train tab hands over a copy of its model; a later save of the same run (same key)
    # marks the entry saved too
    current.use(copy, "fast", metadata, path=None, saved=False, key=run_key)
    current.save("/tmp/fast.keras", model, metadata, key=run_key)   # -> saved(path), changed

    current.predictor, current.name, current.path, current.metadata, current.is_saved
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from digitpad.core.errors import DigitpadError, ModelFileError
from digitpad.gui.tasks import TaskRunner, shared_runner

#: Titles of :attr:`CurrentModel.failed` (what failed), for the window's dialogs.
LOAD_FAILED = "Cannot open model"
USE_FAILED = "Cannot use model"
SAVE_FAILED = "Save failed"


@dataclass
class ModelEntry:
    """The model in use and what the GUI shows about it."""

    model: Any                  # Keras model (adapted, ready for inference)
    predictor: Any              # digitpad.core.inference.Predictor
    name: str                   # display name
    metadata: dict              # digitpad metadata (may be {})
    path: str | None            # file it was loaded from or last saved to
    saved: bool                 # True when the file at `path` holds exactly this model
    key: object | None = None   # identity of its origin (e.g. the training run)
    adaptations: list[str] = field(default_factory=list)


def tensorflow_loaded() -> bool:
    """True once TensorFlow has been imported in this process."""
    return "tensorflow" in sys.modules


def make_predictor(model: Any, metadata: dict | None = None) -> Any:
    """Build the core Predictor for ``model`` and warm it up (first calls are slower).

    ``model`` is a Keras model or a ``LoadedModel``; the calibration temperature stored in
    ``metadata`` (or in the ``LoadedModel``'s own) is applied to every probability shown.
    """
    from digitpad.core.calibration import temperature_from_metadata
    from digitpad.core.inference import Predictor

    temperature = temperature_from_metadata(metadata) if metadata else None
    predictor = Predictor(model, temperature=temperature)
    probe = np.zeros((28, 28), dtype=np.float32)
    probe[8:20, 13:15] = 1.0
    for _ in range(3):
        predictor.predict_one(probe)
    return predictor


def _load_file_job(path: str) -> ModelEntry:
    """Worker: safe load of a model file and its predictor."""
    from digitpad.core.modelfile import load_model

    try:
        loaded = load_model(path)
        predictor = make_predictor(loaded)
    except DigitpadError:
        raise
    except Exception as exc:  # noqa: BLE001 - one sentence naming the file
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(f"{Path(path).name} could not be loaded: {text}") from exc
    return ModelEntry(
        model=loaded.model, predictor=predictor, name=loaded.name or Path(path).stem,
        metadata=dict(loaded.metadata or {}), path=str(loaded.path), saved=True,
        adaptations=list(loaded.adaptations or []),
    )


def _use_job(entry: ModelEntry) -> ModelEntry:
    """Worker: build the predictor of an in-memory model."""
    return replace(entry, predictor=make_predictor(entry.model, entry.metadata))


def _save_job(model: Any, path: str, metadata: dict | None) -> str:
    """Worker: atomic save (``core.modelfile.save_model``); returns the path written."""
    from digitpad.core.modelfile import save_model

    return str(save_model(model, path, metadata=metadata))


class CurrentModel(QObject):
    """The model in use, observed by the tabs.

    Signals
    -------
    changed()
        The entry was replaced, or its path / saved state changed.
    busy_changed(bool)
        A load, predictor build or save started (True) or the last one ended (False).
    failed(str, str)
        (title, one-sentence reason); the previous entry is kept.
    saved(str)
        A save through :meth:`save` finished; the path written.
    """

    changed = Signal()
    busy_changed = Signal(bool)
    failed = Signal(str, str)
    saved = Signal(str)

    def __init__(self, runner: TaskRunner | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner if runner is not None else shared_runner()
        self._entry: ModelEntry | None = None
        self._request = 0       # newest load/use request; older results are dropped
        self._running = 0       # tasks of this object not finished yet

    # --------------------------------------------------------------- reading
    @property
    def entry(self) -> ModelEntry | None:
        """The model in use, or None while none is ready."""
        return self._entry

    @property
    def predictor(self) -> Any:
        return self._entry.predictor if self._entry is not None else None

    @property
    def model(self) -> Any:
        return self._entry.model if self._entry is not None else None

    @property
    def name(self) -> str | None:
        return self._entry.name if self._entry is not None else None

    @property
    def path(self) -> str | None:
        return self._entry.path if self._entry is not None else None

    @property
    def metadata(self) -> dict:
        return dict(self._entry.metadata) if self._entry is not None else {}

    @property
    def is_saved(self) -> bool:
        """True when the entry's file holds exactly the model in use."""
        return self._entry is not None and self._entry.path is not None and self._entry.saved

    @property
    def busy(self) -> bool:
        """True while a load, predictor build or save of this object runs."""
        return self._running > 0

    @property
    def runner(self) -> TaskRunner:
        return self._runner

    # --------------------------------------------------------------- changing
    def load_file(self, path: str) -> None:
        """Load a model file safely and build its predictor in a worker; then ``changed``."""
        path = str(path)
        self._start(_load_file_job, path, name="load-model", title=LOAD_FAILED, request=True)

    def use(self, model: Any, name: str, metadata: dict, *, path: str | None = None,
            saved: bool = False, key: object | None = None) -> None:
        """Use an in-memory Keras model (adapted, softmax, input (28,28,1)); then ``changed``."""
        entry = ModelEntry(
            model=model, predictor=None, name=name, metadata=dict(metadata or {}),
            path=str(path) if path else None, saved=bool(saved and path), key=key,
        )
        self._start(_use_job, entry, name="prepare-model", title=USE_FAILED, request=True)

    def save(self, path: str, model: Any = None, metadata: dict | None = None, *,
             key: object | None = None) -> None:
        """Save ``model`` (default: the current entry's, with its metadata) in a worker.

        On success ``saved(path)`` is emitted; the current entry, if it is that model or has
        that ``key``, gets ``path``/``saved=True`` and ``changed`` is emitted. On failure
        ``failed("Save failed", sentence)``.
        """
        entry = self._entry
        if model is None:
            if entry is None:
                self.failed.emit(SAVE_FAILED, "There is no model to save.")
                return
            model = entry.model
            metadata = entry.metadata if metadata is None else metadata
            key = entry.key if key is None else key
        self._start(_save_job, model, str(path), dict(metadata or {}), name="save-model",
                    title=SAVE_FAILED, on_done=partial(self._on_saved, model, key))

    def mark_unsaved(self, key: object) -> None:
        """The model of origin ``key`` changed (e.g. trained further): the entry is unsaved."""
        entry = self._entry
        if entry is not None and key is not None and entry.key == key and entry.saved:
            entry.saved = False
            self.changed.emit()

    # ------------------------------------------------------------- internals
    def _start(self, fn, *args, name: str, title: str, request: bool = False,
               on_done=None) -> None:
        number = None
        if request:
            self._request += 1
            number = self._request
            on_done = partial(self._on_entry, number)
        on_error = partial(self._on_failed, title, number)
        self._running += 1
        if self._running == 1:
            self.busy_changed.emit(True)
        self._runner.start(fn, *args, name=name, on_done=on_done, on_error=on_error,
                           on_finished=self._on_task_finished)

    def _on_entry(self, number: int, entry: ModelEntry) -> None:
        if number != self._request:
            return  # superseded by a newer request
        self._entry = entry
        self.changed.emit()

    def _on_failed(self, title: str, number: int | None, reason: str) -> None:
        if number is not None and number != self._request:
            return
        self.failed.emit(title, reason)

    def _on_saved(self, model: Any, key: object | None, path: str) -> None:
        entry = self._entry
        updated = entry is not None and (
            entry.model is model or (key is not None and entry.key == key)
        )
        if updated:
            entry.path = path
            entry.saved = True
        self.saved.emit(path)
        if updated:
            self.changed.emit()

    def _on_task_finished(self) -> None:
        self._running -= 1
        if self._running == 0:
            self.busy_changed.emit(False)
