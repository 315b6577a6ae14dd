"""Persistent settings (QSettings, INI format under the user's config folder).

Tests isolate settings by pointing ``XDG_CONFIG_HOME`` at a temporary folder (see
``tests/conftest.py``); :func:`app_settings` reads the location each time it is called.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANIZATION = "digitpad"
APPLICATION = "digitpad"
MAX_RECENT = 8


def app_settings() -> QSettings:
    """The application's settings object (INI file, user scope)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def recent_files(settings: QSettings | None = None) -> list[str]:
    """Recently opened model files, most recent first."""
    settings = settings or app_settings()
    value = settings.value("recent/models", [])
    if isinstance(value, str):
        value = [value] if value else []
    return [str(v) for v in (value or [])]


def add_recent_file(path: str, settings: QSettings | None = None) -> list[str]:
    """Put ``path`` first in the recent-files list (deduplicated, at most MAX_RECENT)."""
    settings = settings or app_settings()
    files = [p for p in recent_files(settings) if p != path]
    files.insert(0, path)
    files = files[:MAX_RECENT]
    settings.setValue("recent/models", files)
    settings.sync()
    return files
