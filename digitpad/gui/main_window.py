"""The main window: Recognize and Train tabs, menus, status bar, drag and drop, close handling."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, Qt, QThreadPool, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

import digitpad.gui.qtcompat  # noqa: F401  (PySide6 emit() refcount work-around)
from digitpad.core.errors import DigitpadError
from digitpad.core.paths import bundled_model_path
from digitpad.gui.model_loader import ModelLoader, ModelReady, tensorflow_loaded
from digitpad.gui.recognize_tab import RecognizeTab
from digitpad.gui.settings import add_recent_file, app_settings, recent_files

try:  # the Train tab is written in parallel; keep the app usable if it is missing
    from digitpad.gui.train_tab import TrainTab

    _TRAIN_TAB_ERROR: str | None = None
except ImportError as _exc:  # pragma: no cover - only while train_tab.py does not exist
    TrainTab = None
    _TRAIN_TAB_ERROR = str(_exc)

MODEL_SUFFIXES = {".keras", ".h5", ".hdf5"}
IMAGE_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm",
    ".pbm", ".pnm", ".ico", ".tga",
}
MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"
IMAGE_FILTER = (
    "Images (" + " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES)) + ");;All files (*)"
)
MNIST_ATTRIBUTION = (
    "MNIST by Yann LeCun, Corinna Cortes and Christopher J. C. Burges, CC BY-SA 3.0"
)


def _load_image_job(token: int, path: str) -> tuple[int, str, np.ndarray | None, str | None]:
    """Worker: read an image file; errors become a one-sentence message."""
    from digitpad.core.images import load_image

    try:
        return token, path, load_image(path), None
    except DigitpadError as exc:
        return token, path, None, str(exc)
    except Exception as exc:  # noqa: BLE001 - a message, never a crash
        return token, path, None, f"{Path(path).name} could not be read as an image: {exc}"


class _PlaceholderTrainTab(QWidget):
    """Shown only when the Train tab module cannot be imported."""

    use_model_requested = Signal(object, str, dict)
    status_message = Signal(str)
    training_state_changed = Signal(bool)

    def __init__(self, reason: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        label = QLabel(f"Training is not available in this build ({reason}).")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(label)

    def is_training(self) -> bool:
        return False

    def has_unsaved_model(self) -> bool:
        return False

    def request_stop(self) -> None:
        pass

    def wait_finished(self, timeout_ms: int = 30000) -> bool:
        return True

    def save_model_interactive(self) -> bool:
        return False

    def shutdown(self) -> None:
        pass

    def set_data_source(self, path: str) -> None:
        pass


class MainWindow(QMainWindow):
    """digitpad's main window.

    Signals
    -------
    model_ready(str)
        A predictor is ready and in use; the argument is the model's display name.
    model_failed(str)
        Loading a model failed; the argument is the one-sentence reason.
    image_opened(str)
        An image file was opened and put on the pad.
    """

    model_ready = Signal(str)
    model_failed = Signal(str)
    image_opened = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("digitpad")
        self.setAcceptDrops(True)
        self._settings = app_settings()
        self._loader = ModelLoader(self)
        self._loader.ready.connect(self._on_model_ready)
        self._loader.failed.connect(self._on_model_failed)
        self._request_info: dict[int, dict] = {}
        self._image_workers: dict[int, object] = {}
        self._image_token = 0
        self._closing = False
        self._current_model_path: str | None = None
        self.last_error: tuple[str, str] | None = None

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.recognize_tab = RecognizeTab()
        self.tabs.addTab(self.recognize_tab, "Recognize")
        if TrainTab is not None:
            self.train_tab = TrainTab()
        else:
            self.train_tab = _PlaceholderTrainTab(_TRAIN_TAB_ERROR or "missing")
        self.tabs.addTab(self.train_tab, "Train")
        self.tabs.setTabToolTip(0, "Draw a digit and see what the model thinks (Ctrl+1)")
        self.tabs.setTabToolTip(1, "Train a network on MNIST and watch it learn (Ctrl+2)")
        self.setCentralWidget(self.tabs)
        self.train_tab.use_model_requested.connect(self._on_use_model_requested)
        self.train_tab.status_message.connect(self._on_train_status)
        self.train_tab.training_state_changed.connect(self._on_training_state)
        self.tabs.currentChanged.connect(self._on_tab_changed)

        self._build_menus()
        self.statusBar().showMessage("Starting…")
        self._restore_settings()
        self.recognize_tab.preview.steps_toggled.connect(self._on_steps_toggled)
        self._on_tab_changed(self.tabs.currentIndex())

    # ------------------------------------------------------------------ menus
    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_model_action = self._action(
            "&Open Model…", self._open_model_dialog, QKeySequence.StandardKey.Open,
            "Open a Keras model file (.keras or .h5)",
        )
        file_menu.addAction(self.open_model_action)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addMenu(self.recent_menu)
        self.open_image_action = self._action(
            "Open &Image…", self._open_image_dialog, QKeySequence("Ctrl+I"),
            "Recognise a digit in an image file",
        )
        file_menu.addAction(self.open_image_action)
        file_menu.addSeparator()
        self.save_model_action = self._action(
            "&Save Model…", self._save_model, QKeySequence.StandardKey.Save,
            "Save the model trained in the Train tab (.keras or .h5)",
        )
        file_menu.addAction(self.save_model_action)
        self.train_further_action = self._action(
            "&Train This Model Further…", self._train_current_further, QKeySequence("Ctrl+T"),
            "Continue training the model in use, from its file, in the Train tab",
        )
        self.train_further_action.setEnabled(False)
        file_menu.addAction(self.train_further_action)
        file_menu.addSeparator()
        self.quit_action = self._action("&Quit", self.close, QKeySequence("Ctrl+Q"), "Quit digitpad")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        pad = self.recognize_tab.pad
        self.undo_action = self._action("&Undo Stroke", pad.undo, QKeySequence.StandardKey.Undo,
                                        "Undo the last stroke")
        self.redo_action = self._action(
            "&Redo Stroke", pad.redo,
            [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")], "Redo the stroke undone",
        )
        self.clear_action = self._action(
            "&Clear Pad", pad.clear, [QKeySequence(Qt.Key.Key_Delete), QKeySequence(Qt.Key.Key_Escape)],
            "Clear the drawing pad",
        )
        for a in (self.undo_action, self.redo_action, self.clear_action):
            edit_menu.addAction(a)

        view_menu = bar.addMenu("&View")
        self.show_steps_action = self._action(
            "Show &Normalisation Steps", self._toggle_steps, QKeySequence("Ctrl+N"),
            "Show how the drawing becomes the model's 28×28 input",
        )
        self.show_steps_action.setCheckable(True)
        view_menu.addAction(self.show_steps_action)
        view_menu.addSeparator()
        self.recognize_view_action = self._action(
            "&Recognize", lambda: self.tabs.setCurrentIndex(0), QKeySequence("Ctrl+1"))
        self.train_view_action = self._action(
            "&Train", lambda: self.tabs.setCurrentIndex(1), QKeySequence("Ctrl+2"))
        view_menu.addAction(self.recognize_view_action)
        view_menu.addAction(self.train_view_action)

        help_menu = bar.addMenu("&Help")
        self.mnist_action = self._action(
            "About &MNIST", lambda: QDesktopServices.openUrl(QUrl("https://yann.lecun.com/exdb/mnist/")),
            tip="The MNIST database of handwritten digits",
        )
        help_menu.addAction(self.mnist_action)
        self.about_action = self._action("&About digitpad", self._show_about, tip="Version and credits")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(self.about_action)

    @Slot()
    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = recent_files(self._settings)
        for path in files:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.setData(path)
            action.setEnabled(Path(path).exists())
            action.triggered.connect(self._open_recent)
        if not files:
            empty = self.recent_menu.addAction("No recent models")
            empty.setEnabled(False)
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear Menu")
        clear.setEnabled(bool(files))
        clear.triggered.connect(self._clear_recent)

    @Slot()
    def _open_recent(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and action.data():
            self.open_model(str(action.data()))

    @Slot()
    def _clear_recent(self) -> None:
        self._settings.setValue("recent/models", [])
        self._settings.sync()

    # ------------------------------------------------------------ public API
    def current_model_name(self) -> str | None:
        """Display name of the model in use, or None while none is ready."""
        return self.recognize_tab.model_name() if self.recognize_tab.predictor is not None else None

    def load_startup_model(self) -> None:
        """Load the last used model if it still exists, else the bundled one (in a worker)."""
        last = self._settings.value("model/last", "")
        path = Path(str(last)) if last else None
        if path is None or not path.is_file():
            path = bundled_model_path()
        if not path.is_file():
            text = (
                f"No model: the bundled model {path.name} is missing — open one with "
                "File → Open Model… or train one in the Train tab."
            )
            self.recognize_tab.set_no_model(text)
            self.statusBar().showMessage(text)
            self.model_failed.emit(text)
            return
        self._start_file_load(str(path), startup=True)

    def open_model(self, path: str) -> None:
        """Load a model file in a worker; on success it replaces the current model.

        A refused file is reported with :meth:`_show_error` and the current model is kept.
        """
        self._start_file_load(str(path), startup=False)

    def use_model(self, model, name: str, metadata: dict | None = None, path: str | None = None) -> None:
        """Use an in-memory Keras model (adapted, softmax, input (28,28,1)) in the Recognize tab."""
        self.statusBar().showMessage(f"Preparing model {name}…")
        request = self._loader.use_model(model, name, metadata, path)
        self._request_info[request] = {"startup": False, "recent": False, "what": name}

    def open_image(self, path: str) -> None:
        """Read an image file in a worker, show it on the pad and recognise it."""
        self.statusBar().showMessage(f"Reading {Path(path).name}…")
        self._image_token += 1
        token = self._image_token
        worker = create_worker(_load_image_job, token, str(path), _start_thread=False)
        worker.returned.connect(self._on_image_loaded)
        self._image_workers[token] = worker
        worker.start()

    # -------------------------------------------------------------- loading
    def _start_file_load(self, path: str, *, startup: bool) -> None:
        name = Path(path).name
        if tensorflow_loaded():
            self.statusBar().showMessage(f"Loading model {name}…")
        else:
            self.statusBar().showMessage("Loading TensorFlow…")
        if self.recognize_tab.predictor is None:
            self.recognize_tab.set_no_model(
                "Loading TensorFlow…" if not tensorflow_loaded() else f"Loading model {name}…"
            )
        request = self._loader.load_file(path)
        self._request_info[request] = {"startup": startup, "recent": not startup, "what": name}

    @Slot(object)
    def _on_model_ready(self, result: ModelReady) -> None:
        if self._closing:
            return
        info = self._request_info.pop(result.request, {})
        self.recognize_tab.set_predictor(result.predictor, result.name, result.metadata, result.path)
        self._current_model_path = result.path
        self.train_further_action.setEnabled(bool(result.path))
        message = f"Model ready: {result.name}"
        if result.adaptations:
            message += " (adapted: " + "; ".join(result.adaptations) + ")"
        self.statusBar().showMessage(message)
        if result.path:
            self._settings.setValue("model/last", result.path)
            self._settings.sync()
            if info.get("recent"):
                add_recent_file(result.path, self._settings)
        self.model_ready.emit(result.name)

    @Slot(str, str)
    def _on_model_failed(self, what: str, message: str) -> None:
        if self._closing:
            return
        startup = any(i.get("startup") for i in self._request_info.values())
        self._request_info.clear()
        current = self.current_model_name()
        if current is not None:
            self.statusBar().showMessage(f"{what} was not opened; still using {current}.")
        else:
            text = f"No model: {message}"
            self.recognize_tab.set_no_model(text)
            self.statusBar().showMessage(text)
        if not startup:
            self._show_error("Cannot open model", message)
        self.model_failed.emit(message)

    @Slot(object)
    def _on_image_loaded(self, result: tuple) -> None:
        token, path, arr, error = result
        self._image_workers.pop(token, None)
        if self._closing or token != self._image_token:
            return  # window closing, or a newer image was asked for meanwhile
        if error is not None:
            self.statusBar().showMessage(f"{Path(path).name} was not opened.")
            self._show_error("Cannot open image", error)
            return
        self.tabs.setCurrentWidget(self.recognize_tab)
        try:
            self.recognize_tab.show_image(arr)
        except ValueError:
            self._show_error("Cannot open image", f"{Path(path).name} holds no picture.")
            return
        self.statusBar().showMessage(f"Opened image {Path(path).name}")
        self.image_opened.emit(str(path))

    # ------------------------------------------------------------- slots
    @Slot(object, str, dict)
    def _on_use_model_requested(self, model, name: str, metadata: dict) -> None:
        self.tabs.setCurrentWidget(self.recognize_tab)
        self.use_model(model, name, metadata)

    @Slot(str)
    def _on_train_status(self, text: str) -> None:
        self.statusBar().showMessage(text)

    @Slot(bool)
    def _on_training_state(self, running: bool) -> None:
        self.open_model_action.setEnabled(True)
        self.setWindowTitle("digitpad — training…" if running else "digitpad")

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        on_pad = self.tabs.widget(index) is self.recognize_tab
        for a in (self.undo_action, self.redo_action, self.clear_action):
            a.setEnabled(on_pad)

    @Slot()
    def _toggle_steps(self) -> None:
        self.recognize_tab.preview.set_steps_visible(self.show_steps_action.isChecked())

    @Slot(bool)
    def _on_steps_toggled(self, visible: bool) -> None:
        self.show_steps_action.setChecked(visible)
        self._settings.setValue("view/steps", bool(visible))

    @Slot()
    def _open_model_dialog(self) -> None:
        start = self._settings.value("dialogs/model_dir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, "Open Model", str(start), MODEL_FILTER)
        if path:
            self._settings.setValue("dialogs/model_dir", str(Path(path).parent))
            self.open_model(path)

    @Slot()
    def _open_image_dialog(self) -> None:
        start = self._settings.value("dialogs/image_dir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, "Open Image", str(start), IMAGE_FILTER)
        if path:
            self._settings.setValue("dialogs/image_dir", str(Path(path).parent))
            self.open_image(path)

    @Slot()
    def _train_current_further(self) -> None:
        """Put the model in use (its file) in the Train tab as the start of the next run."""
        if not self._current_model_path:
            return
        self.train_tab.set_base_model(self._current_model_path)
        self.tabs.setCurrentWidget(self.train_tab)
        self.statusBar().showMessage(
            f"Train tab: the next run continues {Path(self._current_model_path).name}; press Start."
        )

    @Slot()
    def _save_model(self) -> None:
        tab = self.train_tab
        has_model = getattr(tab, "has_model", None)
        if tab.has_unsaved_model() or (callable(has_model) and has_model()):
            tab.save_model_interactive()
        else:
            self.statusBar().showMessage(
                "Nothing to save: train a model in the Train tab first "
                "(models opened from a file are already saved)."
            )

    def about_text(self) -> str:
        """The About box's text (HTML)."""
        from digitpad import __version__ as version

        if "tensorflow" in sys.modules:
            tf_version = getattr(sys.modules["tensorflow"], "__version__", "?")
            keras_mod = sys.modules.get("keras")
            keras_version = getattr(keras_mod, "__version__", "?") if keras_mod else "not loaded yet"
            libs = f"TensorFlow {tf_version}, Keras {keras_version}"
        else:
            libs = "TensorFlow and Keras: not loaded yet"
        from PySide6 import __version__ as pyside_version

        return (
            f"<h3>digitpad {version}</h3>"
            "<p>Draw a digit and see, live, what a neural network thinks it is — "
            "then train that network yourself and keep the result.</p>"
            f"<p>{libs}<br>PySide6 {pyside_version}, Python {sys.version.split()[0]}</p>"
            f"<p>{MNIST_ATTRIBUTION}.<br>"
            "The MNIST database of handwritten digits: "
            "<a href='https://yann.lecun.com/exdb/mnist/'>yann.lecun.com/exdb/mnist</a></p>"
        )

    @Slot()
    def _show_about(self) -> None:
        QMessageBox.about(self, "About digitpad", self.about_text())

    # -------------------------------------------------------- dialog hooks
    def _show_error(self, title: str, text: str) -> None:
        """Tell the user something failed (tests monkeypatch this)."""
        self.last_error = (title, text)
        QMessageBox.warning(self, title, text)

    def _ask(self, title: str, text: str, buttons, default) -> QMessageBox.StandardButton:
        """Ask a question (tests monkeypatch this). ``Yes`` is labelled 'Stop and Quit'."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, self)
        box.setDefaultButton(default)
        yes = box.button(QMessageBox.StandardButton.Yes)
        if yes is not None:
            yes.setText("Stop and Quit")
        return QMessageBox.StandardButton(box.exec())

    # ------------------------------------------------------- drag and drop
    @staticmethod
    def _dropped_file(mime) -> str | None:
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile() and Path(url.toLocalFile()).is_file():
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event) -> None:
        if self._dropped_file(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        path = self._dropped_file(event.mimeData())
        if not path:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(path)

    def open_path(self, path: str) -> None:
        """Open a model file (.keras/.h5) or an image, chosen by its suffix."""
        if Path(path).suffix.lower() in MODEL_SUFFIXES:
            self.open_model(path)
        else:
            self.open_image(path)

    # -------------------------------------------------------- settings/close
    def _restore_settings(self) -> None:
        geometry = self._settings.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes) and geometry:
            self.restoreGeometry(QByteArray(geometry))
        else:
            self.resize(1120, 760)
        state = self._settings.value("window/state")
        if isinstance(state, QByteArray | bytes) and state:
            self.restoreState(QByteArray(state))
        steps = self._settings.value("view/steps", False)
        steps = steps if isinstance(steps, bool) else str(steps).lower() == "true"
        self.show_steps_action.setChecked(steps)
        self.recognize_tab.preview.set_steps_visible(steps)
        tab = self._settings.value("window/tab", 0)
        try:
            self.tabs.setCurrentIndex(int(tab))
        except (TypeError, ValueError):
            pass

    def save_settings(self) -> None:
        """Write window geometry, state and tab to the settings file."""
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue("window/state", self.saveState())
        self._settings.setValue("window/tab", self.tabs.currentIndex())
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        tab = self.train_tab
        buttons = QMessageBox.StandardButton
        if tab.is_training():
            answer = self._ask(
                "Quit digitpad", "Training is running. Stop it and quit?",
                buttons.Yes | buttons.Cancel, buttons.Cancel,
            )
            if answer != buttons.Yes:
                event.ignore()
                return
            tab.request_stop()
            self.statusBar().showMessage("Stopping training…")
            tab.wait_finished(30000)
        if tab.has_unsaved_model():
            answer = self._ask(
                "Quit digitpad", "The trained model has not been saved. Save it before quitting?",
                buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save,
            )
            if answer == buttons.Cancel:
                event.ignore()
                return
            if answer == buttons.Save and not tab.save_model_interactive():
                event.ignore()
                return
        self._closing = True
        tab.shutdown()
        self._loader.wait(30000)
        if self._image_workers:
            QThreadPool.globalInstance().waitForDone(10000)
        self.save_settings()
        event.accept()
