"""Killing digitpad at any moment never corrupts the run history or the settings.

A child process keeps appending runs to the history and writing settings (as the app does when a
run ends and when it saves its form); it is killed with SIGKILL at varied moments. Afterwards the
history file parses (and is not quarantined as corrupt) and the settings file reads back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [
    pytest.mark.slow,  # starts processes
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
]

CHILD = r"""
import sys
from PySide6.QtCore import QCoreApplication
from digitpad.core.history import append_run
from digitpad.gui.settings import app_settings
app = QCoreApplication([])
settings = app_settings()
print("ready", flush=True)
i = 0
while True:
    i += 1
    append_run({"arch": "fast", "epochs": i, "test_accuracy": 0.99, "note": "x" * 2000})
    settings.setValue("train/epochs", i)
    settings.setValue("recent/models", [f"/tmp/model{j}.keras" for j in range(8)])
    settings.sync()
"""


@pytest.mark.parametrize("delay", [0.05, 0.13, 0.31, 0.57, 0.9])
def test_sigkill_never_corrupts_history_or_settings(tmp_path, delay):
    env = dict(os.environ, DIGITPAD_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    history = tmp_path / "data" / "runs.json"
    assert history.exists()
    runs = json.loads(history.read_text(encoding="utf-8"))
    assert isinstance(runs, list) and runs and runs[-1]["arch"] == "fast"
    assert not (tmp_path / "data" / "runs.json.bak").exists()
    leftovers = [p.name for p in (tmp_path / "data").iterdir() if p.name != "runs.json"]
    # a kill can leave at most the one temporary file that was being written, never a broken target
    assert len(leftovers) <= 1, leftovers

    check = subprocess.run(
        [sys.executable, "-c",
         "from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]);"
         "from digitpad.gui.settings import app_settings, recent_files;"
         "s = app_settings(); print(s.status() == s.Status.NoError, int(s.value('train/epochs', 0)) >= 1,"
         " len(recent_files(s)))"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert check.stdout.split() == ["True", "True", "8"], check.stderr
