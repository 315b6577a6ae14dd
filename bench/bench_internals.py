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
from PySide6.QtCore import QEvent, QObject, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.common import machine_description, markdown_table, summarize  # noqa: E402

GOAL_MS = 16.0


class _PaintProbe(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.last_paint = 0.0
        self.paints = 0

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint:
            self.last_paint = time.perf_counter()
            self.paints += 1
        return False


def _points(n: int, phase: float) -> list[tuple[float, float]]:
    """A continuous scribble (loops of an '8'), in pad coordinates [0, 1]."""
    return [(0.5 + 0.25 * math.sin(phase + 2 * math.pi * i / 120),
             0.5 + 0.29 * math.sin(2 * (phase + 2 * math.pi * i / 120))) for i in range(n)]


class _Driver:
    """Sends mouse events to the pad and times move -> bars repainted."""

    def __init__(self, app: QApplication, tab) -> None:
        self.app, self.tab, self.pad = app, tab, tab.pad
        self.probe = _PaintProbe()
        tab.bars.viewport().installEventFilter(self.probe)

    def _send(self, kind, x, y, button, buttons) -> None:
        pad = self.pad
        side = min(pad.width(), pad.height())
        pos = QPointF((pad.width() - side) / 2 + x * side, (pad.height() - side) / 2 + y * side)
        QApplication.sendEvent(pad, QMouseEvent(kind, pos, pad.mapToGlobal(pos), button, buttons,
                                                Qt.KeyboardModifier.NoModifier))

    def block(self, moves: int, phase: float, on_result=None) -> list[float]:
        """One stroke of ``moves`` moves on a cleared pad; the latency of each, in ms."""
        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
        self.pad.clear()
        self.app.processEvents()
        points = _points(moves + 1, phase)
        self._send(QMouseEvent.Type.MouseButtonPress, *points[0], left, left)
        self.app.processEvents()
        out = []
        for x, y in points[1:]:
            before = self.probe.paints
            t0 = time.perf_counter()
            self._send(QMouseEvent.Type.MouseMove, x, y, none, left)
            deadline = t0 + 1.0
            while self.probe.paints == before and time.perf_counter() < deadline:
                self.app.processEvents()
            out.append((self.probe.last_paint - t0) * 1000.0)
            # the next move comes about 4 ms later, as from a 240 Hz tablet or a fast mouse
            pause = time.perf_counter() + 0.004
            while time.perf_counter() < pause:
                self.app.processEvents()
        self._send(QMouseEvent.Type.MouseButtonRelease, *points[-1], left, none)
        self.app.processEvents()
        return out


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
    real_show = internals.show_prediction

    def show_prediction(prediction, shape):
        if prediction is not None and not prediction.blank:
            move_times.setdefault(prediction.normalized.image.tobytes(), time.perf_counter())
        real_show(prediction, shape)

    internals.show_prediction = show_prediction
    real_draw = internals._draw

    def draw(result):
        real_draw(result)
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

    samples = {"off": [], "on": []}
    started0, submitted0, delivered0 = (internals.coalescer.started,
                                        internals.coalescer.submitted,
                                        internals.coalescer.delivered)
    lags.clear()
    on_moves = 0
    for b in range(args.blocks):
        for mode in ("off", "on"):
            set_internals(mode == "on")
            lat = driver.block(args.moves, 0.7 * b + (0.3 if mode == "on" else 0.0))
            samples[mode].extend(lat)
            on_moves += len(lat) if mode == "on" else 0
    set_internals(False)
    stats = {m: summarize(f"internals {m}", np.asarray(v) * 1e6) for m, v in samples.items()}
    jobs = {
        "submitted": internals.coalescer.submitted - submitted0,
        "started": internals.coalescer.started - started0,
        "delivered": internals.coalescer.delivered - delivered0,
        "moves_with_internals_on": on_moves,
    }
    lag = summarize("internals lag", np.asarray(lags) * 1e6) if lags else None

    off, on = stats["off"], stats["on"]
    rows = [
        ["internals OFF (baseline)", len(samples["off"]), off.median_ms, off.p99_ms, off.max_ms, "—"],
        ["internals ON (activations + attribution)", len(samples["on"]), on.median_ms, on.p99_ms,
         on.max_ms, f"{on.p99_ms / off.p99_ms:.2f}×" if off.p99_ms > 0 else "—"],
    ]
    backend = getattr(tab.predictor, "backend", "?")
    lines = [
        f"# Drawing latency with the live internals ({args.blocks} OFF/ON block pairs of "
        f"{args.moves} moves, offscreen Qt, predictor backend: {backend})",
        "",
        "Mouse move on the pad → probability bars repainted:",
        "",
        markdown_table(["mode", "moves", "median ms", "p99 ms", "max ms", "p99 vs OFF"],
                       [[r[0], r[1], f"{r[2]:.2f}", f"{r[3]:.2f}", f"{r[4]:.2f}", r[5]]
                        for r in rows]),
        "",
        f"p99 ≤ {GOAL_MS:.0f} ms with the internals on: "
        f"{'yes' if on.p99_ms <= GOAL_MS else 'NO'}",
        "",
        f"Internals jobs while ON: {jobs['submitted']} requested (one per prediction shown), "
        f"{jobs['started']} computed, {jobs['delivered']} drawn — the rest were superseded "
        "before they started (latest only, never queued).",
    ]
    if lag is not None:
        lines.append(f"Internals lag (pen move → its activations and heatmap drawn): median "
                     f"{lag.median_ms:.0f} ms, p99 {lag.p99_ms:.0f} ms.")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "internals.md").write_text(text, encoding="utf-8")
    (out / "internals.json").write_text(json.dumps({
        "machine": machine_description(),
        "model": str(path),
        "backend": backend,
        "moves_per_block": args.moves,
        "blocks": args.blocks,
        "latency": {m: s.to_dict() for m, s in stats.items()},
        "p99_ratio_on_vs_off": on.p99_ms / off.p99_ms if off.p99_ms > 0 else None,
        "goal_p99_ms": GOAL_MS,
        "goal_met": on.p99_ms <= GOAL_MS,
        "jobs": jobs,
        "internals_lag": None if lag is None else lag.to_dict(),
    }, indent=2), encoding="utf-8")
    win._ask = lambda *a: None
    win.train_tab.shutdown()
    win._closing = True
    win.runner.stop_all()
    win.runner.wait_all(30000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
