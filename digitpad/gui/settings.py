"""Persistent settings (QSettings, INI format under the user's config folder).

The file is ``digitpad.ini`` in :func:`digitpad.core.paths.user_config_dir` (on Linux
``$XDG_CONFIG_HOME/digitpad/``, ``~/.config/digitpad/`` by default; the platform's folder on
macOS and Windows). :func:`app_settings` resolves it on every call (Qt itself caches its default
folder once per process), so tests isolate settings by pointing ``XDG_CONFIG_HOME`` at a
temporary folder (``tests/conftest.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings

if TYPE_CHECKING:
    from digitpad.gui.main_window import MainWindow

from digitpad.core.paths import user_config_dir

ORGANIZATION = "digitpad"
APPLICATION = "digitpad"
MAX_RECENT = 8


def settings_path() -> Path:
    """Path of the INI file holding digitpad's settings."""
    return user_config_dir() / f"{APPLICATION}.ini"


def app_settings() -> QSettings:
    """The application's settings object (INI file, user scope)."""
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)


def recent_files(settings: QSettings | None = None) -> list[str]:
    """Recently opened model files, most recent first."""
    settings = settings or app_settings()
    return [str(v) for v in settings.value("recent/models", [], type=list) if v]


def add_recent_file(path: str, settings: QSettings | None = None) -> list[str]:
    """Put ``path`` first in the recent-files list (deduplicated, at most MAX_RECENT)."""
    settings = settings or app_settings()
    files = [p for p in recent_files(settings) if p != path]
    files.insert(0, path)
    files = files[:MAX_RECENT]
    settings.setValue("recent/models", files)
    settings.sync()
    return files


def clear_recent_files(settings: QSettings | None = None) -> None:
    """Empty the recent-files list."""
    settings = settings or app_settings()
    settings.setValue("recent/models", [])
    settings.sync()


def restore_window_state(win: MainWindow, settings: QSettings) -> None:
    """Geometry, dock/toolbar state, visible tab and the steps view of ``win`` as last saved."""
    geometry = settings.value("window/geometry", QByteArray(), type=QByteArray)
    if geometry.isEmpty() or not win.restoreGeometry(geometry):
        win.resize(1120, 760)
    state = settings.value("window/state", QByteArray(), type=QByteArray)
    if not state.isEmpty():
        win.restoreState(state)
    steps = settings.value("view/steps", False, type=bool)
    win.show_steps_action.setChecked(steps)
    win.recognize_tab.preview.set_steps_visible(steps)
    win.tabs.setCurrentIndex(settings.value("window/tab", 0, type=int))


def save_window_state(win: MainWindow, settings: QSettings) -> None:
    """Write ``win``'s geometry, state and visible tab (read back by restore_window_state)."""
    settings.setValue("window/geometry", win.saveGeometry())
    settings.setValue("window/state", win.saveState())
    settings.setValue("window/tab", win.tabs.currentIndex())
    settings.sync()
