"""Shared test set-up: offscreen Qt, isolated settings and user data, small real MNIST subsets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = Path(__file__).resolve().parent.parent


_USER_DIR_VARIABLES = {
    "HOME": "home",
    "XDG_CONFIG_HOME": "config",
    "XDG_DATA_HOME": "share",
    "XDG_CACHE_HOME": "cache",
    "XDG_STATE_HOME": "state",
    "DIGITPAD_HOME": "digitpad",
}


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Every test gets its own, empty user folders: nothing reads or writes the real ones.

    ``HOME`` and the ``XDG_*`` folders point into a fresh temporary folder, so
    ``paths.user_data_dir()``, ``paths.user_config_dir()``, the GUI's settings file
    (``gui.settings.settings_path()``, read anew on every call) and ``QStandardPaths`` all land
    there; ``DIGITPAD_HOME`` (the run history) too. Qt resolves the folder of a
    default-constructed ``QSettings`` (Qt's own, e.g. file-dialog state) once per process, so it is
    pointed here as well.
    Child processes inherit the environment.
    """
    root = tmp_path_factory.mktemp("user")
    for variable, folder in _USER_DIR_VARIABLES.items():
        (root / folder).mkdir()
        monkeypatch.setenv(variable, str(root / folder))
    try:
        from PySide6.QtCore import QSettings
    except ImportError:  # pragma: no cover - Qt is a dependency
        return
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(root / "config"))


@pytest.fixture(autouse=True)
def _workers_keep_normal_priority(monkeypatch):
    """Training threads run at the test process's own priority.

    The app nices its training thread and TensorFlow's pool threads so the window stays smooth;
    a normal user cannot raise them back, so in a test process every later TensorFlow test would
    run niced while the other pytest-xdist workers are not, and starve (a 6 s k-fold took over
    three minutes on a loaded CI machine). Tests of the niceness itself set their own value.
    """
    from digitpad.gui import workers

    monkeypatch.setattr(workers, "WORKER_NICENESS", 0)


@pytest.fixture(scope="session")
def mnist_small():
    """A real, small MNIST subset: 3000 train and 1000 test images (uint8), from the bundled set."""
    from digitpad.core.data import load_dataset

    ds = load_dataset(None)
    return ds.subset(n_train=3000, n_test=1000, seed=0)


@pytest.fixture(scope="session")
def model_file(mnist_small, tmp_path_factory) -> Path:
    """A real ``fast`` model trained once a run on :func:`mnist_small` (3 epochs), saved as .keras.

    Training takes a while: tests using it are marked ``slow``.
    """
    from digitpad.core.modelfile import save_model
    from digitpad.core.training import TrainConfig, Trainer

    config = TrainConfig(arch="fast", epochs=3, seed=0, device="cpu", val_split=0.1)
    result = Trainer(config, dataset=mnist_small).run()
    path = tmp_path_factory.mktemp("models") / "fast_small.keras"
    save_model(result.model, path, metadata=result.metadata())
    return path


@pytest.fixture(scope="session")
def qapp(qapp):
    """pytest-qt's QApplication, named as ``digitpad.gui.app`` names the real one."""
    from digitpad.gui.settings import APPLICATION, ORGANIZATION

    qapp.setApplicationName(APPLICATION)
    qapp.setOrganizationName(ORGANIZATION)
    return qapp


@pytest.fixture(autouse=True)
def _no_real_modal_dialogs(monkeypatch):
    """A modal dialog nobody answers would hang the run (offscreen, no user): fail instead.

    Tests answer dialogs by monkeypatching the window's ``_ask`` / ``_show_error`` hooks or the
    QFileDialog function they expect; anything else reaching a real dialog is a test failure.
    """
    try:
        from PySide6.QtWidgets import QFileDialog, QMessageBox
    except ImportError:  # pragma: no cover - Qt is a dependency
        yield
        return

    def refuse(name):
        def modal(*args, **kwargs):
            text = " ".join(str(a) for a in args[1:3] if isinstance(a, str))
            raise AssertionError(f"unexpected modal dialog in a test: {name}({text!r})")

        return modal

    for name in ("warning", "critical", "question", "information", "about"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(refuse(f"QMessageBox.{name}")))
    monkeypatch.setattr(QMessageBox, "exec", refuse("QMessageBox.exec"))
    for name in ("getOpenFileName", "getSaveFileName", "getExistingDirectory"):
        monkeypatch.setattr(QFileDialog, name, staticmethod(refuse(f"QFileDialog.{name}")))
    yield
