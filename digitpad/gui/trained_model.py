"""The Train tab's trained model: is it usable, is it saved, and Save / Use in Recognize.

The model itself stays in the training session. :class:`TrainedModel` gives each finished run's
weights a new key and hands them to the app's
:class:`~digitpad.gui.current_model.CurrentModel`: *Save* calls ``current.save(path, model,
metadata, key=key)``, *Use in Recognize* ``current.use(copy, name, metadata, path=..., saved=...,
key=key)``. A copy in use and the tab therefore share the saved state of the same weights: saving
either marks both saved, and training further gives new weights a new, unsaved key.
"""

from __future__ import annotations

import datetime as _dt
import math
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from digitpad.gui.current_model import CurrentModel
from digitpad.gui.tasks import TaskRunner

SAVE_FAILED = "Save failed"  # CurrentModel.failed's title for a failed save


class TrainedModel(QObject):
    """The last run's model and its saved state (see module docstring).

    Signals
    -------
    changed()
        Usable, saving or saved state changed (the tab updates its buttons).
    saved(str)
        A save started here finished; the path written.
    save_failed(str)
        A save started here failed; one sentence for the user.
    used(str)
        A copy is now the current model; its display name.
    use_failed(str)
        The copy for Recognize could not be made; one sentence.
    """

    changed = Signal()
    saved = Signal(str)
    save_failed = Signal(str)
    used = Signal(str)
    use_failed = Signal(str)

    def __init__(self, runner: TaskRunner, current: CurrentModel, parent: QObject | None = None):
        super().__init__(parent)
        self._runner = runner
        self.current = current
        self.result: Any = None
        self.key: object | None = None          # identity of the weights of the last run
        self.saved_path: str | None = None      # where these weights are saved
        self.saving: str | None = None          # path of the save in flight
        self.copying = False
        current.saved.connect(self._on_saved)
        current.failed.connect(self._on_failed)
        current.changed.connect(self._on_current_changed)

    @property
    def model(self) -> Any:
        """The trained Keras model, or None when the last run left none worth keeping."""
        return self.result.model if self.key is not None else None

    @property
    def is_saved(self) -> bool:
        return self.key is not None and self.saved_path is not None

    def set_result(self, result: Any) -> None:
        """A run finished (None: it failed or a new one starts). New weights are not saved anywhere.

        A run leaves a usable model when it completed or was stopped, or when it diverged after
        at least one whole epoch (the weights of the last good epoch are kept).
        """
        self.result = result
        status = str(getattr(getattr(result, "status", None), "value", "")) if result is not None else ""
        usable = result is not None and result.model is not None and (
            status in ("completed", "stopped") or int(result.epochs_done or 0) > 0)
        self.key = object() if usable else None
        self.saved_path = None
        self.changed.emit()

    def save(self, path: str) -> None:
        """Save the model to ``path`` in a worker (``saved`` or ``save_failed`` follows)."""
        if self.model is None:
            return
        self.saving = str(path)
        self.current.save(self.saving, self.model, _metadata(self.result), key=self.key)
        self.changed.emit()

    def use(self) -> None:
        """Make a copy (in a worker) the current model; ``used`` or ``use_failed`` follows."""
        model = self.model
        if model is None or self.copying:
            return
        result = self.result
        acc = result.test_accuracy
        name = f"{result.config.arch} (trained {_dt.datetime.now():%H:%M}" + (
            f", test {100 * acc:.2f} %)" if acc is not None and math.isfinite(acc) else ")")
        self.copying = True
        self.changed.emit()
        self._runner.start(_inference_copy, model, name="digitpad-clone",
                           on_done=partial(self._use_copy, name, _metadata(result), self.key),
                           on_error=self._on_copy_failed, on_finished=self._on_copied)

    # ------------------------------------------------------------- callbacks
    def _use_copy(self, name: str, metadata: dict, key: object, copy: Any) -> None:
        path = self.saved_path if key is self.key else None  # saved meanwhile: the copy is too
        self.current.use(copy, name, metadata, path=path, saved=path is not None, key=key)
        self.used.emit(name)

    def _on_copy_failed(self, reason: str) -> None:
        self.use_failed.emit(reason)

    def _on_copied(self) -> None:
        self.copying = False
        self.changed.emit()

    def _on_saved(self, path: str) -> None:
        if self.saving is None or Path(path).resolve() != Path(self.saving).resolve():
            return  # another model's save
        self.saving = None
        self.saved_path = path
        self.changed.emit()
        self.saved.emit(path)

    def _on_failed(self, title: str, reason: str) -> None:
        if self.saving is None or title != SAVE_FAILED:
            return
        self.saving = None
        self.changed.emit()
        self.save_failed.emit(f"{reason} The model is still in memory.")

    def _on_current_changed(self) -> None:
        entry = self.current.entry  # a copy of these weights saved from elsewhere: saved here too
        if entry is not None and self.key is not None and entry.key is self.key and entry.saved:
            self.saved_path = entry.path
            self.changed.emit()


def _metadata(result: Any) -> dict:
    meta = result.metadata() if result is not None else {}
    return dict(meta) if isinstance(meta, dict) else {}


def _inference_copy(model: Any) -> Any:
    """Worker: a copy of ``model`` for Recognize, same weights, input (28, 28, 1)."""
    from digitpad.core.tfsetup import keras

    k = keras()
    clone = k.models.clone_model(model)
    clone.set_weights(model.get_weights())
    shape = tuple(clone.input_shape[1:])
    if shape != (28, 28, 1):
        inputs = k.Input(shape=(28, 28, 1), name="image")
        x = k.layers.Reshape(shape)(inputs)
        clone = k.Model(inputs, clone(x), name=f"{model.name}_28x28")
    return clone
