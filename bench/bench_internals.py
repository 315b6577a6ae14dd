"""Drawing latency with the live internals on: mouse move on the pad -> repainted probability bars.

The real window (offscreen Qt by default) with the bundled model; continuous mouse-move events are
sent to the Recognize tab's pad as a person drawing does. For each move the time from dispatching
the event until the bars' viewport has repainted is measured (a paint-event hook on the plot's
viewport, as ``bench_drawing.py`` does). The same run measures it in blocks with the internals
OFF (baseline) and ON (activations and attribution both shown, computed in a worker, latest
only), alternating OFF/ON blocks so that machine load hits both alike. With the internals on it
also reports how many internals results were drawn and their lag (pen move -> the activations and
heatmap of that drawing on screen). Goal: p99 <= 16 ms with the internals on.

    python bench/bench_internals.py [--model PATH] [--moves 400] [--blocks 3] [--out bench/results]

Writes ``internals.md`` and ``internals.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_TMP = tempfile.mkdtemp(prefix="digitpad-bench-internals-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_TMP, "config")   # the toggles' state stays here
os.environ["DIGITPAD_HOME"] = os.path.join(_TMP, "data")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.bench_drawing import PaintProbe  # noqa: E402
from bench.common import machine_description, markdown_table, summarize  # noqa: E402

GOAL_MS = 16.0


def _points(n: int, phase: float) -> list[tuple[float, float]]:
    """A continuous scribble (loops of an '8'), in pad coordinates [0, 1]."""
    return [(0.5 + 0.25 * math.sin(phase + 2 * math.pi * i / 120),
             0.5 + 0.29 * math.sin(2 * (phase + 2 * math.pi * i / 120))) for i in range(n)]


class _Driver:
    """Sends mouse events to the pad and times move -> bars repainted."""

    def __init__(self, app: QApplication, tab) -> None:
        self.app, self.tab, self.pad = app, tab, tab.pad
        self.probe = PaintProbe()
        tab.bars.viewport().installEventFilter(self.probe)

    def _send(self, kind, x, y, button, buttons) -> None:
        pad = self.pad
        side = min(pad.width(), pad.height())
        pos = QPointF((pad.width() - side) / 2 + x * side, (pad.height() - side) / 2 + y * side)
        QApplication.sendEvent(pad, QMouseEvent(kind, pos, pad.mapToGlobal(pos), button, buttons,
                                                Qt.KeyboardModifier.NoModifier))

    def block(self, moves: int, phase: float) -> tuple[list[float], list[float]]:
        """One stroke of ``moves`` moves on a cleared pad: latency and recognise time (ms) each."""
        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
        self.pad.clear()
        self.app.processEvents()
        points = _points(moves + 1, phase)
        self._send(QMouseEvent.Type.MouseButtonPress, *points[0], left, left)
        self.app.processEvents()
        out, cpu = [], []
        for x, y in points[1:]:
            before = self.probe.paints
            t0 = time.perf_counter()
            self._send(QMouseEvent.Type.MouseMove, x, y, none, left)
            deadline = t0 + 1.0
            while self.probe.paints == before and time.perf_counter() < deadline:
                self.app.processEvents()
            out.append((self.probe.last_paint - t0) * 1000.0)
            if self.tab.last_latency_ms is not None:
                cpu.append(self.tab.last_latency_ms)
            # the next move comes about 4 ms later, as from a 240 Hz tablet or a fast mouse
            pause = time.perf_counter() + 0.004
            while time.perf_counter() < pause:
                self.app.processEvents()
        self._send(QMouseEvent.Type.MouseButtonRelease, *points[-1], left, none)
        self.app.processEvents()
        return out, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model file (default: the bundled model)")
    parser.add_argument("--moves", type=int, default=400, help="mouse moves per block")
    parser.add_argument("--blocks", type=int, default=3, help="OFF/ON block pairs")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    from digitpad.core.paths import bundled_model_path
    from digitpad.gui.main_window import MainWindow

    path = Path(args.model) if args.model else bundled_model_path()
    win = MainWindow()
    win.resize(1180, 800)
    win.show()
    app.processEvents()
    ready: list[str] = []
    win.model_ready.connect(ready.append)
    win.open_model(str(path))
    deadline = time.time() + 300
    while not ready and time.time() < deadline:
        app.processEvents()
        time.sleep(0.005)
    if not ready:
        print("model did not load", file=sys.stderr)
        return 1
    tab = win.recognize_tab
    internals = tab.internals
    driver = _Driver(app, tab)

    # lag of the internals: from the move whose drawing a result shows to that result drawn
    move_times: dict[bytes, float] = {}
    lags: list[float] = []
    draw_ms: list[float] = []   # GUI-thread time drawing one internals result
    real_show = internals.show_prediction

    def show_prediction(prediction, shape):
        if prediction is not None and not prediction.blank:
            move_times.setdefault(prediction.normalized.image.tobytes(), time.perf_counter())
        real_show(prediction, shape)

    internals.show_prediction = show_prediction
    real_draw = internals._draw

    def draw(result):
        d0 = time.perf_counter()
        real_draw(result)
        draw_ms.append((time.perf_counter() - d0) * 1000.0)
        t = move_times.get(np.asarray(result.image28).tobytes())
        if t is not None:
            lags.append((time.perf_counter() - t) * 1000.0)

    internals._draw = draw

    def set_internals(on: bool) -> None:
        internals.activations_action.setChecked(on)
        internals.attribution_action.setChecked(on)
        # let the jobs of the previous block end and build the model's probe once (warm-up)
        end = time.time() + 60
        while (internals.coalescer.in_flight or internals.coalescer.pending) and time.time() < end:
            app.processEvents()
            time.sleep(0.002)

    # warm-up: both modes once (tf.function tracing of the probe and attributor)
    for on in (False, True):
        set_internals(on)
        driver.block(60, 0.0)
    set_internals(False)

    modes = {   # name -> (internals shown, jobs at low priority)
        "off": (False, True),
        "on": (True, True),
        "on-normal-priority": (True, False),
    }
    samples: dict[str, list[float]] = {m: [] for m in modes}
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    jobs: dict[str, dict[str, int]] = {m: {"submitted": 0, "started": 0, "delivered": 0}
                                       for m in modes}
    lag_ms: dict[str, list[float]] = {m: [] for m in modes}
    latest = internals.coalescer
    for b in range(args.blocks):
        for k, (mode, (shown, low)) in enumerate(modes.items()):
            latest.low_priority = low
            set_internals(shown)
            counts = (latest.submitted, latest.started, latest.delivered)
            lags.clear()
            lat, used = driver.block(args.moves, 0.7 * b + 0.2 * k)
            set_internals(shown)   # let the last job end (its lag counts)
            samples[mode].extend(lat)
            cpu[mode].extend(used)
            lag_ms[mode].extend(lags)
            for key, before in zip(("submitted", "started", "delivered"), counts, strict=True):
                jobs[mode][key] += getattr(latest, key) - before
    latest.low_priority = True
    set_internals(False)
    stats = {m: summarize(f"internals {m}", np.asarray(v) * 1e6) for m, v in samples.items()}
    recog = summarize("recognize", np.asarray(sum(cpu.values(), [])) * 1e6)
    drawing = summarize("draw internals", np.asarray(draw_ms) * 1e6) if draw_ms else None
    lag = {m: summarize(f"lag {m}", np.asarray(v) * 1e6) for m, v in lag_ms.items() if v}

    off = stats["off"]
    labels = {"off": "internals OFF (baseline)",
              "on": "internals ON (activations + attribution)",
              "on-normal-priority": "internals ON, jobs at normal priority (ablation)"}
    rows = []
    for m, st in stats.items():
        ratio = "—" if m == "off" or off.p99_ms <= 0 else f"{st.p99_ms / off.p99_ms:.2f}×"
        rows.append([labels[m], st.n, f"{st.median_ms:.2f}", f"{st.p99_ms:.2f}",
                     f"{st.max_ms:.2f}", ratio])
    on = stats["on"]
    backend = getattr(tab.predictor, "backend", "?")
    machine = machine_description()
    machine["load"] = " ".join(f"{v:.1f}" for v in os.getloadavg())
    lines = [
        f"# Drawing latency with the live internals ({args.blocks} rounds of {len(modes)} blocks "
        f"of {args.moves} moves, offscreen Qt, predictor backend: {backend})",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, load average at the end "
        f"{machine['load']}.",
        "",
        "Mouse move on the pad → probability bars repainted (wall clock):",
        "",
        markdown_table(["mode", "moves", "median ms", "p99 ms", "max ms", "p99 vs OFF"], rows),
        "",
        f"p99 ≤ {GOAL_MS:.0f} ms with the internals on: "
        f"{'yes' if on.p99_ms <= GOAL_MS else 'NO'}",
        "",
        f"Work on the GUI thread: canvas → probabilities (recognize) median {recog.median_ms:.2f} "
        f"ms, p99 {recog.p99_ms:.2f} ms"
        + ("" if drawing is None else f"; drawing one internals result (feature maps, heatmap, "
           f"pad overlay) median {drawing.median_ms:.2f} ms, p99 {drawing.p99_ms:.2f} ms") + ".",
        "",
    ]
    for m in ("on", "on-normal-priority"):
        j = jobs[m]
        text_lag = (f"; lag pen move → its activations and heatmap drawn: median "
                    f"{lag[m].median_ms:.0f} ms, p99 {lag[m].p99_ms:.0f} ms" if m in lag else "")
        lines.append(f"- {labels[m]}: {j['submitted']} internals requests (one per prediction "
                     f"shown), {j['started']} computed, {j['delivered']} drawn — the rest "
                     f"superseded before they started (latest only, never queued){text_lag}.")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "internals.md").write_text(text, encoding="utf-8")
    (out / "internals.json").write_text(json.dumps({
        "machine": machine,
        "model": str(path),
        "backend": backend,
        "moves_per_block": args.moves,
        "blocks": args.blocks,
        "latency": {m: st.to_dict() for m, st in stats.items()},
        "p99_ratio_on_vs_off": on.p99_ms / off.p99_ms if off.p99_ms > 0 else None,
        "goal_p99_ms": GOAL_MS,
        "goal_met": on.p99_ms <= GOAL_MS,
        "jobs": jobs,
        "internals_lag": {m: st.to_dict() for m, st in lag.items()},
        "recognize": recog.to_dict(),
        "draw_internals": None if drawing is None else drawing.to_dict(),
    }, indent=2), encoding="utf-8")
    win._ask = lambda *a: None
    win.train_tab.shutdown()
    win._closing = True
    win.runner.stop_all()
    win.runner.wait_all(30000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
