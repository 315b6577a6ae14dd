"""The main window's menus and actions (File, Edit, View, Help), the recent-files menu, About text.

:func:`build_menus` creates every ``QAction`` as an attribute of the window (``open_model_action``,
``save_model_action``, ``undo_action``, …) and connects it to the window's slots; the window keeps
the behaviour, this module only the wiring.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QMenu

from digitpad.gui.export_dialog import open_export_dialog

if TYPE_CHECKING:
    from digitpad.gui.main_window import MainWindow

MNIST_URL = "https://yann.lecun.com/exdb/mnist/"
MNIST_ATTRIBUTION = (
    "MNIST by Yann LeCun, Corinna Cortes and Christopher J. C. Burges, CC BY-SA 3.0"
)


def make_action(parent, text: str, slot: Callable, shortcut=None, tip: str = "") -> QAction:
    """A QAction with shortcut(s), status tip and tool tip, connected to ``slot``."""
    action = QAction(text, parent)
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


def build_menus(win: MainWindow) -> None:
    """Create the menu bar of ``win`` and its actions (as attributes of ``win``)."""
    bar = win.menuBar()
    file_menu = bar.addMenu("&File")
    win.open_model_action = make_action(
        win, "&Open Model…", win._open_model_dialog, QKeySequence.StandardKey.Open,
        "Open a Keras model file (.keras or .h5)",
    )
    file_menu.addAction(win.open_model_action)
    win.recent_menu = QMenu("Open &Recent", win)
    win.recent_menu.aboutToShow.connect(win._fill_recent_menu)
    file_menu.addMenu(win.recent_menu)
    win.open_image_action = make_action(
        win, "Open &Image…", win._open_image_dialog, QKeySequence("Ctrl+I"),
        "Recognise a digit in an image file",
    )
    file_menu.addAction(win.open_image_action)
    file_menu.addSeparator()
    win.save_model_action = make_action(
        win, "&Save Model…", win._save_model, QKeySequence.StandardKey.Save,
        "Save the model trained in the Train tab (when it is shown), else the model in use",
    )
    file_menu.addAction(win.save_model_action)
    win.export_model_action = make_action(
        win, "&Export Model…", lambda: open_export_dialog(win), QKeySequence("Ctrl+E"),
        "Export the model in use as TFLite, ONNX or SavedModel, verified against Keras",
    )
    file_menu.addAction(win.export_model_action)
    win.train_further_action = make_action(
        win, "&Train This Model Further…", win._train_current_further, QKeySequence("Ctrl+T"),
        "Continue training the model in use, from its file, in the Train tab",
    )
    win.train_further_action.setEnabled(False)
    file_menu.addAction(win.train_further_action)
    file_menu.addSeparator()
    win.quit_action = make_action(win, "&Quit", win.close, QKeySequence("Ctrl+Q"), "Quit digitpad")
    win.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    file_menu.addAction(win.quit_action)

    edit_menu = bar.addMenu("&Edit")
    pad = win.recognize_tab.pad
    win.undo_action = make_action(win, "&Undo Stroke", pad.undo, QKeySequence.StandardKey.Undo,
                                  "Undo the last stroke")
    win.redo_action = make_action(
        win, "&Redo Stroke", pad.redo, [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")],
        "Redo the stroke undone",
    )
    win.clear_action = make_action(
        win, "&Clear Pad", pad.clear,
        [QKeySequence(Qt.Key.Key_Delete), QKeySequence(Qt.Key.Key_Escape)], "Clear the drawing pad",
    )
    for action in (win.undo_action, win.redo_action, win.clear_action):
        edit_menu.addAction(action)

    view_menu = bar.addMenu("&View")
    win.show_steps_action = make_action(
        win, "Show &Normalisation Steps", win._toggle_steps, QKeySequence("Ctrl+N"),
        "Show how the drawing becomes the model's 28×28 input",
    )
    win.show_steps_action.setCheckable(True)
    view_menu.addAction(win.show_steps_action)
    internals = win.recognize_tab.internals  # checkable; the Recognize tab shows them as buttons
    view_menu.addAction(internals.activations_action)
    view_menu.addAction(internals.attribution_action)
    view_menu.addSeparator()
    win.recognize_view_action = make_action(
        win, "&Recognize", lambda: win.tabs.setCurrentWidget(win.recognize_tab), QKeySequence("Ctrl+1"))
    win.train_view_action = make_action(
        win, "&Train", lambda: win.tabs.setCurrentWidget(win.train_tab), QKeySequence("Ctrl+2"))
    win.evaluate_view_action = make_action(
        win, "&Evaluate", lambda: win.tabs.setCurrentWidget(win.evaluate_tab), QKeySequence("Ctrl+3"))
    win.model_view_action = make_action(
        win, "&Model", lambda: win.tabs.setCurrentWidget(win.model_tab), QKeySequence("Ctrl+4"))
    for action in (win.recognize_view_action, win.train_view_action, win.evaluate_view_action,
                   win.model_view_action):
        view_menu.addAction(action)

    help_menu = bar.addMenu("&Help")
    win.mnist_action = make_action(
        win, "About &MNIST", lambda: QDesktopServices.openUrl(QUrl(MNIST_URL)),
        tip="The MNIST database of handwritten digits",
    )
    help_menu.addAction(win.mnist_action)
    win.about_action = make_action(win, "&About digitpad", win._show_about, tip="Version and credits")
    win.about_action.setMenuRole(QAction.MenuRole.AboutRole)
    help_menu.addAction(win.about_action)


def fill_recent_menu(menu: QMenu, files: list[str], open_file: Callable[[str], None],
                     clear_files: Callable[[], None]) -> None:
    """Refill the Open Recent menu: one action per file (data = its path), then Clear Menu."""
    menu.clear()
    for path in files:
        action = menu.addAction(Path(path).name)
        action.setToolTip(path)
        action.setStatusTip(path)
        action.setData(path)
        action.setEnabled(Path(path).exists())
        action.triggered.connect(lambda _checked=False, chosen=path: open_file(chosen))
    if not files:
        menu.addAction("No recent models").setEnabled(False)
    menu.addSeparator()
    clear = menu.addAction("Clear Menu")
    clear.setEnabled(bool(files))
    clear.triggered.connect(lambda _checked=False: clear_files())


def about_html() -> str:
    """The About box's text (HTML): version, libraries loaded, MNIST credit."""
    from PySide6 import __version__ as pyside_version

    from digitpad import __version__ as version

    if "tensorflow" in sys.modules:
        tf_version = getattr(sys.modules["tensorflow"], "__version__", "?")
        keras_mod = sys.modules.get("keras")
        keras_version = getattr(keras_mod, "__version__", "?") if keras_mod else "not loaded yet"
        libs = f"TensorFlow {tf_version}, Keras {keras_version}"
    else:
        libs = "TensorFlow and Keras: not loaded yet"
    return (
        f"<h3>digitpad {version}</h3>"
        "<p>Draw a digit and see, live, what a neural network thinks it is — "
        "then train that network yourself and keep the result.</p>"
        f"<p>{libs}<br>PySide6 {pyside_version}, Python {sys.version.split()[0]}</p>"
        f"<p>{MNIST_ATTRIBUTION}.<br>"
        f"The MNIST database of handwritten digits: <a href='{MNIST_URL}'>yann.lecun.com/exdb/mnist</a></p>"
    )
