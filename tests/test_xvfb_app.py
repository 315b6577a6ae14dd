"""Start the real `digitpad` process under Xvfb, find its window, screenshot it, quit with Ctrl+Q.

The screenshot is Xvfb's own framebuffer (``-fbdir``: an XWD file it keeps up to date), read with
numpy: no screenshot program (ImageMagick would pull in Ghostscript) is needed.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} is not installed (bash scripts/install.sh --test)")
    return path


def _read_xwd(path: Path) -> np.ndarray:
    """Grey levels (H, W) of a 24-bit TrueColor XWD file, such as Xvfb's ``-fbdir`` framebuffer."""
    data = path.read_bytes()
    fields = struct.unpack(">17I", data[:68])  # the header is always most significant byte first
    header_size, version, depth, width, height = (fields[i] for i in (0, 1, 3, 4, 5))
    byte_order, bits_per_pixel, bytes_per_line = (fields[i] for i in (7, 11, 12))
    assert version == 7 and depth == 24 and bits_per_pixel == 32, (version, depth, bits_per_pixel)
    assert fields[14:17] == (0xFF0000, 0x00FF00, 0x0000FF), fields[14:17]  # red, green, blue masks
    ncolors = struct.unpack(">I", data[76:80])[0]
    start = header_size + 12 * ncolors  # header + window name, then 12 bytes a colour-map entry
    dtype = "<u4" if byte_order == 0 else ">u4"  # 0: least significant byte first
    words = np.frombuffer(data, dtype, height * bytes_per_line // 4, start)
    words = words.reshape(height, -1)[:, :width]
    red, green, blue = (((words >> shift) & 0xFF).astype(np.float32) for shift in (16, 8, 0))
    return 0.299 * red + 0.587 * green + 0.114 * blue


@pytest.fixture
def xvfb_display(tmp_path):
    """``(display, framebuffer file)`` of a fresh Xvfb server."""
    xvfb = _need("Xvfb")
    fbdir = tmp_path / "fb"
    fbdir.mkdir()
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x900x24", "-nolisten", "tcp",
         "-fbdir", str(fbdir)],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}", fbdir / "Xvfb_screen0"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_real_app_window_screenshot_and_quit(xvfb_display, tmp_path):
    display, framebuffer = xvfb_display
    xdotool = _need("xdotool")
    env = dict(os.environ)
    env.update(
        DISPLAY=display,
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
        title = subprocess.run([xdotool, "getwindowname", window], env=env, capture_output=True,
                               text=True, timeout=20).stdout.strip()
        assert title == "digitpad", title  # Qt appends nothing to it (it was "… — digitpad" twice)
        # the window is mapped; wait (bounded) until its contents reach the screen
        deadline = time.monotonic() + 60
        while (pixels := _read_xwd(framebuffer)).std() <= 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pixels.std() > 5, "the screen stayed uniform: no window was drawn"

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
