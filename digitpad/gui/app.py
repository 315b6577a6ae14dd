"""Start the desktop app: the window first, TensorFlow and the model afterwards, in the background.

``main()`` creates the QApplication and the main window and shows it before anything imports
TensorFlow (which takes seconds); the model is then loaded in a worker thread and the Recognize
tab says when it is ready. When the application quits (``aboutToQuit``), every running task of
the shared :class:`~digitpad.gui.tasks.TaskRunner` is asked to stop and awaited.

Benchmark hook: with ``DIGITPAD_BENCH_EXIT_AFTER_READY=1`` the app prints
``digitpad-bench window_shown=<unix time>`` once the window has been shown and painted, then
``digitpad-bench model_ready=<unix time>`` (or ``model_failed=``) to stderr, and quits.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication

import digitpad.gui.qtcompat  # noqa: F401  (PySide6 emit() refcount work-around)
from digitpad.gui.file_open import is_model_path
from digitpad.gui.gc_guard import collect_on_gui_thread
from digitpad.gui.settings import APPLICATION, ORGANIZATION
from digitpad.gui.tasks import shared_runner

#: How long quitting waits for running tasks (a training stops within one batch).
QUIT_WAIT_MS = 60000

BENCH_ENV = "DIGITPAD_BENCH_EXIT_AFTER_READY"


class _BenchReporter(QObject):
    """Prints start-up timestamps for bench/bench_startup.py and quits when the model is ready."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._failed = False

    def failed(self) -> bool:
        return self._failed

    @Slot()
    def window_shown(self) -> None:
        print(f"digitpad-bench window_shown={time.time():.6f}", file=sys.stderr, flush=True)

    @Slot(str)
    def model_ready(self, _name: str) -> None:
        print(f"digitpad-bench model_ready={time.time():.6f}", file=sys.stderr, flush=True)
        self._app.closeAllWindows()

    @Slot(str)
    def model_failed(self, reason: str) -> None:
        print(f"digitpad-bench model_failed={time.time():.6f} {reason}", file=sys.stderr, flush=True)
        self._failed = True
        self._app.closeAllWindows()


def _application(argv: list[str]) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv)
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName("digitpad")
    app.setDesktopFileName("digitpad")
    collect_on_gui_thread()
    app.aboutToQuit.connect(stop_tasks)
    return app


def stop_tasks() -> bool:
    """Ask every task of the shared runner to stop and wait for them (on ``aboutToQuit``).

    Returns True when none is left running.
    """
    runner = shared_runner()
    runner.stop_all()
    finished = runner.wait_all(QUIT_WAIT_MS)
    if not finished:
        names = ", ".join(task.name for task in runner.tasks())
        print(f"digitpad: quitting while tasks still run: {names}", file=sys.stderr, flush=True)
    return finished


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app. ``argv``: optional files to open (a model ``.keras``/``.h5`` and/or images).

    Returns the exit status.
    """
    files = list(argv) if argv is not None else sys.argv[1:]
    app = _application([sys.argv[0] if sys.argv else "digitpad"])
    # Qt's default style and palette follow the system's light/dark setting; pyqtgraph
    # widgets take their colours from that palette (see prob_bars.py).
    from digitpad.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    bench = None
    if os.environ.get(BENCH_ENV):
        bench = _BenchReporter(app)
        window.model_ready.connect(bench.model_ready)
        window.model_failed.connect(bench.model_failed)
        QTimer.singleShot(0, bench.window_shown)

    models = [f for f in files if is_model_path(f)]
    images = [f for f in files if f not in models]

    def start_background_work() -> None:
        if models:
            window.open_model(models[-1])
        else:
            window.load_startup_model()
        for image in images:
            window.open_image(image)

    # after the first paint: the window is on screen before any TensorFlow work starts
    QTimer.singleShot(0, start_background_work)
    status = int(app.exec())
    if bench is not None and bench.failed():
        status = 1
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
