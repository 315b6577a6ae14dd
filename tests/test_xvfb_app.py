"""Start the real `digitpad` process under Xvfb, find its window, screenshot it, quit with Ctrl+Q."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} is not installed (apt-get install xvfb xdotool imagemagick)")
    return path


@pytest.fixture
def xvfb_display():
    xvfb = _need("Xvfb")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_real_app_window_screenshot_and_quit(xvfb_display, tmp_path):
    xdotool = _need("xdotool")
    importer = _need("import")
    env = dict(os.environ)
    env.update(
        DISPLAY=xvfb_display,
        QT_QPA_PLATFORM="xcb",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        DIGITPAD_HOME=str(tmp_path / "data"),
    )
    env.pop("DIGITPAD_BENCH_EXIT_AFTER_READY", None)
    app = subprocess.Popen(
        [sys.executable, "-m", "digitpad"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        found = subprocess.run(
            [xdotool, "search", "--sync", "--onlyvisible", "--name", "^digitpad"],
            env=env, capture_output=True, text=True, timeout=60,
        )
        assert found.returncode == 0 and found.stdout.split(), found.stderr
        window = found.stdout.split()[0]
        time.sleep(1.5)  # let it paint
        shot = tmp_path / "window.png"
        subprocess.run([importer, "-window", "root", str(shot)], env=env, check=True, timeout=60)
        assert shot.exists() and shot.stat().st_size > 1000
        pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
        assert pixels.std() > 5, "the screenshot is uniform: no window was drawn"

        # no window manager under bare Xvfb: give the window the input focus, then press
        # Ctrl+Q through XTEST like a real keyboard (File → Quit)
        subprocess.run([xdotool, "windowfocus", "--sync", window], env=env, timeout=20)
        subprocess.run([xdotool, "key", "--clearmodifiers", "ctrl+q"], env=env, timeout=20)
        out, err = app.communicate(timeout=90)
        assert app.returncode == 0, err
        assert "Traceback" not in err, err
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
