"""Which files the window opens and how it asks for them: suffixes, dialog filters, drops.

The suffix lists are the core's (``core.images.IMAGE_SUFFIXES`` from Pillow's registered
extensions, ``core.modelfile.MODEL_SUFFIXES``); nothing here repeats them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from digitpad.core.images import IMAGE_SUFFIXES
from digitpad.core.modelfile import MODEL_SUFFIXES


def _patterns(suffixes) -> str:
    return " ".join(f"*{s}" for s in sorted(suffixes))


MODEL_FILTER = f"Keras models ({_patterns(MODEL_SUFFIXES)});;All files (*)"
IMAGE_FILTER = f"Images ({_patterns(IMAGE_SUFFIXES)});;All files (*)"
SAVE_FILTER = "Keras model (*.keras);;Legacy HDF5 model (*.h5)"


def is_model_path(path: str) -> bool:
    """Whether ``path`` names a model file (by suffix); anything else is opened as an image."""
    return Path(path).suffix.lower() in MODEL_SUFFIXES


def dropped_file(mime: QMimeData) -> str | None:
    """The first local, existing file among the dropped URLs, or None."""
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and Path(url.toLocalFile()).is_file():
            return url.toLocalFile()
    return None


def ask_open_path(parent: QWidget, settings: QSettings, kind: str) -> str | None:
    """Ask for a model (``kind="model"``) or an image (``"image"``) to open; remembers the folder."""
    key = f"dialogs/{kind}_dir"
    start = settings.value(key, str(Path.home()), type=str)
    title, filters = ("Open Model", MODEL_FILTER) if kind == "model" else ("Open Image", IMAGE_FILTER)
    path, _ = QFileDialog.getOpenFileName(parent, title, start, filters)
    if not path:
        return None
    settings.setValue(key, str(Path(path).parent))
    return path


def ask_save_path(parent: QWidget, settings: QSettings, suggested_name: str) -> str | None:
    """Ask where to save a model; adds ``.keras`` (or ``.h5`` for that filter) when missing."""
    start = settings.value("train/save_dir", str(Path.home()), type=str)
    path, selected = QFileDialog.getSaveFileName(
        parent, "Save Model", str(Path(start) / suggested_name), SAVE_FILTER
    )
    if not path:
        return None
    target = Path(path)
    if target.suffix.lower() not in (".keras", ".h5"):
        target = target.with_name(target.name + (".h5" if "h5" in (selected or "") else ".keras"))
    settings.setValue("train/save_dir", str(target.parent))
    return str(target)
