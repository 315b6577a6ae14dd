"""Persistent settings (QSettings, INI format under the user's config folder).

The file is ``digitpad.ini`` in :func:`digitpad.core.paths.user_config_dir` (on Linux
``$XDG_CONFIG_HOME/digitpad/``, ``~/.config/digitpad/`` by default; the platform's folder on
macOS and Windows). :func:`app_settings` resolves it on every call (Qt itself caches its default
folder once per process), so tests isolate settings by pointing ``XDG_CONFIG_HOME`` at a
temporary folder (``tests/conftest.py``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

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
