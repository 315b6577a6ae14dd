"""Whole-process time of ``digitpad predict one.png`` against a plain Keras script doing the same.

Both processes start cold (a new Python each run), load the same model file and recognise the same
PNG; runs alternate A, B, A, B… so both see the same machine load. The plain script is what the
tutorials do: ``keras.models.load_model`` + resize the image to 28x28 + ``model.predict``.

    python bench/bench_predict_cli.py [--model models/default.keras] [--runs 7] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine_line, markdown_table, write_json  # noqa: E402

PLAIN_SCRIPT = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
from PIL import Image
import keras
model = keras.models.load_model(sys.argv[1])
img = Image.open(sys.argv[2]).convert("L").resize((28, 28))
x = np.asarray(img, dtype="float32")[None, :, :, None] / 255.0
p = model.predict(x, verbose=0)[0]
print(sys.argv[2], int(p.argmax()), float(p.max()))
"""


def _make_png(folder: Path) -> Path:
    from digitpad.core.data import load_dataset

    ds = load_dataset(None)
    img = np.kron(ds.x_test[0], np.ones((8, 8), np.uint8))  # a 224x224 "7", white on black
    from PIL import Image

    path = folder / "one.png"
    Image.fromarray(img).save(path)
    return path


def _time(cmd: list[str], env: dict) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "default.keras"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    with tempfile.TemporaryDirectory() as tmp:
        png = _make_png(Path(tmp))
        script = Path(tmp) / "plain_keras_predict.py"
        script.write_text(PLAIN_SCRIPT)
        commands = {
            "digitpad predict": [sys.executable, "-m", "digitpad", "predict", str(png), "--model", args.model],
            "plain Keras script": [sys.executable, str(script), args.model, str(png)],
        }
        for cmd in commands.values():  # warm the OS file cache once
            _time(cmd, env)
        times: dict[str, list[float]] = {k: [] for k in commands}
        outputs: dict[str, str] = {}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                t, out = _time(cmd, env)
                times[name].append(t)
                outputs[name] = out

    base = float(np.median(times["plain Keras script"]))
    rows = []
    for name, ts in times.items():
        med = float(np.median(ts))
        rows.append([name, f"{med:.2f}", f"{min(ts):.2f}", f"{max(ts):.2f}", f"{base / med:.2f}×",
                     outputs[name].split("\n")[-1].replace(str(Path(tmp)) + "/", "")])
    print(f"# digitpad predict vs a plain Keras script ({args.runs} alternating cold runs)\n")
    print(machine_line())
    print()
    print(markdown_table(["command", "median s", "min s", "max s", "speed vs plain", "output"], rows))
    if args.json_path:
        write_json(args.json_path, {"runs": args.runs, "times_s": times, "outputs": outputs,
                                    "machine": machine_line()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
