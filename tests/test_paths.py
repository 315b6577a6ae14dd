"""User folders follow the platform (platformdirs), DIGITPAD_HOME overrides, and no test touches
the real ones."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
import pytest
from platformdirs.macos import MacOS

from digitpad.core import paths


def test_digitpad_home_overrides_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITPAD_HOME", str(tmp_path / "portable"))
    assert paths.user_data_dir() == tmp_path / "portable"
    assert (tmp_path / "portable").is_dir()  # created on first use


def test_linux_folders_follow_xdg(tmp_path, monkeypatch):
    if platformdirs.PlatformDirs is not platformdirs.unix.Unix:
        pytest.skip("the XDG rules are the Linux ones")
    monkeypatch.delenv("DIGITPAD_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert paths.user_data_dir() == tmp_path / "data" / "digitpad"
    assert paths.user_config_dir() == tmp_path / "config" / "digitpad"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    home = Path(os.environ["HOME"])
    assert paths.user_data_dir() == home / ".local" / "share" / "digitpad"
    assert paths.user_config_dir() == home / ".config" / "digitpad"


def test_macos_folders_are_application_support(monkeypatch):
    for variable in ("DIGITPAD_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(variable)
    monkeypatch.setattr(platformdirs, "PlatformDirs", MacOS)
    expected = Path(os.environ["HOME"]) / "Library" / "Application Support" / "digitpad"
    assert paths.user_data_dir() == expected
    assert paths.user_config_dir() == expected


def test_every_user_folder_is_a_fresh_temporary_one(tmp_path_factory):
    """The autouse fixture in conftest.py: run history and settings file are the test's own."""
    from digitpad.core.history import history_path
    from digitpad.gui.settings import app_settings, settings_path

    base = tmp_path_factory.getbasetemp()
    for folder in (paths.user_data_dir(), paths.user_config_dir(), Path.home(), settings_path()):
        assert folder.is_relative_to(base), folder
    assert not history_path().exists()
    settings = app_settings()
    assert settings.allKeys() == []
    settings.setValue("probe/value", 1)
    settings.sync()
    assert settings_path().is_file()


def test_qt_default_settings_and_standard_paths_are_isolated(tmp_path_factory):
    from PySide6.QtCore import QSettings, QStandardPaths

    base = tmp_path_factory.getbasetemp()
    default = QSettings("QtProject", "probe")  # where Qt keeps e.g. its file-dialog state
    assert Path(default.fileName()).is_relative_to(base), default.fileName()
    for kind in (QStandardPaths.StandardLocation.AppConfigLocation,
                 QStandardPaths.StandardLocation.GenericDataLocation,
                 QStandardPaths.StandardLocation.CacheLocation):
        assert Path(QStandardPaths.writableLocation(kind)).is_relative_to(base), kind
