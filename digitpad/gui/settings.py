"""Persistent settings (QSettings, INI format under the user's config folder).

The file is ``$XDG_CONFIG_HOME/digitpad/digitpad.ini`` (``~/.config/digitpad/digitpad.ini`` by
default). :func:`app_settings` reads ``XDG_CONFIG_HOME`` on every call (Qt itself caches it once per
process), so tests isolate settings by pointing it at a temporary folder (``tests/conftest.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANIZATION = "digitpad"
APPLICATION = "digitpad"
MAX_RECENT = 8


def settings_path() -> Path:
    """Path of the INI file holding digitpad's settings."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / ORGANIZATION / f"{APPLICATION}.ini"


def app_settings() -> QSettings:
    """The application's settings object (INI file, user scope)."""
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)


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
