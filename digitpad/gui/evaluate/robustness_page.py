"""The Evaluate tab's Robustness page: curves of the model in use, a second model overlaid.

"Compute curves" runs :func:`digitpad.core.robustness.robustness_curves` for the model in use on
the chosen test images, as a task with progress; "Compare with…" loads a second model file
(safely, in a worker) and computes its curves on the same images, drawn dashed over the first.
Curves are kept per model, data source and image count for the session.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from digitpad.gui.current_model import CurrentModel
from digitpad.gui.evaluate.jobs import (
    DataChoice,
    ResultCache,
    load_predictor_job,
    model_keys,
    progress_fraction,
    robustness_job,
    same_model,
)
from digitpad.gui.evaluate.robustness_plot import RobustnessPlot
from digitpad.gui.file_open import ask_open_path
from digitpad.gui.settings import app_settings
from digitpad.gui.tasks import TaskRunner

DEFAULT_IMAGES = 1000


class RobustnessPage(QWidget):
    """Robustness curves for the model in use and an optional second model."""

    def __init__(self, parent: QWidget | None = None, *, runner: TaskRunner,
                 current: CurrentModel, data: DataChoice) -> None:
        super().__init__(parent)
        self.runner = runner
        self.current = current
        self.data = data
        self._curves = ResultCache()   # curves per model, data source and image count
        self._compare: tuple[str, object] | None = None     # (name, predictor)
        self._stop = threading.Event()
        self._task = None
        self._after_finish = None     # what to start once the running task has ended
        self.run_button = QPushButton("Compute curves")
        self.run_button.setToolTip("Accuracy of the model in use as the test digits are rotated, "
                                   "shifted, scaled, thinned/thickened and noised")
        self.run_button.clicked.connect(self.compute)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self._stop.set)
        self.images_spin = QSpinBox()
        self.images_spin.setRange(100, 10000)
        self.images_spin.setSingleStep(100)
        self.images_spin.setValue(DEFAULT_IMAGES)
        self.images_spin.setSuffix(" images")
        self.images_spin.setToolTip("Test images perturbed per point of a curve")
        self.images_spin.valueChanged.connect(lambda _v: self._on_model_changed())
        self.compare_button = QPushButton("Compare with…")
        self.compare_button.setToolTip("Overlay the curves of a second model file")
        self.compare_button.clicked.connect(self._choose_compare)
        self.remove_button = QPushButton("Remove comparison")
        self.remove_button.clicked.connect(self.remove_comparison)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        for widget in (self.run_button, self.stop_button, self.images_spin, self.compare_button,
                       self.remove_button):
            row.addWidget(widget)
        row.addWidget(self.progress, 1)
        self.plot = RobustnessPlot()
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        current.changed.connect(self._on_model_changed)
        self._on_model_changed()

    # ---------------------------------------------------------------- public API
    def busy(self) -> bool:
        return self._task is not None

    @Slot()
    def compute(self) -> None:
        """Curves of the model in use (then of the comparison model, if one is open)."""
        entry = self.current.entry
        if entry is None or entry.predictor is None or self._task is not None:
            return
        keys, extra = model_keys(entry), self._extra()
        self._run(entry.predictor, partial(self._on_current_done, keys, extra, entry.name),
                  f"Computing the curves of {entry.name}…")

    def compare_with(self, path: str) -> None:
        """Load a second model file in a worker, then compute and overlay its curves."""
        if self._task is not None:
            return
        self._set_running(True)
        self.status.setText(f"Loading {Path(path).name}…")
        self._task = self.runner.start(
            load_predictor_job, str(path), name="robustness-model",
            on_done=self._on_compare_loaded, on_error=self._on_error,
            on_finished=self._on_finished)

    @Slot()
    def remove_comparison(self) -> None:
        self._compare = None
        self.plot.set_curves("compare", "", None)
        self._set_running(self._task is not None)

    def data_changed(self) -> None:
        """The data source changed: show what is known for it."""
        self.remove_comparison()
        self._on_model_changed()

    # ------------------------------------------------------------------ internals
    def _extra(self) -> tuple:
        return (self.data.source, self.images_spin.value())

    def _run(self, predictor, on_done, text: str) -> None:
        self._stop.clear()
        self._set_running(True)
        self.status.setText(text)
        self._task = self.runner.start(
            robustness_job, predictor, self.data.source, self.data.images(),
            self.images_spin.value(), self._stop, name="robustness", on_done=on_done,
            on_error=self._on_error, on_progress=self._on_progress,
            on_finished=self._on_finished, stop=self._stop.set)

    def _on_current_done(self, keys: tuple, extra: tuple, name: str, result) -> None:
        images, curves = result
        self.data.remember(images)
        self._curves.put(keys, extra, curves)
        if same_model(self.current.entry, keys) and self._extra() == extra:
            self.plot.set_curves("current", name, curves)
        self.status.setText(f"{name}: accuracy on {extra[1]:,} images of {images.description}, "
                            "perturbed.")

    def _on_compare_loaded(self, loaded) -> None:
        self._compare = loaded
        self._after_finish = self._compute_compare

    def _compute_compare(self) -> None:
        if self._compare is None:
            return
        name, predictor = self._compare
        self._run(predictor, partial(self._on_compare_done, name), f"Computing the curves of {name}…")

    def _on_compare_done(self, name: str, result) -> None:
        images, curves = result
        self.data.remember(images)
        self.plot.set_curves("compare", f"{name} (compared)", curves)
        self.status.setText(f"Compared with {name}.")

    def _on_error(self, reason: str) -> None:
        self.status.setText(f"Failed: {reason}")

    def _on_progress(self, reports: list) -> None:
        fraction, text = progress_fraction(reports)
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(1000 * fraction))

    def _on_finished(self) -> None:
        self._task = None
        self._set_running(False)
        then, self._after_finish = self._after_finish, None
        if then is not None:
            then()

    @Slot()
    def _on_model_changed(self) -> None:
        entry = self.current.entry
        curves = self._curves.get(entry, self._extra())
        self.plot.set_curves("current", entry.name if curves else "", curves)
        if curves is None and self._task is None:
            self.status.setText("Press Compute curves to see how the accuracy of the model in "
                                "use falls as the test digits are perturbed."
                                if entry is not None else "No model is in use yet.")
        self._set_running(self._task is not None)

    def _set_running(self, running: bool) -> None:
        ready = self.current.predictor is not None
        self.run_button.setEnabled(ready and not running)
        self.stop_button.setEnabled(running)
        self.compare_button.setEnabled(not running)
        self.remove_button.setEnabled(self._compare is not None and not running)
        self.images_spin.setEnabled(not running)
        self.progress.setVisible(running)
        if not running:
            self.progress.setRange(0, 1000)
            self.progress.setValue(0)

    def _choose_compare(self) -> None:
        path = ask_open_path(self, app_settings(), "model")
        if path:
            self.compare_with(path)
