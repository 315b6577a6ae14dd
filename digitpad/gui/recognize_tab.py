"""The Recognize tab: drawing pad, live probability bars, the model's view, model info.

Live prediction runs on the GUI thread (canvas to probabilities is about a millisecond with the
core's Predictor) and is coalesced: every change of the pad marks the picture dirty and schedules
one recognition with a 0 ms single-shot timer, so the bars are never more than one event-loop turn
behind the pen, however fast the move events come.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
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

from digitpad.gui.draw_pad import MAX_PEN_WIDTH, MIN_PEN_WIDTH, DrawPad
from digitpad.gui.preview import NormalizationPreview
from digitpad.gui.prob_bars import BLANK_TEXT, ProbabilityBars

LOADING_TEXT = "Model loading…"


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


def describe_model(name: str, path: str | None, metadata: dict | None, backend: str | None) -> str:
    """One line about the model in use: name, file, test accuracy if known, backend."""
    metadata = metadata or {}
    parts = [f"<b>{name}</b>"]
    arch = metadata.get("arch") or (metadata.get("config") or {}).get("arch")
    if arch and arch not in name:
        parts.append(f"architecture {arch}")
    if path:
        parts.append(f"file {Path(path).name}")
    else:
        parts.append("not saved to a file")
    acc = _metric(metadata, "test_accuracy", "accuracy")
    parts.append(f"MNIST test accuracy {100 * acc:.2f} %" if acc is not None else "test accuracy unknown")
    if backend:
        parts.append(f"runs on {backend}")
    return "Model: " + " · ".join(parts)


class RecognizeTab(QWidget):
    """Draw a digit and see what the model thinks, live.

    Signals
    -------
    predicted(object)
        Emitted after every recognition with the core ``Prediction``.
    """

    predicted = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._predictor = None
        self._model_name: str | None = None
        self._model_path: str | None = None
        self._model_metadata: dict = {}
        self._no_model_text = LOADING_TEXT
        self._dirty = False
        self._scheduled = False
        self.last_prediction = None
        self.last_latency_ms: float | None = None
        self._build()
        self.pad.changed.connect(self._on_pad_changed)
        self.pad.changed.connect(self._update_buttons)
        self._show_no_model()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.pad = DrawPad()
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setRange(MIN_PEN_WIDTH, MAX_PEN_WIDTH)
        self.pen_slider.setValue(round(self.pad.pen_width()))
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

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Pen:"))
        controls.addWidget(self.pen_slider, 1)
        controls.addWidget(self.pen_spin)
        controls.addSpacing(12)
        controls.addWidget(self.undo_button)
        controls.addWidget(self.redo_button)
        controls.addWidget(self.clear_button)

        left = QVBoxLayout()
        left.addWidget(self.pad, 1)
        left.addLayout(controls)

        self.digit_label = QLabel("–")
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
        right.addWidget(self.bars, 1)
        right.addWidget(self.preview)

        self.model_label = QLabel()
        self.model_label.setTextFormat(Qt.TextFormat.RichText)
        self.model_label.setWordWrap(True)
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model_label.setToolTip("The model in use (File → Open Model… to change it)")

        grid = QGridLayout(self)
        grid.addLayout(left, 0, 0)
        grid.addLayout(right, 0, 1)
        grid.addWidget(self.model_label, 1, 0, 1, 2)
        grid.setColumnStretch(0, 5)
        grid.setColumnStretch(1, 4)
        self._update_buttons()

    # --------------------------------------------------------------- public API
    @property
    def predictor(self):
        """The core ``Predictor`` in use, or None while no model is ready."""
        return self._predictor

    def model_name(self) -> str | None:
        return self._model_name

    def model_path(self) -> str | None:
        return self._model_path

    def model_metadata(self) -> dict:
        return dict(self._model_metadata)

    def set_predictor(
        self, predictor, name: str, metadata: dict | None = None, path: str | None = None
    ) -> None:
        """Use ``predictor`` from now on and recognise what is on the pad."""
        self._predictor = predictor
        self._model_name = name
        self._model_path = str(path) if path else None
        self._model_metadata = dict(metadata or {})
        self.model_label.setText(
            describe_model(name, self._model_path, self._model_metadata, getattr(predictor, "backend", None))
        )
        self.model_label.setToolTip(self._model_path or "This model exists only in memory (save it from the Train tab).")
        self._on_pad_changed()

    def set_no_model(self, text: str) -> None:
        """No model is ready: say why (loading, failed, …) and keep the bars empty."""
        self._predictor = None
        self._no_model_text = text
        self._show_no_model()

    def set_model_note(self, text: str) -> None:
        """Set the model line (e.g. 'Loading TensorFlow…') while keeping the current predictor."""
        self.model_label.setText(text)

    def show_image(self, arr: np.ndarray) -> None:
        """Put an opened/dropped image on the pad; it is recognised like a drawing."""
        self.pad.set_image(arr)

    def recognize_now(self):
        """Recognise the pad immediately (GUI thread) and update the display; returns the Prediction."""
        self._dirty = False
        if self._predictor is None:
            self._show_no_model()
            return None
        from digitpad.core.inference import recognize

        t0 = time.perf_counter()
        prediction = recognize(self._predictor, self.pad.canvas_array())
        self.last_latency_ms = (time.perf_counter() - t0) * 1000.0
        self._show_prediction(prediction)
        return prediction

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_pad_changed(self) -> None:
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
        self.bars.set_message(self._no_model_text)
        self.digit_label.setText("–")
        self.confidence_label.setText(self._no_model_text)
        self.model_label.setText(self._no_model_text)
        from digitpad.core.normalize import normalize_canvas

        if self.pad.is_empty():
            self.preview.show_normalized(None)
        else:
            self.preview.show_normalized(normalize_canvas(self.pad.canvas_array()))

    def _show_prediction(self, prediction) -> None:
        self.last_prediction = prediction
        self.bars.show_prediction(prediction)
        self.preview.show_normalized(prediction.normalized)
        if prediction.blank:
            self.digit_label.setText("–")
            self.confidence_label.setText(BLANK_TEXT)
        elif prediction.low_confidence:
            self.digit_label.setText("?")
            self.confidence_label.setText(
                f"Not sure — maybe {prediction.digit} ({100 * prediction.confidence:.0f} %)"
            )
        else:
            self.digit_label.setText(str(prediction.digit))
            self.confidence_label.setText(f"{100 * prediction.confidence:.1f} % sure")
        self.predicted.emit(prediction)
