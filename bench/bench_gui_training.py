"""GUI responsiveness while training: digitpad's Train tab against plain-QThread baselines, one run.

Each design runs in its own child process (clean TensorFlow state and a clean peak-RSS reading)
with a real offscreen QApplication, trains ``fast`` on the same data (full bundled MNIST by
default) for one epoch, and meanwhile:

* a 10 ms ``Qt.PreciseTimer`` records its lateness (actual interval − 10 ms): max, p99, median;
* every 5th tick a live prediction (``inference.recognize`` on a 280×280 canvas, on the GUI
  thread, as the Recognize tab does) is timed;
* the peak RSS (``VmHWM``) of the process is read at the end.

Designs:

``naive``          the tutorial way: the whole training array converted on the GUI thread on Start,
                   then a plain ``QThread`` (normal priority) emitting a signal per batch, each
                   received batch redrawn at once.
``plain-qthread``  data loaded in the worker, otherwise as ``naive`` (the issue's baseline: plain
                   QThread without priority lowering and without throttling).
``digitpad-nice0`` digitpad's Train tab with the worker's priority left alone (throttling only).
``digitpad-before`` digitpad's Train tab with the fixes below switched off (throttled progress and
                   worker at nice 10 only). Since issue 8 this is today's tab (TaskRunner over superqt
                   workers, cyclic GC on the GUI thread: a deadlock fix that is never switched off)
                   with those measures off, not the code measured before them.
``digitpad-no-renice`` / ``digitpad-no-redraw-cap`` / ``digitpad-no-switch`` / ``digitpad-constant`` /
``digitpad-no-freeze``
                   ablations: everything shipped except one fix (TensorFlow pool threads reniced,
                   per-batch redraw capped at 4 Hz, 1 ms GIL switch interval, GIL-free tensor build,
                   start-up heap frozen out of the garbage collector's full passes).
``digitpad``       digitpad's Train tab as shipped.

``--trace`` runs a sampler thread in the child that records every thread's Python stack every
2 ms; each timer stall over 30 ms is then printed with what each thread was doing (stderr). The
sampler adds load, so traced numbers are for attribution, not for the table.

TensorFlow is imported and the predictor built before the clock starts in every design (the app
loads them at start-up, before anyone trains). Timings are reported; nothing is asserted.

Usage::

    python bench/bench_gui_training.py [--limit N] [--epochs N] [--designs a,b] [--repeat N]
                                       [--json PATH] [--trace]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.common import machine_description, machine_line, markdown_table, write_json  # noqa: E402
from digitpad.core.jsonable import dumps  # noqa: E402

DESIGNS = ("naive", "plain-qthread", "digitpad-nice0", "digitpad-before", "digitpad-no-renice",
           "digitpad-no-redraw-cap", "digitpad-no-switch", "digitpad-constant", "digitpad-no-freeze", "digitpad")
DEFAULT_DESIGNS = ("plain-qthread", "digitpad-before", "digitpad")
GOAL_MAX_MS = 50.0
GOAL_P99_MS = 16.0


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _stats(values_ms: list[float]) -> dict:
    if not values_ms:
        return {"n": 0}
    a = np.asarray(values_ms, dtype=np.float64)
    return {
        "n": int(a.size),
        "median_ms": float(np.median(a)),
        "p99_ms": float(np.percentile(a, 99)),
        "max_ms": float(a.max()),
        "over_50ms": int((a > 50).sum()),
    }


# ------------------------------------------------------------------------------------- trace
class _StackSampler:
    """Every 2 ms, record each thread's Python stack (``sys._current_frames``).

    A sleep that overruns a lot means another thread held the GIL (or the CPU was busy); the
    stack seen on waking is the code that ran during the hold: the worker frame right after a
    long C call that kept the GIL, or the GUI thread inside a slow slot or paint.
    """

    def __init__(self) -> None:
        import threading

        self.samples: list[tuple[float, float, dict[int, list[str]]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stack-sampler", daemon=True)
        self.main_id = threading.get_ident()
        self.gc_runs: list[tuple[float, float, int, str]] = []  # (start, end, generation, thread)
        self._gc_start = 0.0

    def _on_gc(self, phase: str, info: dict) -> None:
        import threading

        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc_runs.append((self._gc_start, time.perf_counter(), info.get("generation", -1),
                                 "GUI" if threading.get_ident() == self.main_id else "worker"))

    def start(self) -> None:
        import gc

        gc.callbacks.append(self._on_gc)
        self._thread.start()

    def stop(self) -> None:
        import gc

        self._stop.set()
        self._thread.join()
        gc.callbacks.remove(self._on_gc)

    @staticmethod
    def _stack(frame, depth: int = 12) -> list[str]:
        out = []
        while frame is not None and len(out) < depth:
            code = frame.f_code
            out.append(f"{os.path.basename(code.co_filename)}:{frame.f_lineno}:{code.co_name}")
            frame = frame.f_back
        return out

    def _run(self) -> None:
        import threading

        me = threading.get_ident()
        while not self._stop.is_set():
            t0 = time.perf_counter()
            time.sleep(0.002)
            t1 = time.perf_counter()
            frames = sys._current_frames()
            self.samples.append((t0, t1, {tid: self._stack(f) for tid, f in frames.items() if tid != me}))

    def report(self, tick_times: list[float], lateness: list[float], t0: float, over_ms: float = 30.0) -> None:
        import bisect

        wake = [s[1] for s in self.samples]
        for t, late in zip(tick_times, lateness, strict=True):
            if late <= over_ms:
                continue
            start = t - (late + 10.0) / 1000.0
            print(f"=== stall {late:.0f} ms ending at {t - t0:.2f} s", file=sys.stderr)
            for g0, g1, gen, who in self.gc_runs:
                if g1 > start and g0 < t and g1 - g0 > 0.005:
                    print(f"  gc generation {gen} in {who} thread: {1000 * (g1 - g0):.0f} ms", file=sys.stderr)
            i, j = bisect.bisect_left(wake, start), bisect.bisect_right(wake, t + 0.005)
            for s0, s1, stacks in self.samples[i:j]:
                if (s1 - s0) * 1000 < 8:
                    continue
                print(f"  sampler slept {(s1 - s0) * 1000:.0f} ms", file=sys.stderr)
                for tid, st in stacks.items():
                    who = "GUI" if tid == self.main_id else f"thread {tid}"
                    print(f"    [{who}] " + " < ".join(st), file=sys.stderr)


# ------------------------------------------------------------------------------------- child
def _child(design: str, limit: int | None, epochs: int, trace: float = 0.0) -> dict:
    from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot
    from PySide6.QtWidgets import QApplication, QProgressBar, QVBoxLayout, QWidget

    app = QApplication.instance() or QApplication([])

    from digitpad.core.data import Dataset, load_dataset, to_model_input
    from digitpad.core.inference import Predictor, recognize
    from digitpad.core.paths import bundled_model_path
    from digitpad.core.tfsetup import keras
    from digitpad.gui.training_plots import TrainingPlots

    k = keras()
    model_name = "bundled default model"
    try:
        from digitpad.core.modelfile import load_model

        model = load_model(bundled_model_path()).model
    except Exception:
        from digitpad.core.archs import build_model

        model = build_model("fast")
        model_name = "fast (untrained)"
    predictor = Predictor(model)
    digit = load_dataset(None).x_test[0].astype(np.float32) / 255.0
    canvas = np.kron(digit, np.ones((10, 10), dtype=np.float32))  # 280x280, like the pad
    recognize(predictor, canvas)
    _ = k  # TensorFlow and Keras are loaded

    lateness: list[float] = []
    tick_times: list[float] = []
    first_batch: list[float] = []  # GUI time the first per-batch point arrived
    predict_ms: list[float] = []
    phase_marks: dict[str, float] = {}

    class Monitor(QObject):
        def __init__(self):
            super().__init__()
            self.timer = QTimer(self)
            self.timer.setTimerType(Qt.TimerType.PreciseTimer)
            self.timer.setInterval(10)
            self.timer.timeout.connect(self.tick)
            self.last = None
            self.ticks = 0

        def start(self):
            self.last = time.perf_counter()
            self.timer.start()

        @Slot()
        def tick(self):
            now = time.perf_counter()
            lateness.append(max(0.0, (now - self.last) * 1000.0 - 10.0))
            tick_times.append(now)
            self.last = now
            self.ticks += 1
            if self.ticks % 5 == 0:
                t0 = time.perf_counter()
                recognize(predictor, canvas)
                t1 = time.perf_counter()
                predict_ms.append((t1 - t0) * 1000.0)

    monitor = Monitor()
    train_info: dict = {}
    sampler = _StackSampler() if trace else None
    if sampler is not None:
        sampler.start()

    if design.startswith("digitpad"):
        import digitpad.core.training.pipeline as pipeline
        import digitpad.gui.training_plots as training_plots
        import digitpad.gui.workers as workers

        if design == "digitpad-nice0":
            workers.lower_current_thread_priority = lambda *a, **kw: False
        if design in ("digitpad-nice0", "digitpad-before", "digitpad-no-renice"):
            workers.RENICE_INTERVAL_S = 0
        if design in ("digitpad-nice0", "digitpad-before", "digitpad-no-redraw-cap"):
            training_plots.REDRAW_INTERVAL_MS = 0
        if design in ("digitpad-nice0", "digitpad-before", "digitpad-no-switch"):
            workers.JOB_SWITCH_INTERVAL_S = None
        if design in ("digitpad-nice0", "digitpad-before", "digitpad-constant"):
            pipeline.tensor_without_gil_stall = lambda a, T: T.constant(a)
        if design in ("digitpad-nice0", "digitpad-before", "digitpad-no-freeze"):
            workers._frozen = True  # freeze_long_lived_objects() becomes a no-op
        throttles: list = []  # the runner's ProgressThrottles, recorded to read their counters

        class RecordingThrottle(workers.ProgressThrottle):
            def __init__(self, *a, **kw):
                super().__init__(*a, **kw)
                if kw.get("renice_interval", 0) is None:  # a low-priority task's: the training run
                    throttles.append(self)

        workers.ProgressThrottle = RecordingThrottle  # tasks.py reads it as workers.ProgressThrottle
        from digitpad.gui.train_tab import TrainTab

        tab = TrainTab()
        tab.resize(1200, 800)
        tab.show()
        tab.form.arch_combo.setCurrentIndex(tab.form.arch_combo.findData("fast"))
        tab.form.epochs_spin.setValue(epochs)
        tab.form.limit_spin.setValue(limit or 0)
        tab.form.device_combo.setCurrentIndex(tab.form.device_combo.findData("cpu"))
        # let the tab's own start-up jobs (parameter count, GPU detection) finish first
        from digitpad.gui.tasks import shared_runner

        shared_runner().wait_all(60000)

        monitor.start()
        t_start = time.perf_counter()
        tab.start_training()
        while tab.is_training():
            app.processEvents()
            if not first_batch and tab.results.plots.point_counts()["batch_loss"] > 0:
                first_batch.append(time.perf_counter())
            time.sleep(0.001)
        t_end = time.perf_counter()
        result = tab.current_result()
        tab.shutdown()
        shared_runner().wait_all(60000)
        app.processEvents()
        train_throttle = throttles[-1] if throttles else None  # the training task's
        train_info = {
            "samples_per_s": getattr(result, "samples_per_s", None),
            "test_accuracy": getattr(result, "test_accuracy", None),
            "reason": getattr(result, "reason", None),
            "throttle_emits": train_throttle.emitted if train_throttle else None,
            "compute_threads_reniced": train_throttle.reniced if train_throttle else None,
            "plot_redraws": tab.results.plots.redraws,
        }
    else:
        class Worker(QThread):
            progress = Signal(object)
            done = Signal(object)

            def __init__(self, config, dataset):
                super().__init__()
                self.config, self.dataset = config, dataset

            def run(self):
                from digitpad.core.training import Trainer

                ds = self.dataset if self.dataset is not None else load_dataset(None)
                if self.config.train_limit and self.dataset is None:
                    ds = ds.subset(self.config.train_limit, None, seed=0)
                trainer = Trainer(self.config, dataset=ds, on_progress=self.progress.emit)
                self.done.emit(trainer.run())

        class Window(QWidget):
            def __init__(self):
                super().__init__()
                self.plots = TrainingPlots(self)
                self.bar = QProgressBar(self)
                lay = QVBoxLayout(self)
                lay.addWidget(self.plots)
                lay.addWidget(self.bar)
                self.result = None
                self.deliveries = 0

            @Slot(object)
            def on_progress(self, p):
                self.deliveries += 1
                if p.kind == "batch":
                    if not first_batch:
                        first_batch.append(time.perf_counter())
                    self.plots.add_batches([p.epoch_float], [p.logs])
                    self.bar.setRange(0, p.epochs * p.batches)
                    self.bar.setValue((p.epoch - 1) * p.batches + p.batch)
                elif p.kind == "epoch":
                    self.plots.add_epoch(p.epoch_float, p.logs)

            @Slot(object)
            def on_done(self, result):
                self.result = result

        from digitpad.core.training import TrainConfig

        config = TrainConfig(arch="fast", epochs=epochs, device="cpu", train_limit=limit or None)
        win = Window()
        win.resize(1200, 800)
        win.show()
        monitor.start()
        t_start = time.perf_counter()
        dataset = None
        if design == "naive":  # the whole array prepared on the GUI thread, as a naive app does
            ds = load_dataset(None)
            if limit:
                ds = ds.subset(limit, None, seed=0)
            x = to_model_input(ds.x_train)  # float32 (N,28,28,1) built on the GUI thread
            dataset = Dataset((x[..., 0] * 255).round().astype(np.uint8), ds.y_train, ds.x_test, ds.y_test,
                              ds.source)
            phase_marks["gui_prep_s"] = time.perf_counter() - t_start
        worker = Worker(config, dataset)
        worker.progress.connect(win.on_progress)
        worker.done.connect(win.on_done)
        worker.start()
        while not worker.isFinished() or win.result is None:
            app.processEvents()
            time.sleep(0.001)
        t_end = time.perf_counter()
        worker.wait()
        result = win.result
        train_info = {
            "samples_per_s": getattr(result, "samples_per_s", None),
            "test_accuracy": getattr(result, "test_accuracy", None),
            "reason": getattr(result, "reason", None),
            "gui_deliveries": win.deliveries,
        }
    monitor.timer.stop()
    if sampler is not None:
        sampler.stop()
        sampler.report(tick_times, lateness, t_start, over_ms=trace)
    t_first = first_batch[0] if first_batch else t_end
    prep = [v for v, t in zip(lateness, tick_times, strict=True) if t <= t_first]
    batches = [v for v, t in zip(lateness, tick_times, strict=True) if t > t_first]
    return {
        "prepare_s": t_first - t_start,
        "lateness_prepare": _stats(prep),
        "lateness_batches": _stats(batches),
        "design": design,
        "model_for_live_predict": model_name,
        "predictor_backend": predictor.backend,
        "wall_s": t_end - t_start,
        "timer_lateness": _stats(lateness),
        "live_predict": _stats(predict_ms),
        "peak_rss_mb": _status_kb("VmHWM") / 1024.0,
        **phase_marks,
        **train_info,
    }


# ------------------------------------------------------------------------------------ parent
def _median_result(rs: list[dict]) -> dict:
    """Element-wise median of the numeric fields of repeated runs of one design."""
    def med(values):
        nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(nums) != len(values):
            return values[0]
        return float(np.median(nums))

    out: dict = {}
    for key, value in rs[0].items():
        if isinstance(value, dict):
            out[key] = {k: med([r.get(key, {}).get(k) for r in rs]) for k in value}
        else:
            out[key] = med([r.get(key) for r in rs])
    out["repeats"] = len(rs)
    out["runs"] = rs
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="train on N images (0 = all 60,000)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--designs", default=",".join(DEFAULT_DESIGNS),
                        help=f"comma-separated, from: {', '.join(DESIGNS)}")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the designs this many times, interleaved; the table shows medians")
    parser.add_argument("--trace", nargs="?", type=float, const=30.0, default=0.0, metavar="MS",
                        help="print what every thread was doing during each stall over MS ms (default 30; stderr)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--phase", choices=("batches", "all"), default="batches",
                        help="table over the batch phase (default) or the whole run incl. data/model set-up")
    parser.add_argument("--_child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._child:
        out = _child(args._child, args.limit or None, args.epochs, args.trace)
        print("RESULT " + dumps(out))
        return 0

    designs = [d.strip() for d in args.designs.split(",") if d.strip()]
    for d in designs:
        if d not in DESIGNS:
            parser.error(f"unknown design {d!r}; choose from {', '.join(DESIGNS)}")
    runs: dict[str, list[dict]] = {d: [] for d in designs}
    for rep in range(max(1, args.repeat)):
        for d in designs:
            cmd = [sys.executable, __file__, "--_child", d, "--limit", str(args.limit), "--epochs", str(args.epochs)]
            if args.trace:
                cmd += ["--trace", str(args.trace)]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT))
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if proc.returncode != 0 or line is None:
                print(f"design {d} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
                return 1
            if args.trace:
                print(f"--- trace of {d} (run {rep + 1})", file=sys.stderr)
                print("\n".join(ln for ln in proc.stderr.splitlines()
                                if ln.startswith(("===", "  sampler", "    [", "  gc"))), file=sys.stderr)
            runs[d].append(json.loads(line[len("RESULT "):]))
            r = runs[d][-1]["lateness_batches"]
            print(f"… {d} run {rep + 1}: {runs[d][-1]['wall_s']:.1f} s, max {r.get('max_ms', 0):.1f} ms,"
                  f" p99 {r.get('p99_ms', 0):.1f} ms", file=sys.stderr)
    results = [_median_result(runs[d]) for d in designs]

    info = machine_description()
    base = next((r for r in results if r["design"] == "plain-qthread"), results[0])
    rows = []
    setup_rows = []
    for r in results:
        pr = r["live_predict"]
        lat = r["lateness_batches"] if args.phase == "batches" else r["timer_lateness"]
        rows.append([
            r["design"],
            f"{lat['max_ms']:.1f}",
            f"{lat['p99_ms']:.1f}",
            f"{lat['median_ms']:.2f}",
            f"{lat['over_50ms']:g}",
            f"{pr['p99_ms']:.2f}" if pr.get("n") else "–",
            f"{r['wall_s']:.1f}",
            f"{(r.get('samples_per_s') or 0):,.0f}",
            f"{100 * (r.get('test_accuracy') or 0):.2f}",
            f"{r['peak_rss_mb']:.0f}",
            f"{(base['lateness_batches'] if args.phase == 'batches' else base['timer_lateness'])['p99_ms'] / max(lat['p99_ms'], 1e-9):.2f}×",
        ])
        setup_rows.append([r["design"], f"{r['prepare_s']:.1f}", f"{r['lateness_prepare'].get('max_ms', 0):.1f}",
                           f"{r['lateness_prepare'].get('p99_ms', 0):.1f}"])
    limit_text = f"{args.limit} images" if args.limit else "all 60,000 images"
    print(f"## GUI responsiveness while training `fast` ({args.epochs} epoch(s), {limit_text},"
          f" median of {max(1, args.repeat)} run(s) per design)\n")
    print(f"Machine: {machine_line(info)}\n")
    print(markdown_table(
        ["design", "timer late max ms", "p99 ms", "median ms", "ticks > 50 ms", "live predict p99 ms",
         "wall s", "samples/s", "test acc %", "peak RSS MB", "p99 vs plain-qthread"],
        rows,
    ))
    print(f"\nTable: {'batch phase (first batch to end of run)' if args.phase == 'batches' else 'whole run'}."
          " Set-up phase (Start to first batch: data loading, model build, graph tracing):\n")
    print(markdown_table(["design", "set-up s", "timer late max ms", "p99 ms"], setup_rows))
    print(f"\nGoal: timer lateness max ≤ {GOAL_MAX_MS:.0f} ms and p99 ≤ {GOAL_P99_MS:.0f} ms while training.")
    for r in results:
        if "gui_prep_s" in r:
            print(f"`{r['design']}` spent {1000 * r['gui_prep_s']:.0f} ms preparing data on the GUI thread.")
    if args.json:
        write_json(args.json, {"machine": info, "epochs": args.epochs, "limit": args.limit,
                               "repeat": max(1, args.repeat), "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
