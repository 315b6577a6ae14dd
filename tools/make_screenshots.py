"""Render docs/screenshots/{recognize,train,evaluate,internals}.png from the real window (offscreen).

Recognize: a "3" drawn on the pad with real mouse strokes and recognised by the model, with the
normalisation steps shown. Internals: the same drawing with the live activations and attribution
switched on. Evaluate: the model evaluated on the MNIST test set, the confusion cell with the most
mistakes clicked (a real mouse click), its gallery shown. Train: a tiny real training run
(a few thousand images, 2 epochs) from the Train tab so the plots have curves. Settings and run
history go to a temporary folder, so the user's own are not touched.

    python tools/make_screenshots.py [--model PATH] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_TMP = tempfile.mkdtemp(prefix="digitpad-screenshots-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_TMP, "config")
os.environ["DIGITPAD_HOME"] = os.path.join(_TMP, "data")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402


def _spin(app: QApplication, cond, timeout: float) -> bool:
    deadline = time.time() + timeout
    while not cond() and time.time() < deadline:
        app.processEvents()
        time.sleep(0.01)
    return bool(cond())


def _three(n: int = 40) -> list[tuple[float, float]]:
    """Points of a hand-drawn '3' (two bowls), in [0, 1] pad coordinates."""
    import math

    upper = [(0.50 + 0.17 * math.sin(math.pi * (-0.35 + 1.25 * t / n)),
              0.33 - 0.13 * math.cos(math.pi * (-0.35 + 1.25 * t / n))) for t in range(n + 1)]
    lower = [(0.50 + 0.21 * math.sin(math.pi * (0.05 + 1.2 * t / n)),
              0.62 - 0.17 * math.cos(math.pi * (0.05 + 1.2 * t / n))) for t in range(n + 1)]
    return [(x + 0.01 * math.sin(7 * y), y) for x, y in upper + lower[1:]]


def _draw(pad, points) -> None:
    """One stroke through ``points`` with real mouse events (press, moves, release)."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent

    side = min(pad.width(), pad.height())
    left, top = (pad.width() - side) / 2, (pad.height() - side) / 2

    def send(kind, x, y, button, buttons):
        pos = QPointF(left + x * side, top + y * side)
        event = QMouseEvent(kind, pos, pad.mapToGlobal(pos), button, buttons,
                            Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(pad, event)

    left_button, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send(QMouseEvent.Type.MouseButtonPress, *points[0], left_button, left_button)
    for x, y in points[1:]:
        send(QMouseEvent.Type.MouseMove, x, y, none, left_button)
        QApplication.processEvents()
    send(QMouseEvent.Type.MouseButtonRelease, *points[-1], left_button, none)


def _evaluate_screenshot(app: QApplication, win, out: Path) -> None:
    """Evaluate on the bundled MNIST test set, click the cell with most mistakes, grab."""
    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    ev = win.evaluate_tab
    win.tabs.setCurrentWidget(ev)
    app.processEvents()
    ev.evaluate()
    if not _spin(app, lambda: ev.evaluation() is not None and not ev.busy(), 300):
        print("evaluation did not finish", file=sys.stderr)
        return
    confusion = np.array(ev.evaluation().confusion)
    np.fill_diagonal(confusion, -1)
    true, pred = np.unravel_index(int(np.argmax(confusion)), confusion.shape)
    app.processEvents()
    QTest.mouseClick(ev.confusion.viewport(), Qt.MouseButton.LeftButton,
                     pos=ev.confusion.cell_center(int(true), int(pred)))
    _spin(app, lambda: False, 0.5)
    win.grab().save(str(out / "evaluate.png"))
    print(f"wrote {out / 'evaluate.png'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model file (default: the bundled model)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--train-limit", type=int, default=3000)
    parser.add_argument("--no-train", action="store_true", help="skip the Train tab screenshot")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    app = QApplication.instance() or QApplication([])
    font = app.font()
    font.setPointSizeF(max(font.pointSizeF(), 10.0))
    app.setFont(font)
    from digitpad.core.paths import bundled_model_path
    from digitpad.gui.main_window import MainWindow

    win = MainWindow()
    win.resize(1180, 800)
    win.show()
    app.processEvents()
    ready: list[str] = []
    failed: list[str] = []
    win.model_ready.connect(ready.append)
    win.model_failed.connect(failed.append)
    win._show_error = lambda title, text: failed.append(text)

    model = Path(args.model) if args.model else bundled_model_path()
    if model.is_file():
        win.open_model(str(model))
        if not _spin(app, lambda: ready or failed, 300) or failed:
            print(f"model did not load: {failed}", file=sys.stderr)
            return 1

    tab = win.train_tab
    if hasattr(tab, "start_training") and not args.no_train:
        win.tabs.setCurrentWidget(tab)
        tab.form.limit_spin.setValue(args.train_limit)
        tab.form.epochs_spin.setValue(2)
        tab.start_training()
        _spin(app, lambda: tab.is_training(), 30)
        _spin(app, lambda: not tab.is_training(), 600)
        app.processEvents()
        if not model.is_file():
            # no bundled model: use the one just trained for the Recognize screenshot
            if tab.has_model():
                tab.use_in_recognize()
                _spin(app, lambda: ready or failed, 300)
        _spin(app, lambda: False, 0.5)
        win.tabs.setCurrentWidget(tab)
        app.processEvents()
        win.grab().save(str(out / "train.png"))
        print(f"wrote {out / 'train.png'}")

    # a "3" drawn on the pad with real mouse strokes, as a person would, recognised live
    win.tabs.setCurrentWidget(win.recognize_tab)
    win.recognize_tab.preview.set_steps_visible(True)
    app.processEvents()
    _draw(win.recognize_tab.pad, _three())
    _spin(app, lambda: False, 0.5)
    win.grab().save(str(out / "recognize.png"))
    print(f"wrote {out / 'recognize.png'}")

    # the same drawing with the live internals on (activations and attribution)
    rec = win.recognize_tab
    rec.preview.set_steps_visible(False)
    rec.internals.activations_action.setChecked(True)
    rec.internals.attribution_action.setChecked(True)
    latest = rec.internals.coalescer
    _spin(app, lambda: rec.internals.last_result is not None
          and not latest.in_flight and not latest.pending, 120)
    _spin(app, lambda: False, 0.5)
    win.grab().save(str(out / "internals.png"))
    print(f"wrote {out / 'internals.png'}")
    rec.internals.activations_action.setChecked(False)
    rec.internals.attribution_action.setChecked(False)

    if win.current.predictor is not None:
        _evaluate_screenshot(app, win, out)

    win._ask = lambda *a: None
    tab.shutdown()
    win._closing = True
    win.runner.stop_all()
    win.runner.wait_all(30000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
