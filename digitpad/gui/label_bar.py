"""The label bar under the drawing pad: say what the drawing really is, and keep it.

A row of digit buttons (each showing how many drawings of that digit are kept), a "Right"
button (Enter: the model's answer is correct) and "Undo label". Keys 0-9 and Enter work while
the pad has focus. A label stores the pad's canvas, strokes and model input in the personal data
set (:class:`~digitpad.core.personal.DrawingStore`), then clears the pad for the next drawing.
Nothing leaves the machine.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSizePolicy, QWidget

from digitpad.core.errors import DigitpadError
from digitpad.core.personal import DrawingFiles, DrawingStore, PenStroke
from digitpad.gui.draw_pad import DrawPad


def pad_strokes(pad: DrawPad) -> list[PenStroke]:
    """The pad's strokes as core :class:`PenStroke` s, times in seconds from the first point."""
    strokes = pad.strokes()
    times = [t for s in strokes for t in getattr(s, "times", [])]
    t0 = min(times) if times else 0.0
    return [PenStroke(float(s.width), [tuple(map(float, p)) for p in s.points],
                      [t - t0 for t in getattr(s, "times", [])]) for s in strokes]


class LabelBar(QWidget):
    """Digit buttons with counts, Right (Enter) and Undo label, for one pad.

    Parameters
    ----------
    pad
        The drawing pad whose picture is labelled (its keys 0-9 and Enter are handled here).
    predicted
        Returns the digit the model reads now, or None (for Enter / Right).
    store
        Where drawings are kept (default: the personal data set in the user's data folder).

    Signals
    -------
    labelled(int)
        A drawing was stored with this label.
    failed(str)
        Storing failed; one sentence.
    """

    labelled = Signal(int)
    failed = Signal(str)

    def __init__(self, pad: DrawPad, predicted: Callable[[], int | None], *,
                 store: DrawingStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pad = pad
        self.predicted = predicted
        self.store = store if store is not None else DrawingStore()
        self.last: DrawingFiles | None = None
        grid = QGridLayout(self)  # two rows of five: one row made the window too wide
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("It is:"), 0, 0)
        self.digit_buttons: list[QPushButton] = []
        for digit in range(10):
            button = QPushButton(str(digit))
            button.setToolTip(f"This drawing is a {digit}: keep it in My drawings (key {digit})")
            button.clicked.connect(lambda _checked=False, d=digit: self.label(d))
            button.setMinimumWidth(24)  # no wider than the pad needs: the text may be cut
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            self.digit_buttons.append(button)
            grid.addWidget(button, digit // 5, 1 + digit % 5)
        self.right_button = QPushButton("Right")
        self.right_button.setToolTip("The model read it correctly: keep it with that label (Enter)")
        self.right_button.clicked.connect(self.confirm)
        self.undo_button = QPushButton("Undo label")
        self.undo_button.setToolTip("Remove the drawing labelled last")
        self.undo_button.clicked.connect(self.undo)
        grid.addWidget(self.right_button, 0, 6)
        grid.addWidget(self.undo_button, 1, 6)
        pad.installEventFilter(self)
        pad.changed.connect(self._update)
        self.refresh_counts()

    def counts(self) -> list[int]:
        """Drawings kept per digit, as shown on the buttons."""
        return list(self._counts)

    @Slot()
    def refresh_counts(self) -> None:
        """Re-read the counts per digit from the data set's folder."""
        try:
            self._counts = self.store.counts()
        except DigitpadError as exc:
            self._counts = [0] * 10
            self.failed.emit(str(exc))
        for digit, button in enumerate(self.digit_buttons):
            button.setText(f"{digit} ({self._counts[digit]})")
        self._update()

    def label(self, digit: int) -> DrawingFiles | None:
        """Store the pad's drawing as ``digit`` and clear the pad; None when nothing was stored."""
        if self.pad.is_empty():
            return None
        try:
            files = self.store.save(digit, self.pad.canvas_array(), pad_strokes(self.pad))
        except (DigitpadError, OSError) as exc:
            self.failed.emit(str(exc) if isinstance(exc, DigitpadError)
                             else f"the drawing was not kept: {exc.strerror or exc}.")
            return None
        self.last = files
        self.pad.clear()
        self.refresh_counts()
        self.labelled.emit(digit)
        return files

    @Slot()
    def confirm(self) -> DrawingFiles | None:
        """Store the drawing with the model's answer (Enter)."""
        digit = self.predicted()
        return None if digit is None else self.label(digit)

    @Slot()
    def undo(self) -> None:
        """Remove the last drawing labelled here."""
        self.store.undo_last()
        self.refresh_counts()

    @Slot()
    def _update(self) -> None:
        drawn = not self.pad.is_empty()
        for button in self.digit_buttons:
            button.setEnabled(drawn)
        self.right_button.setEnabled(drawn and self.predicted() is not None)
        self.undo_button.setEnabled(self.store.can_undo)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.pad and event.type() == QEvent.Type.KeyPress and not event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            key = event.key()
            if Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
                self.label(int(key) - int(Qt.Key.Key_0))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.confirm()
                return True
        return super().eventFilter(obj, event)
