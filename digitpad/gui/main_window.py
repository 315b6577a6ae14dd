"""The main window: Recognize, Train, Evaluate and Model tabs over one CurrentModel and runner.

The window owns no model state: the model in use is :attr:`MainWindow.current`
(:class:`~digitpad.gui.current_model.CurrentModel`), background work goes through
:attr:`MainWindow.runner` (:func:`~digitpad.gui.tasks.shared_runner`). Menus and actions are built
by :mod:`digitpad.gui.actions`, file suffixes, dialogs and drops come from
:mod:`digitpad.gui.file_open`. Status-bar messages belong to a tab: switching tabs shows that
tab's last message (or none), so one tab's news never lingers over the other.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QMessageBox, QTabWidget, QWidget

import digitpad.gui.qtcompat  # noqa: F401  (PySide6 emit() refcount work-around)
from digitpad.core.images import load_image
from digitpad.core.paths import bundled_model_path
from digitpad.gui.actions import MNIST_ATTRIBUTION, about_html, build_menus, fill_recent_menu
from digitpad.gui.current_model import SAVE_FAILED, CurrentModel, tensorflow_loaded
from digitpad.gui.file_open import ask_open_path, ask_save_path, dropped_file, is_model_path
from digitpad.gui.insight_tabs import add_insight_tabs
from digitpad.gui.recognize_tab import RecognizeTab
from digitpad.gui.settings import (
    add_recent_file,
    app_settings,
    clear_recent_files,
    recent_files,
    restore_window_state,
    save_window_state,
)
from digitpad.gui.tab_status import TabStatus
from digitpad.gui.tasks import TaskRunner, shared_runner
from digitpad.gui.train_tab import TrainTab

__all__ = ["MNIST_ATTRIBUTION", "MainWindow", "window_title"]

APP_TITLE = "digitpad"


def window_title(training: bool) -> str:
    """The window title. It ends with the application's display name, so Qt appends nothing."""
    return f"Training… — {APP_TITLE}" if training else APP_TITLE


class MainWindow(QMainWindow):
    """digitpad's main window.

    Signals
    -------
    model_ready(str)
        A new model is ready and in use; the argument is its display name.
    model_failed(str)
        Loading a model failed; the argument is the one-sentence reason.
    image_opened(str)
        An image file was opened, shown on the pad and recognised.
    """

    model_ready = Signal(str)
    model_failed = Signal(str)
    image_opened = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, runner: TaskRunner | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(window_title(False))
        self.setAcceptDrops(True)
        self._settings = app_settings()
        self.runner = runner if runner is not None else shared_runner()
        self.current = CurrentModel(self.runner, self)
        self.last_error: tuple[str, str] | None = None
        self._shown_entry = None      # the entry model_ready was last emitted for
        self._startup_load = False    # the running load is the start-up one: no dialog on failure
        self._user_path: str | None = None  # a file the user opened: goes to the recent list
        self._image_request = 0
        self._closing = False
        self._close_when_stopped = False
        self._close_after_save = False

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.recognize_tab = RecognizeTab(current=self.current)
        self.train_tab = TrainTab(runner=self.runner, current=self.current)
        self.tabs.addTab(self.recognize_tab, "Recognize")
        self.tabs.addTab(self.train_tab, "Train")
        self.tabs.setTabToolTip(0, "Draw a digit and see what the model thinks (Ctrl+1)")
        self.tabs.setTabToolTip(1, "Train a network on MNIST and watch it learn (Ctrl+2)")
        add_insight_tabs(self)  # Evaluate and Model
        self.setCentralWidget(self.tabs)
        self.status = TabStatus(self.statusBar(), self.tabs, self.recognize_tab)
        self.current.changed.connect(self._on_model_changed)
        self.current.failed.connect(self._on_model_failed)
        self.current.saved.connect(self._on_model_saved)
        self.train_tab.use_model_requested.connect(self._on_use_model_requested)
        self.train_tab.status_message.connect(self._on_train_status)
        self.train_tab.training_state_changed.connect(self._on_training_state)
        self.tabs.currentChanged.connect(self._on_tab_changed)

        build_menus(self)
        restore_window_state(self, self._settings)
        self.recognize_tab.preview.steps_toggled.connect(self._on_steps_toggled)
        self._on_tab_changed(self.tabs.currentIndex())

    # ------------------------------------------------------------ public API
    def current_model_name(self) -> str | None:
        """Display name of the model in use, or None while none is ready."""
        return self.current.name if self.current.predictor is not None else None

    def load_startup_model(self) -> None:
        """Load the last used model if it still exists, else the bundled one (in a worker)."""
        last = self._settings.value("model/last", "", type=str)
        path = Path(last) if last else None
        if path is None or not path.is_file():
            path = bundled_model_path()
        if not path.is_file():
            text = (
                f"No model: the bundled model {path.name} is missing — open one with "
                "File → Open Model… or train one in the Train tab."
            )
            self.recognize_tab.set_no_model(text)  # said once: the Recognize tab's headline
            self.status.say("")
            self.model_failed.emit(text)
            return
        self._load(str(path), startup=True)

    def open_model(self, path: str) -> None:
        """Load a model file in a worker; on success it replaces the model in use.

        A refused file is reported with :meth:`_show_error`; the model in use is kept.
        """
        self._load(str(path), startup=False)

    def use_model(self, model, name: str, metadata: dict | None = None, path: str | None = None) -> None:
        """Use an in-memory Keras model (adapted, softmax, input (28,28,1)) in the Recognize tab."""
        self.status.say(f"Preparing model {name}…")
        self.current.use(model, name, dict(metadata or {}), path=path, saved=path is not None)

    def open_image(self, path: str) -> None:
        """Read an image file in a worker, show it on the pad and recognise the file's own array."""
        self._image_request += 1
        self.status.say(f"Reading {Path(path).name}…")
        self.runner.start(
            load_image, str(path), name="open-image",
            on_done=partial(self._on_image_loaded, self._image_request, str(path)),
            on_error=partial(self._on_image_failed, self._image_request, str(path)),
        )

    def open_path(self, path: str) -> None:
        """Open a model file or an image, chosen by its suffix."""
        if is_model_path(path):
            self.open_model(path)
        else:
            self.open_image(path)

    def about_text(self) -> str:
        """The About box's text (HTML)."""
        return about_html()

    # --------------------------------------------------------------- models
    def _load(self, path: str, *, startup: bool) -> None:
        self._startup_load = startup
        self._user_path = None if startup else path
        text = f"Loading model {Path(path).name}…" if tensorflow_loaded() else "Loading TensorFlow…"
        if self.current.predictor is None:
            self.recognize_tab.set_no_model(text)  # said once: the Recognize tab's headline
            self.status.say("")
        else:
            self.status.say(text)
        self.current.load_file(path)

    @Slot()
    def _on_model_changed(self) -> None:
        entry = self.current.entry
        if self._closing or entry is None:
            return
        self.train_further_action.setEnabled(bool(entry.path))
        if entry.path and entry.saved:
            self._settings.setValue("model/last", entry.path)
        if entry is self._shown_entry:
            return  # only its path / saved state changed
        self._shown_entry = entry
        self._startup_load = False
        if self._user_path is not None and entry.path == self._user_path:
            add_recent_file(entry.path, self._settings)
        self._user_path = None
        message = f"Model ready: {entry.name}"
        if entry.adaptations:
            message += " (adapted: " + "; ".join(entry.adaptations) + ")"
        self.status.say(message)
        self.model_ready.emit(entry.name)

    @Slot(str, str)
    def _on_model_failed(self, title: str, reason: str) -> None:
        if self._closing:
            return
        if title == SAVE_FAILED:
            self._close_after_save = False
            self.status.say("The model was not saved.")
            self._show_error(title, reason)
            return
        startup, self._startup_load, self._user_path = self._startup_load, False, None
        name = self.current_model_name()
        if name is not None:
            self.status.say(f"The model was not opened; still using {name}.")
        else:
            self.recognize_tab.set_no_model(f"No model: {reason}")
            self.status.say("")
        if not startup:
            self._show_error(title, reason)
        self.model_failed.emit(reason)

    @Slot(str)
    def _on_model_saved(self, path: str) -> None:
        add_recent_file(path, self._settings)
        self.status.say(f"Saved {Path(path).name}")
        if self._close_after_save:
            self._close_after_save = False
            QTimer.singleShot(0, self.close)

    @Slot()
    def _save_model(self) -> None:
        """File → Save Model… (Ctrl+S): the Train tab's model when that tab is shown, else the one in use."""
        tab = self.train_tab
        if self.tabs.currentWidget() is tab and tab.has_model():
            tab.save_model_interactive()
            return
        entry = self.current.entry
        if entry is None:
            self.status.say("Nothing to save: no model is in use yet.")
            return
        stem = Path(entry.path).stem if entry.path else "digitpad-" + (
            re.sub(r"\W+", "-", entry.name).strip("-") or "model")
        path = ask_save_path(self, self._settings, f"{stem}.keras")
        if path:
            self.status.say(f"Saving {Path(path).name}…")
            self.current.save(path)

    @Slot()
    def _train_current_further(self) -> None:
        """Put the model in use (its file) in the Train tab as the start of the next run."""
        path = self.current.path
        if not path:
            return
        self.train_tab.set_base_model(path)
        self.tabs.setCurrentWidget(self.train_tab)
        self.status.say(f"The next run continues {Path(path).name}; press Start.", self.train_tab)

    # --------------------------------------------------------------- images
    def _on_image_loaded(self, request: int, path: str, arr: np.ndarray) -> None:
        if self._closing or request != self._image_request:
            return  # window closing, or a newer image was asked for meanwhile
        self.tabs.setCurrentWidget(self.recognize_tab)
        try:
            self.recognize_tab.show_image(arr)
        except ValueError:
            self._show_error("Cannot open image", f"{Path(path).name} holds no picture.")
            return
        self.status.say(f"Opened image {Path(path).name}")
        self.image_opened.emit(path)

    def _on_image_failed(self, request: int, path: str, reason: str) -> None:
        if self._closing or request != self._image_request:
            return
        self.status.say(f"{Path(path).name} was not opened.")
        self._show_error("Cannot open image", reason)

    # ---------------------------------------------------------------- slots
    @Slot(str)
    def _on_use_model_requested(self, name: str) -> None:
        """The Train tab has handed a copy of its model to ``current``: show Recognize."""
        self.tabs.setCurrentWidget(self.recognize_tab)
        self.status.say(f"Preparing model {name}…")

    @Slot(str)
    def _on_train_status(self, text: str) -> None:
        self.status.say(text, self.train_tab)

    @Slot(bool)
    def _on_training_state(self, running: bool) -> None:
        self.setWindowTitle(window_title(running))
        if not running and self._close_when_stopped:
            self._close_when_stopped = False
            QTimer.singleShot(0, self.close)

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        tab = self.tabs.widget(index)
        for action in (self.undo_action, self.redo_action, self.clear_action):
            action.setEnabled(tab is self.recognize_tab)

    @Slot()
    def _toggle_steps(self) -> None:
        self.recognize_tab.preview.set_steps_visible(self.show_steps_action.isChecked())

    @Slot(bool)
    def _on_steps_toggled(self, visible: bool) -> None:
        self.show_steps_action.setChecked(visible)
        self._settings.setValue("view/steps", bool(visible))

    @Slot()
    def _open_model_dialog(self) -> None:
        path = ask_open_path(self, self._settings, "model")
        if path:
            self.open_model(path)

    @Slot()
    def _open_image_dialog(self) -> None:
        path = ask_open_path(self, self._settings, "image")
        if path:
            self.open_image(path)

    @Slot()
    def _fill_recent_menu(self) -> None:
        fill_recent_menu(self.recent_menu, recent_files(self._settings), self.open_model,
                         partial(clear_recent_files, self._settings))

    @Slot()
    def _show_about(self) -> None:
        QMessageBox.about(self, "About digitpad", self.about_text())

    # -------------------------------------------------------- dialog hooks
    def _show_error(self, title: str, text: str) -> None:
        """Tell the user something failed (tests replace this)."""
        self.last_error = (title, text)
        QMessageBox.warning(self, title, text)

    def _ask(self, title: str, text: str, buttons, default) -> QMessageBox.StandardButton:
        """Ask a question (tests replace this). ``Yes`` is labelled 'Stop and Quit'."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, self)
        box.setDefaultButton(default)
        yes = box.button(QMessageBox.StandardButton.Yes)
        if yes is not None:
            yes.setText("Stop and Quit")
        return QMessageBox.StandardButton(box.exec())

    # ------------------------------------------------------- drag and drop
    def dragEnterEvent(self, event) -> None:
        if dropped_file(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        path = dropped_file(event.mimeData())
        if not path:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(path)

    # -------------------------------------------------------- settings/close
    def save_settings(self) -> None:
        """Write window geometry, state and tab to the settings file."""
        save_window_state(self, self._settings)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask about a running training and an unsaved model; nothing here blocks or spins.

        "Stop and Quit" requests the stop and closes again once training has ended; "Save"
        starts the save and closes again when ``current.saved`` arrives. The workers still
        running are awaited on ``QApplication.aboutToQuit`` (gui/app.py).
        """
        tab = self.train_tab
        buttons = QMessageBox.StandardButton
        if tab.is_training():
            answer = self._ask(
                "Quit digitpad", "Training is running. Stop it and quit?",
                buttons.Yes | buttons.Cancel, buttons.Cancel,
            )
            if answer == buttons.Yes:
                self._close_when_stopped = True
                tab.request_stop()
                self.status.say("Stopping training…", self.tabs.currentWidget())
            event.ignore()
            return
        if tab.has_unsaved_model():
            answer = self._ask(
                "Quit digitpad", "The trained model has not been saved. Save it before quitting?",
                buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save,
            )
            if answer == buttons.Cancel or (answer == buttons.Save and not tab.save_model_interactive()):
                event.ignore()
                return
            if answer == buttons.Save and self.current.busy:
                self._close_after_save = True  # closes on current.saved; stays open if it fails
                event.ignore()
                return
        self._closing = True
        tab.shutdown()
        self.runner.stop_all()
        self.save_settings()
        event.accept()
