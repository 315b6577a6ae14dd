"""Drawing latency: from a mouse-move event on the pad to repainted probability bars.

In a real QApplication (offscreen by default) with a real model, this sends continuous mouse-move
events to the Recognize tab's pad, as a person drawing does, and for each move measures the time
from dispatching the event until the bars' viewport has repainted with the new prediction (a
paint-event hook on the plot's viewport). Reports median / p99 / max over >= 500 moves as a
Markdown table. Goal: p99 <= 16 ms (one frame at 60 Hz).

    python bench/bench_drawing.py [--model PATH] [--moves 600]

Without --model it uses models/default.keras, or trains a small `fast` model on 3000 MNIST images
first (about half a minute) when that file does not exist.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QObject, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


class PaintProbe(QObject):
    """Event filter: the time of the last paint event of the watched widget."""

    def __init__(self) -> None:
        super().__init__()
        self.last_paint = 0.0
        self.paints = 0

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint:
            self.last_paint = time.perf_counter()
            self.paints += 1
        return False


def _model_path(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    from digitpad.core.paths import bundled_model_path

    bundled = bundled_model_path()
    if bundled.is_file():
        return bundled
    from digitpad.core.data import load_dataset
    from digitpad.core.modelfile import save_model
    from digitpad.core.training import TrainConfig, Trainer

    print("no bundled model: training a small `fast` model first…", file=sys.stderr)
    data = load_dataset(None).subset(n_train=3000, n_test=1000, seed=0)
    result = Trainer(TrainConfig(arch="fast", epochs=2, device="cpu"), dataset=data).run()
    path = Path(tempfile.mkdtemp()) / "bench_fast.keras"
    save_model(result.model, path, metadata=result.metadata())
    return path


def _path_points(n: int) -> list[tuple[float, float]]:
    """A long continuous scribble (loops of a '0', an '8' shape), in pad coordinates [0, 1]."""
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / 120
        pts.append((0.5 + 0.25 * math.sin(t), 0.5 + 0.32 * math.sin(2 * t) * 0.9))
    return pts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--moves", type=int, default=600)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    from digitpad.gui.main_window import MainWindow

    path = _model_path(args.model)
    win = MainWindow()
    win.resize(1100, 760)
    win.show()
    app.processEvents()
    ready = []
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
    pad = tab.pad
    probe = PaintProbe()
    tab.bars.viewport().installEventFilter(probe)

    side = min(pad.width(), pad.height())
    left, top = (pad.width() - side) / 2, (pad.height() - side) / 2

    def send(kind, x, y, button, buttons):
        pos = QPointF(left + x * side, top + y * side)
        ev = QMouseEvent(kind, pos, pad.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(pad, ev)

    points = _path_points(args.moves + 1)
    latencies = []
    infer = []
    send(QMouseEvent.Type.MouseButtonPress, *points[0], Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
    app.processEvents()
    for i, (x, y) in enumerate(points[1:], 1):
        if i % 150 == 0:  # lift the pen now and then so the drawing does not fill the pad
            send(QMouseEvent.Type.MouseButtonRelease, x, y, Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)
            pad.clear()
            app.processEvents()
            send(QMouseEvent.Type.MouseButtonPress, x, y, Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
            app.processEvents()
        paints_before = probe.paints
        t0 = time.perf_counter()
        send(QMouseEvent.Type.MouseMove, x, y, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
        # run the event loop until the bars have repainted with this move's prediction
        spin_deadline = t0 + 1.0
        while probe.paints == paints_before and time.perf_counter() < spin_deadline:
            app.processEvents()
        latencies.append((probe.last_paint - t0) * 1000.0)
        if tab.last_latency_ms is not None:
            infer.append(tab.last_latency_ms)
    send(QMouseEvent.Type.MouseButtonRelease, *points[-1], Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)
    app.processEvents()

    lat = np.array(latencies)
    inf = np.array(infer)
    backend = getattr(tab.predictor, "backend", "?")
    print(f"# Drawing latency ({len(lat)} mouse moves, offscreen Qt, predictor backend: {backend})\n")
    print("| measure | median ms | p99 ms | max ms | goal |")
    print("|---|---|---|---|---|")
    print(f"| mouse move → bars repainted | {np.median(lat):.2f} | {np.percentile(lat, 99):.2f} | "
          f"{lat.max():.2f} | p99 ≤ 16 ms |")
    if inf.size:
        print(f"| of which canvas → probabilities (recognize) | {np.median(inf):.2f} | "
              f"{np.percentile(inf, 99):.2f} | {inf.max():.2f} | p99 ≤ 1 ms |")
    print(f"\np99 goal met: {'yes' if np.percentile(lat, 99) <= 16 else 'NO'}")
    win._ask = lambda *a: None
    win.train_tab.shutdown()
    win._closing = True
    win.runner.wait_all(30000)
    win.deleteLater()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
