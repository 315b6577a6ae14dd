"""The Evaluate tab: accuracy, loss, per-digit accuracy, a clickable confusion matrix, mistakes.

The model in use (the window's :class:`~digitpad.gui.current_model.CurrentModel`) is evaluated on
the test images of a data source (bundled MNIST by default; anything
:func:`digitpad.core.data.load_dataset` loads, through the Data button) by
:func:`digitpad.core.evaluation.evaluate_model`, as a task of the app's
:class:`~digitpad.gui.tasks.TaskRunner` with a progress bar: never on the GUI thread. Results are
kept per model and data source for the session, so switching models back and forth shows them
again at once. Clicking a confusion-matrix cell fills the gallery with that cell's images (most
confident first); clicking an image emits :attr:`EvaluateTab.open_image_requested` with it (the
window opens it in the Recognize tab). The Robustness page plots robustness curves.
"""

from __future__ import annotations

import math
import threading
from functools import partial

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.gui.current_model import CurrentModel
from digitpad.gui.evaluate.class_bars import ClassAccuracyBars
from digitpad.gui.evaluate.confusion import ConfusionMatrixView
from digitpad.gui.evaluate.gallery import Gallery
from digitpad.gui.evaluate.jobs import (
    DataChoice,
    ResultCache,
    TestImages,
    evaluate_job,
    model_keys,
    progress_fraction,
    same_model,
    source_label,
)
from digitpad.gui.evaluate.robustness_page import RobustnessPage
from digitpad.gui.tasks import TaskRunner, shared_runner

#: Mistakes listed by "Most confident mistakes".
MISTAKES_SHOWN = 100
TAB_TIP = "Evaluate the model in use on a test set: confusion matrix, mistakes, robustness (Ctrl+3)"


class EvaluateTab(QWidget):
    """Evaluate the model in use and look at its mistakes (see the module docstring).

    Signals
    -------
    open_image_requested(object)
        A gallery image was clicked: the test image (uint8 28×28), to open in Recognize.
    """

    open_image_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, runner: TaskRunner | None = None,
                 current: CurrentModel | None = None) -> None:
        super().__init__(parent)
        self.runner = runner if runner is not None else shared_runner()
        self.current = current if current is not None else CurrentModel(self.runner, self)
        self.data = DataChoice()
        self._results = ResultCache()   # (images, Evaluation) per model and data source
        self._shown: tuple[TestImages, object] | None = None
        self._stop = threading.Event()
        self._task = None
        self._build()
        self.current.changed.connect(self._on_model_changed)
        self._on_model_changed()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Evaluate the model in use on the chosen test images")
        self.evaluate_button.clicked.connect(self.evaluate)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.data_button = QToolButton()
        self.data_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.data_button.setToolTip("The labelled images to evaluate on")
        menu = QMenu(self.data_button)
        menu.addAction(source_label(None), partial(self.set_data_source, None))
        menu.addAction(source_label("keras"), partial(self.set_data_source, "keras"))
        menu.addAction("An .npz file (Keras mnist.npz layout)…", self._choose_npz)
        menu.addAction("A folder (MNIST IDX files, or 0/ … 9/ images)…", self._choose_folder)
        self.data_button.setMenu(menu)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel("")
        top = QHBoxLayout()
        for widget in (self.evaluate_button, self.stop_button, QLabel("on"), self.data_button):
            top.addWidget(widget)
        top.addWidget(self.progress, 1)
        top.addWidget(self.progress_label)
        top.addStretch(1)   # the buttons keep their size while the progress bar is hidden

        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.2)
        self.summary.setFont(big)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.confusion = ConfusionMatrixView()
        self.confusion.cell_clicked.connect(self.show_cell)
        self.normalized_check = QCheckBox("Row-normalised (% of each true digit)")
        self.normalized_check.toggled.connect(self.confusion.set_normalized)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.normalized_check)
        left_layout.addWidget(self.confusion, 1)

        self.class_bars = ClassAccuracyBars()
        self.class_bars.setMaximumHeight(200)
        self.mistakes_button = QPushButton("Most confident mistakes")
        self.mistakes_button.setToolTip("The misread images the model was surest about")
        self.mistakes_button.clicked.connect(self.show_mistakes)
        self.gallery = Gallery()
        self.gallery.image_clicked.connect(self.open_image)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.class_bars)
        right_layout.addWidget(self.mistakes_button, 0, Qt.AlignmentFlag.AlignLeft)
        right_layout.addWidget(self.gallery, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 5)

        self.robustness = RobustnessPage(runner=self.runner, current=self.current, data=self.data)
        self.pages = QTabWidget()
        self.pages.addTab(split, "Confusion matrix and mistakes")
        self.pages.addTab(self.robustness, "Robustness")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.pages, 1)
        self._set_running(False)
        self._update_data_button()

    # --------------------------------------------------------------- public API
    def evaluation(self):
        """The ``Evaluation`` shown (None when none)."""
        return None if self._shown is None else self._shown[1]

    def images(self) -> TestImages | None:
        """The images of the evaluation shown."""
        return None if self._shown is None else self._shown[0]

    def busy(self) -> bool:
        return self._task is not None

    def set_data_source(self, source: str | None) -> None:
        """Evaluate on ``source`` from now on (``load_dataset`` argument; None: bundled MNIST)."""
        self.data.source = None if source is None else str(source)
        self._update_data_button()
        self.robustness.data_changed()
        self._on_model_changed()

    @Slot()
    def evaluate(self) -> None:
        """Evaluate the model in use on the chosen data, in a worker (no-op while one runs)."""
        entry = self.current.entry
        if entry is None or entry.predictor is None or self._task is not None:
            return
        self._stop.clear()
        keys, source = model_keys(entry), self.data.source
        self._set_running(True)
        self.progress_label.setText("Starting…")
        self._task = self.runner.start(
            evaluate_job, entry.predictor, self.data.source, self.data.images(), self._stop,
            name="evaluate", on_done=partial(self._on_done, keys, source, entry.name),
            on_error=self._on_error, on_progress=self._on_progress,
            on_finished=self._on_finished, stop=self._stop.set,
        )

    @Slot()
    def stop(self) -> None:
        """Ask a running evaluation to stop (it shows what it has done)."""
        self._stop.set()

    @Slot(int, int)
    def show_cell(self, true: int, pred: int) -> None:
        """Fill the gallery with the images of one confusion-matrix cell, most confident first."""
        if self._shown is None:
            return
        images, ev = self._shown
        self.confusion.select((true, pred))
        what = (f"{true} recognised correctly" if true == pred
                else f"true {true}, predicted {pred}")
        self.gallery.show_images(what, ev.cell(true, pred), images.x, ev.y_true, ev.y_pred,
                                 ev.confidence)

    @Slot()
    def show_mistakes(self) -> None:
        """Fill the gallery with the most confident mistakes."""
        if self._shown is None:
            return
        images, ev = self._shown
        self.confusion.select(None)
        self.gallery.show_images("Most confident mistakes", ev.mistakes(MISTAKES_SHOWN),
                                 images.x, ev.y_true, ev.y_pred, ev.confidence)

    @Slot(int)
    def open_image(self, index: int) -> None:
        """Ask for test image ``index`` to be opened in Recognize (``open_image_requested``)."""
        if self._shown is not None:
            self.open_image_requested.emit(np.array(self._shown[0].x[int(index)]))

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_model_changed(self) -> None:
        entry = self.current.entry
        found = self._results.get(entry, (self.data.source,))
        if found is not None:
            self._show(entry.name, *found)
        else:
            self._show_nothing()
        self._set_running(self._task is not None)

    def _on_done(self, keys: tuple, source: str | None, name: str, result) -> None:
        images, evaluation = result
        self.data.remember(images)
        self._results.put(keys, (source,), (images, evaluation))
        if same_model(self.current.entry, keys) and self.data.source == source:
            self._show(name, images, evaluation)

    def _on_error(self, reason: str) -> None:
        self.summary.setText(f"The evaluation failed: {reason}")

    def _on_progress(self, reports: list) -> None:
        fraction, text = progress_fraction(reports)
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(1000 * fraction))
        if text:
            self.progress_label.setText(text)

    def _on_finished(self) -> None:
        self._task = None
        self._set_running(False)

    # ---------------------------------------------------------------- display
    def _show(self, name: str, images: TestImages, ev) -> None:
        self._shown = (images, ev)
        wrong = int(np.count_nonzero(ev.y_true != ev.y_pred))
        if ev.n == 0 or math.isnan(ev.accuracy):
            head = "No image was evaluated"
        else:
            head = f"<b>Accuracy {100 * ev.accuracy:.2f} %</b> · loss {ev.loss:.4f}"
        parts = [head, f"{ev.n:,} images of {images.description}", f"{wrong:,} mistakes",
                 f"model <b>{name}</b>"]
        if getattr(ev, "stopped", False):
            parts.append("stopped early: the first images only")
        self.summary.setText(" · ".join(parts))
        self.confusion.set_matrix(ev.confusion)
        self.class_bars.set_accuracies(ev.per_class)
        self.show_mistakes()

    def _show_nothing(self) -> None:
        self._shown = None
        entry = self.current.entry
        if entry is None:
            self.summary.setText("No model is in use yet.")
        else:
            self.summary.setText(f"Press <b>Evaluate</b> to evaluate <b>{entry.name}</b> on the "
                                 f"{source_label(self.data.source)}.")
        self.confusion.set_matrix(None)
        self.confusion.select(None)
        self.class_bars.set_accuracies(None)
        self.gallery.clear_images("Click a cell of the confusion matrix to see its images.")

    def _set_running(self, running: bool) -> None:
        ready = self.current.predictor is not None
        self.evaluate_button.setEnabled(ready and not running)
        self.stop_button.setEnabled(running)
        self.data_button.setEnabled(not running)
        self.progress.setVisible(running)
        if not running:
            self.progress_label.setText("")
            self.progress.setRange(0, 1000)
            self.progress.setValue(0)
        has = self._shown is not None
        self.mistakes_button.setEnabled(has)
        self.normalized_check.setEnabled(has)

    def _update_data_button(self) -> None:
        self.data_button.setText(source_label(self.data.source) + "  ▾")

    def _choose_npz(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Evaluate on an .npz file", "",
                                              "NumPy archives (*.npz);;All files (*)")
        if path:
            self.set_data_source(path)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Evaluate on a folder")
        if path:
            self.set_data_source(path)
