"""Start-up time of the desktop app: launch → window visible, and launch → first prediction possible.

Runs ``python -m digitpad`` several times with ``DIGITPAD_BENCH_EXIT_AFTER_READY=1`` (the app then
prints the time its window was shown and painted and the time its predictor was ready, and quits),
offscreen by default or under Xvfb with ``--xvfb``. Reports medians as a Markdown table. Goals:
window ≤ 1.5 s, first prediction possible ≤ 6 s. Baseline in the same run: the time a bare
``import tensorflow`` takes in a fresh process (what a window that waits for TensorFlow would pay).

    python bench/bench_startup.py [--runs 5] [--model PATH] [--xvfb]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _start_xvfb():
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        raise SystemExit("Xvfb is not installed")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x900x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    return proc, f":{number}"


def _one_run(env: dict, model: str | None) -> tuple[float, float | None, str]:
    cmd = [sys.executable, "-m", "digitpad"]
    if model:
        # the GUI opens the last used model: point the settings at it
        cfg = Path(env["XDG_CONFIG_HOME"]) / "digitpad"
        cfg.mkdir(parents=True, exist_ok=True)
        (cfg / "digitpad.ini").write_text(f"[model]\nlast={model}\n")
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    shown = re.search(r"digitpad-bench window_shown=([0-9.]+)", proc.stderr)
    ready = re.search(r"digitpad-bench model_ready=([0-9.]+)", proc.stderr)
    failed = re.search(r"digitpad-bench model_failed=[0-9.]+ (.*)", proc.stderr)
    if not shown:
        raise SystemExit(f"the app did not report its window:\n{proc.stderr[-2000:]}")
    return (
        float(shown.group(1)) - t0,
        float(ready.group(1)) - t0 if ready else None,
        failed.group(1) if failed else "",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", help="model file to load (default: the bundled/last one)")
    parser.add_argument("--xvfb", action="store_true", help="run under Xvfb (xcb) instead of offscreen")
    args = parser.parse_args()

    xvfb = None
    env = dict(os.environ)
    env["DIGITPAD_BENCH_EXIT_AFTER_READY"] = "1"
    if args.xvfb:
        xvfb, display = _start_xvfb()
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    try:
        shown, ready, notes = [], [], set()
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as home:
                env["XDG_CONFIG_HOME"] = str(Path(home) / "config")
                env["DIGITPAD_HOME"] = str(Path(home) / "data")
                s, r, note = _one_run(env, str(Path(args.model).resolve()) if args.model else None)
            shown.append(s)
            if r is not None:
                ready.append(r)
            if note:
                notes.add(note)
        t0 = time.time()
        subprocess.run([sys.executable, "-c", "import tensorflow"], env=env, check=True,
                       capture_output=True, timeout=300)
        tf_import = time.time() - t0
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)

    platform = "Xvfb (xcb)" if args.xvfb else "offscreen"
    print(f"# Start-up ({args.runs} runs, {platform}, `python -m digitpad`)\n")
    print("| measure | digitpad median s | min s | max s | goal | baseline: `import tensorflow` s |")
    print("|---|---|---|---|---|---|")
    print(f"| launch → window shown | {statistics.median(shown):.2f} | {min(shown):.2f} | "
          f"{max(shown):.2f} | ≤ 1.5 s | {tf_import:.2f} |")
    if ready:
        print(f"| launch → first prediction possible | {statistics.median(ready):.2f} | "
              f"{min(ready):.2f} | {max(ready):.2f} | ≤ 6 s | |")
    else:
        print(f"| launch → first prediction possible | no model loaded ({'; '.join(notes)}) | | | ≤ 6 s | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
