"""Training speed: time to 99 % MNIST test accuracy, digitpad ``fast`` against the seed ``mnist_cnn``.

Two modes, both running digitpad and the baseline in the same run on the same machine:

* **whole processes** (default, the issue's measure): ``digitpad train --arch fast --seed S
  --out FILE`` with every other option at the default a user gets (validation split 0.1, so
  training sees 54,000 images; calibration; the test-set evaluation; saving) is timed from launch
  to exit, once per seed; the seed's ``mnist_cnn`` script (``bench/seed_mnist_cnn.py``) is timed
  from launch to the end of the first epoch whose test accuracy reaches the target. Both
  include starting Python and importing TensorFlow.
* **in one process** (``--in-process``): ``Trainer(TrainConfig(arch="fast"))`` without a
  validation split against the baseline built in the same process, TensorFlow imported once
  before either (the earlier figures).

``--phases`` adds where one whole ``digitpad train`` process spends its time
(``bench/train_phases.py``: imports, data, model, tracing, the epoch, validation and calibration,
test evaluation, saving).

Full run (about 4 minutes on a 2-core machine)::

    python bench/bench_training.py --phases --json bench/results/training.json

Smoke run::

    python bench/bench_training.py --seeds 0 --max-epochs 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import write_json  # noqa: E402
from digitpad.core.archs import build_model  # noqa: E402
from digitpad.core.data import load_dataset, to_model_input  # noqa: E402
from digitpad.core.tfsetup import keras, tf  # noqa: E402
from digitpad.core.training import TrainConfig, Trainer  # noqa: E402


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Meter:
    """Wall and CPU time of a block."""

    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), _cpu_seconds()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w0
        self.cpu = _cpu_seconds() - self.c0


def run_fast(ds, seed: int) -> dict:
    cfg = TrainConfig(arch="fast", val_split=0.0, seed=seed, device="cpu")
    with Meter() as m:
        result = Trainer(cfg, dataset=ds).run()
    n = len(ds.x_train)
    return {
        "name": "digitpad fast",
        "epochs": result.epochs_done,
        "test_accuracy": result.test_accuracy,
        "per_epoch_accuracy": [result.test_accuracy],
        "wall_s": m.wall,
        "cpu_s": m.cpu,
        "samples": n * result.epochs_done,
        "train_samples_per_s": result.samples_per_s,
    }


def run_baseline(ds, target: float, max_epochs: int, seed: int) -> dict:
    k = keras()
    k.utils.set_random_seed(seed)
    x = to_model_input(ds.x_train)
    y = k.utils.to_categorical(ds.y_train, 10)
    xt = to_model_input(ds.x_test)
    yt = k.utils.to_categorical(ds.y_test, 10)
    accs: list[float] = []
    fit_time = 0.0
    reached_at = None
    with Meter() as m:
        with tf().device("/CPU:0"):
            model = build_model("mnist_cnn")
            model.compile(loss="categorical_crossentropy",
                          optimizer=k.optimizers.Adadelta(learning_rate=1.0), metrics=["accuracy"])
            for epoch in range(1, max_epochs + 1):
                t0 = time.perf_counter()
                model.fit(x, y, batch_size=128, epochs=1, verbose=0)
                fit_time += time.perf_counter() - t0
                _, acc = model.evaluate(xt, yt, batch_size=512, verbose=0)
                accs.append(float(acc))
                print(f"  baseline epoch {epoch}: test accuracy {acc:.4f} "
                      f"({time.perf_counter() - m.w0:.1f} s)", flush=True)
                if acc >= target:
                    reached_at = epoch
                    break
    return {
        "name": "seed mnist_cnn (Adadelta 1.0, batch 128)",
        "epochs": len(accs),
        "reached_target_at_epoch": reached_at,
        "test_accuracy": accs[-1],
        "per_epoch_accuracy": accs,
        "wall_s": m.wall,
        "cpu_s": m.cpu,
        "samples": len(x) * len(accs),
        "train_samples_per_s": len(x) * len(accs) / fit_time,
    }


ROOT = Path(__file__).resolve().parent.parent


def _timed_process(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd`` to its end; (wall s from launch to exit, child CPU s, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def process_fast(seed: int, folder: Path) -> dict:
    """One whole ``digitpad train --arch fast`` process with the user defaults."""
    out = folder / f"fast-{seed}.keras"
    cmd = [sys.executable, "-m", "digitpad", "train", "--arch", "fast", "--seed", str(seed),
           "--out", str(out)]
    wall, cpu, stdout = _timed_process(cmd)
    acc = re.search(r"test accuracy: ([0-9.]+) %", stdout)
    took = re.search(r"training time: (.+)", stdout)
    return {"seed": seed, "command": " ".join(["digitpad", *cmd[3:]]), "wall_s": wall,
            "cpu_s": cpu, "test_accuracy": float(acc.group(1)) / 100 if acc else None,
            "reported_training_time": took.group(1).strip() if took else None}


def process_baseline(target: float, max_epochs: int) -> dict:
    """The seed's ``mnist_cnn`` as a whole process, launch to the epoch reaching ``target``."""
    cmd = [sys.executable, str(ROOT / "bench" / "seed_mnist_cnn.py"), "--target", str(target),
           "--max-epochs", str(max_epochs)]
    wall, cpu, stdout = _timed_process(cmd)
    res = json.loads(stdout.strip().splitlines()[-1])
    return {"name": "seed mnist_cnn (whole process)", "wall_s": wall, "cpu_s": cpu, **res}


def main_processes(args: argparse.Namespace) -> int:
    """Whole processes: ``digitpad train --arch fast`` per seed, then the seed's script."""
    cores = os.cpu_count() or 1
    phases = None
    with tempfile.TemporaryDirectory(prefix="digitpad-bench-train-") as tmp:
        runs = []
        for seed in args.seeds:
            runs.append(process_fast(seed, Path(tmp)))
            r = runs[-1]
            print(f"  digitpad train --arch fast --seed {seed}: {r['test_accuracy']:.2%} in "
                  f"{r['wall_s']:.1f} s (launch to exit)", flush=True)
        if args.phases:
            _, _, text = _timed_process([sys.executable, str(ROOT / "bench" / "train_phases.py"),
                                         "--out", str(Path(tmp) / "phases.keras")])
            phases = json.loads(text.strip().splitlines()[-1])
            print("  phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()
                                           if k != "test_accuracy"), flush=True)
    base = process_baseline(args.target, args.max_epochs)
    print(f"  seed mnist_cnn: epochs {base['accuracies']}, reached at epoch "
          f"{base['reached_at_epoch']}, {base['wall_s']:.1f} s (launch to exit)", flush=True)
    walls = sorted(r["wall_s"] for r in runs)
    median = walls[len(walls) // 2]
    all_ok = all((r["test_accuracy"] or 0) >= args.target for r in runs)
    ratio = base["wall_s"] / median
    verdict = (f"{ratio:.1f}x less wall time (median digitpad process)" if all_ok and
               base["reached_at_epoch"] else f"target not reached by both (ratio {ratio:.1f})")
    print()
    print("| process | seed | test accuracy | wall s, launch to exit | CPU use |")
    print("|---|---|---|---|---|")
    for r in runs:
        print(f"| `digitpad train --arch fast` | {r['seed']} | {r['test_accuracy']:.2%} | "
              f"{r['wall_s']:.1f} | {r['cpu_s'] / r['wall_s'] / cores:.0%} |")
    print(f"| seed `mnist_cnn` | - | {base['accuracies'][-1]:.2%} (epoch "
          f"{len(base['accuracies'])}) | {base['wall_s']:.1f} | "
          f"{base['cpu_s'] / base['wall_s'] / cores:.0%} |")
    print(f"\nratio (baseline / digitpad): {verdict}")
    if args.json:
        write_json(args.json, {
            "benchmark": "whole processes: launch to saved model / to target test accuracy",
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "target": args.target,
            "machine": {"cores": cores, "platform": platform.platform(),
                        "python": platform.python_version()},
            "digitpad_runs": runs, "digitpad_median_wall_s": median, "phases": phases,
            "baseline": base, "ratio": ratio, "verdict": verdict,
        })
        print(f"wrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-epochs", type=int, default=12, help="cap for the baseline (default 12)")
    ap.add_argument("--target", type=float, default=0.99, help="test accuracy to reach (default 0.99)")
    ap.add_argument("--limit", type=int, default=None, help="use only N training images (smoke runs)")
    ap.add_argument("--test-limit", type=int, default=None, help="use only N test images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fast-repeat", type=int, default=3, help="runs of `fast` (median reported)")
    ap.add_argument("--json", type=Path, default=None, help="write the results as JSON here")
    ap.add_argument("--in-process", action="store_true",
                    help="both in this process, TensorFlow imported before (no validation split)")
    ap.add_argument("--seeds", type=lambda v: [int(s) for s in v.split(",")], default=[0, 1, 2],
                    help="whole-process mode: the seeds of the `digitpad train` runs (default 0,1,2)")
    ap.add_argument("--phases", action="store_true", help="whole-process mode: time the phases")
    args = ap.parse_args(argv)
    if not args.in_process:
        return main_processes(args)

    ds = load_dataset(None)
    if args.limit or args.test_limit:
        ds = ds.subset(args.limit, args.test_limit, seed=args.seed)
    tf()  # import before timing
    cores = os.cpu_count() or 1
    print(f"data: {len(ds.x_train)} train / {len(ds.x_test)} test; {cores} cores", flush=True)

    # `fast` is short, so it runs several times (the median run is reported): one run on a
    # shared machine can be slowed by a neighbour; the baseline's minutes average that out.
    runs = []
    for i in range(args.fast_repeat):
        runs.append(run_fast(ds, args.seed))
        print(f"  fast run {i + 1}: test accuracy {runs[-1]['test_accuracy']:.4f} in "
              f"{runs[-1]['wall_s']:.1f} s", flush=True)
    fast = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    fast["wall_s_all_runs"] = [r["wall_s"] for r in runs]
    base = run_baseline(ds, args.target, args.max_epochs, args.seed)
    for r in (fast, base):
        r["cpu_utilisation"] = r["cpu_s"] / r["wall_s"] / cores
        r["reached_target"] = r["test_accuracy"] >= args.target
    fast_ok, base_ok = fast["reached_target"], base["reached_target"]
    ratio = base["wall_s"] / fast["wall_s"]
    if fast_ok and base_ok:
        verdict = f"{ratio:.1f}x less wall time to {args.target:.1%}"
    elif fast_ok:
        verdict = (f"> {ratio:.1f}x (baseline did not reach {args.target:.1%} "
                   f"in {base['epochs']} epochs)")
    else:
        verdict = f"fast did not reach {args.target:.1%} (ratio of wall times {ratio:.1f})"

    def fmt(r):
        time_to = f"{r['wall_s']:.1f}" if r["reached_target"] else f"not reached ({r['wall_s']:.1f})"
        return (f"| {r['name']} | {r['epochs']} | {r['test_accuracy']:.2%} | {time_to} | "
                f"{r['train_samples_per_s']:.0f} | {r['cpu_utilisation']:.0%} |")

    print()
    print(f"| model | epochs | test accuracy | wall s to {args.target:.1%} | train samples/s | CPU use |")
    print("|---|---|---|---|---|---|")
    print(fmt(fast))
    print(fmt(base))
    print()
    print(f"ratio (baseline / digitpad): {verdict}")
    report = {
        "benchmark": "training time to target test accuracy",
        "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        "target": args.target,
        "train_images": int(len(ds.x_train)),
        "test_images": int(len(ds.x_test)),
        "machine": {"cores": cores, "platform": platform.platform(), "python": platform.python_version(),
                    "tensorflow": tf().__version__, "keras": keras().__version__},
        "digitpad": fast,
        "baseline": base,
        "ratio": ratio,
        "verdict": verdict,
    }
    if args.json:
        write_json(args.json, report)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    raise SystemExit(main())
