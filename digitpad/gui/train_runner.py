"""Runs the Train tab's training session in the background: start, continue, stop.

:class:`SessionRunner` is a small QObject around one core
:class:`~digitpad.core.training.session.TrainingSession`. Each run (the first, or a Continue)
is one low-priority task of the app's :class:`~digitpad.gui.tasks.TaskRunner`, with
``stop=session.request_stop``; the runner delivers the throttled ``Progress`` reports, the
``TrainResult`` or the failure on the GUI thread and this object re-emits them as signals.
The session records every run in the run history itself.

Starting from a saved model loads that file first, as an ordinary task; a Stop pressed while it
loads cancels the run before it begins. Nothing here touches widgets.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Signal

from digitpad.gui.tasks import Task, TaskRunner


def _load_base_model(path: str) -> Any:
    """Worker: the Keras model saved at ``path`` (safe load; a bad file raises ModelFileError)."""
    from digitpad.core.modelfile import load_model

    return load_model(path).model


def _run(session: Any, epochs: int | None, sources: list | None, report: Any) -> Any:
    """Worker: one run of ``session`` (``epochs`` None: the first run) reporting to ``report``.

    ``sources`` (several data sources, e.g. MNIST and the personal drawings) are loaded first,
    as ``digitpad train --data A --data B`` loads them, unless the session has its data already.
    """
    if session.dataset is None and session.trainer is None:
        from digitpad.core.data.combine import several_sources

        session.dataset = several_sources(sources)
    session.on_progress = report
    return session.run() if epochs is None else session.continue_training(epochs)


class SessionRunner(QObject):
    """Drives one training session through a TaskRunner (see module docstring).

    Signals
    -------
    running_changed(bool)
        A run (including the loading of its base model) began or ended.
    progress(list)
        A throttled list of core ``Progress`` reports.
    finished(object)
        The run's ``TrainResult`` (completed, stopped or diverged).
    failed(str)
        The run could not run (bad data, broken base model, engine failure): one sentence.
    """

    running_changed = Signal(bool)
    progress = Signal(list)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._task: Task | None = None
        self._loading: Task | None = None
        self._cancelled = False
        self._sources: list | None = None
        self.session: Any = None

    # ---------------------------------------------------------------- state
    def is_running(self) -> bool:
        """True from :meth:`start`/:meth:`continue_training` until the run's result arrived."""
        return self._task is not None or self._loading is not None

    def can_continue(self) -> bool:
        """True when a session exists whose model can be trained further."""
        return self.session is not None and not self.is_running() and self.session.result is not None

    @property
    def result(self) -> Any:
        """The session's last ``TrainResult`` (None before its first run)."""
        return self.session.result if self.session is not None else None

    # ---------------------------------------------------------------- actions
    def start(self, config: Any, base_model: str | None = None,
              sources: list | None = None) -> bool:
        """Start a new session with ``config`` (from the model saved at ``base_model``, if given).

        ``sources``: several data sources loaded and joined in the worker (``None`` = bundled
        MNIST); a single source (or none) leaves the loading to the session (``config.data``).

        Returns False (and does nothing) while a run is in progress. A bad config raises
        ``TrainingError`` here, before anything starts.
        """
        if self.is_running():
            return False
        from digitpad.core.training import TrainingSession

        self._sources = list(sources) if sources is not None else None
        if base_model is None:
            self.session = TrainingSession(config)
            self._launch(None)
            self.running_changed.emit(True)
            return True
        config.resolved()  # a bad form value is reported now, not after the model file has loaded
        self.session = None
        self._cancelled = False
        self._loading = self._runner.start(
            _load_base_model, str(base_model), name="digitpad-base-model",
            on_done=partial(self._on_base_loaded, config),
            on_error=self._on_base_failed,
        )
        self.running_changed.emit(True)
        return True

    def continue_training(self, epochs: int) -> bool:
        """Train the session's model ``epochs`` more epochs; False when that is not possible now."""
        if not self.can_continue():
            return False
        self._launch(int(epochs))
        self.running_changed.emit(True)
        return True

    def request_stop(self) -> bool:
        """Ask the run to stop after the batch in flight; True when a stop was newly requested."""
        if self._loading is not None:
            first = not self._cancelled
            self._cancelled = True
            return first
        if self._task is None or self.session.stop_requested:
            return False
        self.session.request_stop()
        return True

    # ------------------------------------------------------------- internals
    def _launch(self, epochs: int | None) -> None:
        session = self.session
        self._task = self._runner.start(
            _run, session, epochs, self._sources, name="digitpad-train", low_priority=True,
            stop=session.request_stop, on_progress=self._on_progress,
            on_done=self._on_done, on_error=self._on_error, on_finished=self._on_run_finished,
        )

    # callbacks are this object's methods: the runner drops them once it has been deleted
    def _on_progress(self, reports: list) -> None:
        self.progress.emit(reports)

    def _on_done(self, result: Any) -> None:
        self.finished.emit(result)

    def _on_error(self, reason: str) -> None:
        self.failed.emit(reason)

    def _on_base_loaded(self, config: Any, model: Any) -> None:
        from digitpad.core.training import TrainingSession

        self._loading = None
        self.session = TrainingSession(config, model=model)
        if self._cancelled:
            self.session.request_stop()  # the run begins and ends at once: a stopped result
        self._launch(None)

    def _on_base_failed(self, reason: str) -> None:
        self._loading = None
        self.failed.emit(reason)
        self.running_changed.emit(False)

    def _on_run_finished(self) -> None:
        self._task = None
        self.running_changed.emit(False)
