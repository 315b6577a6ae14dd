"""The Recognize tab: drawing pad, live probability bars, the model's view, model info.

The model comes from the window's :class:`~digitpad.gui.current_model.CurrentModel`; the tab
observes its ``changed`` signal and owns no model state of its own.

Live prediction runs on the GUI thread (canvas to probabilities is about a millisecond with the
core's Predictor) and is coalesced: every change of the pad marks the picture dirty and schedules
one recognition with a 0 ms single-shot timer, so the bars are never more than one event-loop turn
behind the pen, however fast the move events come.

An image opened from a file is recognised from the file's own array (``core.images.load_image``,
exactly as ``digitpad predict`` does); the pad only displays it. Drawing on it, undoing or clearing
makes the pad's canvas the picture again.

The live internals (activations, attribution; :class:`~digitpad.gui.internals.InternalsPanel`, a
third column shown while one of its toggles is on) follow every prediction shown, off the GUI
thread and coalesced; clicking a bar explains that digit.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.data.pixels import pixels_to_unit
from digitpad.core.verdict import BLANK, DIGIT, UNSURE
from digitpad.gui.current_model import CurrentModel, ModelEntry
from digitpad.gui.draw_pad import MAX_PEN_WIDTH, MIN_PEN_WIDTH, DrawPad
from digitpad.gui.internals import InternalsPanel
from digitpad.gui.label_bar import LabelBar
from digitpad.gui.preview import NormalizationPreview
from digitpad.gui.prob_bars import BLANK_TEXT, ProbabilityBars
from digitpad.gui.verdict_label import VerdictPanel

LOADING_TEXT = "Model loading…"

#: The pen slider never gets narrower than this (it collapsed to a square at the minimum size).
PEN_SLIDER_MIN_WIDTH = 120


def _metric(metadata: dict, *names: str) -> float | None:
    """Find a metric in digitpad metadata, at the top level or under 'metrics'."""
    for source in (metadata, metadata.get("metrics") or {}, metadata.get("result") or {}):
        if not isinstance(source, dict):
            continue
        for name in names:
            value = source.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
    return None


def describe_model(entry: ModelEntry) -> str:
    """One line about the model in use: name, file, test accuracy (once) if known, backend.

    "not saved to a file" only when the entry has no file or its file no longer holds it.
    """
    metadata = entry.metadata or {}
    name = entry.name
    parts = [f"<b>{name}</b>"]
    arch = metadata.get("arch") or (metadata.get("config") or {}).get("arch")
    if arch and arch not in name:
        parts.append(f"architecture {arch}")
    if entry.path and entry.saved:
        parts.append(f"file {Path(entry.path).name}")
    else:
        parts.append("not saved to a file")
    acc = _metric(metadata, "test_accuracy", "accuracy")
    if acc is None:
        parts.append("test accuracy unknown")
    elif f"{100 * acc:.2f} %" not in name:  # a name that already states it is not repeated
        parts.append(f"MNIST test accuracy {100 * acc:.2f} %")
    backend = getattr(entry.predictor, "backend", None)
    if backend:
        parts.append(f"runs on {backend}")
    return "Model: " + " · ".join(parts)


class RecognizeTab(QWidget):
    """Draw a digit (or open an image) and see what the model in use thinks, live.

    Parameters
    ----------
    current
        The owner of the model in use (default: a new CurrentModel on the shared runner).
    """

    def __init__(self, parent: QWidget | None = None, *, current: CurrentModel | None = None) -> None:
        super().__init__(parent)
        self.current = current if current is not None else CurrentModel(parent=self)
        self._no_model_text = LOADING_TEXT
        self._image: np.ndarray | None = None  # an opened file's own array, while the pad shows it
        self._placing_image = False
        self._dirty = False
        self._scheduled = False
        self.last_prediction = None
        self.last_latency_ms: float | None = None
        self._build()
        self.pad.changed.connect(self._on_pad_changed)
        self.pad.changed.connect(self._update_buttons)
        self.current.changed.connect(self._on_model_changed)
        self._on_model_changed()
        self.verdict_panel.load_detector(self.current.runner, self._on_detector_ready)

    def _on_detector_ready(self) -> None:
        if self.last_prediction is not None:
            self._show_verdict(self.verdict_panel.judge(self.last_prediction))

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.pad = DrawPad()
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setRange(MIN_PEN_WIDTH, MAX_PEN_WIDTH)
        self.pen_slider.setValue(round(self.pad.pen_width()))
        self.pen_slider.setMinimumWidth(PEN_SLIDER_MIN_WIDTH)
        self.pen_slider.setToolTip("Pen width (in pixels of the 280×280 pad; MNIST-like is about 20)")
        self.pen_spin = QSpinBox()
        self.pen_spin.setRange(MIN_PEN_WIDTH, MAX_PEN_WIDTH)
        self.pen_spin.setValue(round(self.pad.pen_width()))
        self.pen_spin.setSuffix(" px")
        self.pen_spin.setToolTip(self.pen_slider.toolTip())
        self.pen_slider.valueChanged.connect(self.pen_spin.setValue)
        self.pen_spin.valueChanged.connect(self.pen_slider.setValue)
        self.pen_spin.valueChanged.connect(self._set_pen_width)

        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo the last stroke (Ctrl+Z)")
        self.undo_button.clicked.connect(self.pad.undo)
        self.redo_button = QPushButton("Redo")
        self.redo_button.setToolTip("Redo the stroke undone (Ctrl+Shift+Z)")
        self.redo_button.clicked.connect(self.pad.redo)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Clear the pad (Esc or Delete)")
        self.clear_button.clicked.connect(self.pad.clear)

        # two rows: at the window's minimum width one row left the slider a few pixels wide
        pen_row = QHBoxLayout()
        pen_row.addWidget(QLabel("Pen:"))
        pen_row.addWidget(self.pen_slider, 1)
        pen_row.addWidget(self.pen_spin)
        edit_row = QHBoxLayout()
        for button in (self.undo_button, self.redo_button, self.clear_button):
            edit_row.addWidget(button)
        edit_row.addStretch(1)

        left = QVBoxLayout()
        left.addWidget(self.pad, 1)
        left.addLayout(pen_row)
        left.addLayout(edit_row)
        self.label_bar = LabelBar(self.pad, self._predicted_digit)
        left.addWidget(self.label_bar)

        self.digit_label = QLabel("")  # empty, not "–": a huge bold dash looked like a black bar
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 4.5)
        font.setBold(True)
        self.digit_label.setFont(font)
        self.digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit_label.setMinimumWidth(90)
        self.digit_label.setToolTip("The digit the model picks")
        self.confidence_label = QLabel(BLANK_TEXT)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.3)
        self.confidence_label.setFont(big)
        self.confidence_label.setWordWrap(True)
        self.confidence_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        head = QHBoxLayout()
        head.addWidget(self.digit_label)
        head.addWidget(self.confidence_label, 1)

        self.bars = ProbabilityBars()
        self.preview = NormalizationPreview()

        right = QVBoxLayout()
        right.addLayout(head)
        self.verdict_panel = VerdictPanel()
        right.addWidget(self.verdict_panel)
        right.addWidget(self.bars, 1)
        right.addWidget(self.preview)
        self.internals = InternalsPanel(self.pad, self.current)
        self.bars.digit_clicked.connect(self.internals.set_target)
        right.addWidget(self.internals.toggles)

        self.model_label = QLabel()
        self.model_label.setTextFormat(Qt.TextFormat.RichText)
        self.model_label.setWordWrap(True)
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        grid = QGridLayout(self)
        grid.addLayout(left, 0, 0)
        grid.addLayout(right, 0, 1)
        grid.addWidget(self.internals, 0, 2)
        grid.addWidget(self.model_label, 1, 0, 1, 3)
        grid.setColumnStretch(0, 5)
        grid.setColumnStretch(1, 4)
        grid.setColumnStretch(2, 3)
        self._update_buttons()

    # --------------------------------------------------------------- public API
    @property
    def predictor(self):
        """The core ``Predictor`` in use, or None while no model is ready."""
        return self.current.predictor

    def model_name(self) -> str | None:
        return self.current.name

    def model_path(self) -> str | None:
        return self.current.path

    def model_metadata(self) -> dict:
        return self.current.metadata

    def set_no_model(self, text: str) -> None:
        """What to say while no model is ready (loading, missing, failed); shown once, as the headline."""
        self._no_model_text = text
        if self.current.predictor is None:
            self._show_no_model()

    def show_image(self, arr: np.ndarray) -> None:
        """Show an image on the pad and recognise that image's own array (not the pad's pixels)."""
        image = np.asarray(arr, dtype=np.float32)
        self._placing_image = True
        try:
            self.pad.set_image(image)
        finally:
            self._placing_image = False
        self._image = image
        self.recognize_now()

    def show_array(self, arr: np.ndarray) -> None:
        """Show an image array (uint8 0..255 like a test image, or float in [0, 1]) and recognise it."""
        a = np.asarray(arr)
        self.show_image(pixels_to_unit(a) if a.dtype == np.uint8 else a)

    def recognize_now(self):
        """Recognise the picture immediately (GUI thread), update the display; returns the Prediction."""
        self._dirty = False
        predictor = self.current.predictor
        if predictor is None:
            self._show_no_model()
            return None
        from digitpad.core.inference import recognize

        picture = self._image if self._image is not None else self.pad.canvas_array()
        t0 = time.perf_counter()
        prediction = recognize(predictor, picture)
        self.last_latency_ms = (time.perf_counter() - t0) * 1000.0
        self._show_prediction(prediction)
        self.internals.show_prediction(prediction, picture.shape)
        return prediction

    def _predicted_digit(self) -> int | None:
        """The digit shown now (for the label bar's Right / Enter), None when blank or none."""
        p = self.last_prediction
        return None if p is None or p.blank or self._image is not None else p.digit

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_model_changed(self) -> None:
        entry = self.current.entry
        if entry is None:
            self.model_label.setText("")
            self.model_label.setToolTip("")
        else:
            self.model_label.setText(describe_model(entry))
            self.model_label.setToolTip(
                entry.path if entry.path and entry.saved
                else "This model is not saved to a file (File → Save Model… saves it)."
            )
        self.recognize_now()

    @Slot()
    def _on_pad_changed(self) -> None:
        if not self._placing_image:
            self._image = None  # drawn on, undone or cleared: the pad is the picture now
        self._dirty = True
        if not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(0, self._run_scheduled)

    @Slot()
    def _run_scheduled(self) -> None:
        self._scheduled = False
        if self._dirty:
            self.recognize_now()

    @Slot(int)
    def _set_pen_width(self, value: int) -> None:
        self.pad.set_pen_width(value)

    @Slot()
    def _update_buttons(self) -> None:
        self.undo_button.setEnabled(self.pad.can_undo())
        self.redo_button.setEnabled(self.pad.can_redo())
        self.clear_button.setEnabled(not self.pad.is_empty())

    # ---------------------------------------------------------------- display
    def _show_no_model(self) -> None:
        self.last_prediction = None
        self.internals.clear()
        self.bars.set_message("")
        self.digit_label.setText("")
        self.verdict_panel.clear()
        self.confidence_label.setText(self._no_model_text)
        from digitpad.core.normalize import normalize_canvas

        if self._image is not None:
            self.preview.show_normalized(normalize_canvas(self._image))
        elif self.pad.is_empty():
            self.preview.show_normalized(None)
        else:
            self.preview.show_normalized(normalize_canvas(self.pad.canvas_array()))

    def _show_prediction(self, prediction) -> None:
        self.last_prediction = prediction
        self.preview.show_normalized(prediction.normalized)
        self._show_verdict(self.verdict_panel.judge(prediction))

    def _show_verdict(self, verdict) -> None:
        """Headline, bars and verdict panel say one thing: the verdict (words above, numbers beside)."""
        prediction = self.last_prediction
        self.verdict_panel.show_verdict(verdict)
        if verdict.kind == BLANK or prediction is None or prediction.probabilities is None:
            self.bars.show_prediction(None)
            self.digit_label.setText("")
            self.confidence_label.setText(BLANK_TEXT)
            return
        probs = prediction.probabilities
        self.bars.set_probabilities(probs, low_confidence=verdict.kind != DIGIT, message=False)
        if verdict.kind == DIGIT:
            self.digit_label.setText(str(verdict.digit))
            self.confidence_label.setText(f"{100 * float(probs[verdict.digit]):.1f} % sure")
        elif verdict.kind == UNSURE:
            a, b = verdict.alternatives
            self.digit_label.setText("?")
            self.confidence_label.setText(
                f"Not sure: {a} {100 * float(probs[a]):.0f} %, {b} {100 * float(probs[b]):.0f} %")
        else:
            self.digit_label.setText("?")
            self.confidence_label.setText(
                f"Closest digit: {verdict.digit} ({100 * float(probs[verdict.digit]):.0f} %)")
