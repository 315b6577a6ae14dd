"""The drawing pad with real widgets and real mouse events: undo stack, canvas, the hint (pytest-qt)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from digitpad.core.normalize import normalize_canvas
from digitpad.gui.draw_pad import CANVAS_SIZE, DrawPad


def _send(pad: DrawPad, kind, x: float, y: float, button, buttons) -> None:
    side = min(pad.width(), pad.height())
    pos = QPointF((pad.width() - side) / 2 + x * side, (pad.height() - side) / 2 + y * side)
    event = QMouseEvent(kind, pos, pad.mapToGlobal(pos), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(pad, event)


def draw(pad: DrawPad, points: list[tuple[float, float]]) -> None:
    """One stroke through ``points`` (pad coordinates in [0, 1]), repainting after every move."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    _send(pad, QMouseEvent.Type.MouseButtonPress, *points[0], left, left)
    for p in points[1:]:
        _send(pad, QMouseEvent.Type.MouseMove, *p, none, left)
        QApplication.processEvents()  # the partial repaints happen as they do for a user
    _send(pad, QMouseEvent.Type.MouseButtonRelease, *points[-1], left, none)
    QApplication.processEvents()


def vertical_line(x: float = 0.1) -> list[tuple[float, float]]:
    return [(x, 0.1 + 0.8 * t / 20) for t in range(21)]


@pytest.fixture
def pad(qtbot) -> DrawPad:
    widget = DrawPad()
    qtbot.addWidget(widget)
    widget.resize(400, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def on_screen(pad: DrawPad) -> np.ndarray:
    """What the window shows now (its backing store), as grey uint8.

    ``QWidget.grab()`` would repaint the whole widget and so never show a stale region; the
    screen grab shows the pixels the partial repaints left, as a user sees them.
    """
    QApplication.processEvents()
    image = pad.screen().grabWindow(pad.winId()).toImage()
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    return buf.reshape(image.height(), image.bytesPerLine())[:, : image.width()].copy()


def hint_area(pixels: np.ndarray) -> np.ndarray:
    """The middle of the pad, where the hint is written (the test strokes stay at x = 0.1)."""
    h, w = pixels.shape
    return pixels[int(h * 0.4): int(h * 0.6), int(w * 0.3): int(w * 0.7)]


# ----------------------------------------------------------------- the hint (bug 1)
def test_hint_goes_away_when_ink_is_drawn_after_clear_and_after_undo_to_empty(pad, qtbot):
    assert hint_area(on_screen(pad)).max() > 100  # the grey hint is shown on the empty pad

    draw(pad, vertical_line())
    assert hint_area(on_screen(pad)).max() == 0
    assert on_screen(pad)[:, :80].max() > 200  # the ink is on screen

    pad.setFocus()
    for key in (Qt.Key.Key_Escape, Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
        qtbot.keyClick(pad, key)
        assert pad.is_empty()
        assert hint_area(on_screen(pad)).max() > 100  # the hint is back
        draw(pad, vertical_line())
        assert hint_area(on_screen(pad)).max() == 0, f"hint left on the pad after {key}"

    while pad.can_undo() and not pad.is_empty():
        pad.undo()
    assert pad.is_empty()
    assert hint_area(on_screen(pad)).max() > 100
    draw(pad, vertical_line())
    assert hint_area(on_screen(pad)).max() == 0, "hint left on the pad after undo to empty"


# ------------------------------------------------------------------ undo stack
def test_every_edit_is_one_command_on_the_undo_stack(pad):
    stack = pad.undo_stack()
    assert stack.count() == 0 and stack.isClean() and not pad.can_undo()

    draw(pad, vertical_line(0.3))
    draw(pad, vertical_line(0.6))
    pad.clear()
    pad.set_image(np.eye(28, dtype=np.float32))
    assert [stack.text(i) for i in range(stack.count())] == ["Stroke", "Stroke", "Clear", "Open Image"]
    assert pad.strokes() == [] and not pad.is_empty()

    pad.undo()  # the image goes, the clear stays
    assert pad.is_empty()
    pad.undo()  # the clear is undone: both strokes are back
    assert len(pad.strokes()) == 2 and pad.can_redo()
    assert stack.undoText() == "Stroke" and stack.redoText() == "Clear"
    pad.undo()
    pad.undo()
    assert pad.is_empty() and not pad.can_undo() and stack.isClean()
    assert pad.canvas_array().max() == 0

    pad.redo()
    assert len(pad.strokes()) == 1 and not stack.isClean()
    draw(pad, vertical_line(0.8))  # a new stroke drops what could be redone
    assert not pad.can_redo() and stack.count() == 2


def test_changed_is_emitted_after_the_undo_state_is_updated(pad):
    seen: list[tuple[bool, bool]] = []
    pad.changed.connect(lambda: seen.append((pad.can_undo(), pad.can_redo())))
    finished: list[bool] = []
    pad.stroke_finished.connect(lambda: finished.append(pad.can_undo()))

    draw(pad, vertical_line())
    assert seen[-1] == (True, False) and finished == [True]
    seen.clear()
    pad.undo()
    assert seen == [(False, True)]
    seen.clear()
    pad.redo()
    assert seen == [(True, False)]


def test_undo_actions_from_the_stack_drive_the_pad(pad):
    undo_action = pad.undo_stack().createUndoAction(pad, "&Undo")
    redo_action = pad.undo_stack().createRedoAction(pad, "&Redo")
    assert not undo_action.isEnabled()
    draw(pad, vertical_line())
    assert undo_action.isEnabled() and undo_action.text() == "&Undo Stroke"
    undo_action.trigger()
    assert pad.is_empty() and redo_action.isEnabled()
    redo_action.trigger()
    assert len(pad.strokes()) == 1


# --------------------------------------------------------------------- canvas
def test_canvas_array_is_the_uint8_canvas_the_core_normalises(pad):
    empty = pad.canvas_array()
    assert empty.dtype == np.uint8 and empty.shape == (CANVAS_SIZE, CANVAS_SIZE)
    assert empty.max() == 0 and normalize_canvas(empty).blank

    draw(pad, vertical_line(0.5))
    canvas = pad.canvas_array()
    assert canvas.dtype == np.uint8 and canvas.max() == 255  # ink bright, full range
    assert canvas[:, :100].max() == 0  # a vertical line in the middle
    as_float = normalize_canvas(canvas.astype(np.float32) / 255.0)
    np.testing.assert_allclose(normalize_canvas(canvas).image, as_float.image, atol=1e-6)

    canvas[:] = 0  # a copy: the pad keeps its picture
    assert pad.canvas_array().max() == 255


def test_set_image_fits_the_image_and_undo_brings_the_strokes_back(pad):
    draw(pad, vertical_line(0.1))
    before = pad.canvas_array()
    wide = np.zeros((10, 20), dtype=np.uint8)
    wide[:, 10:] = 255  # right half ink
    pad.set_image(wide)
    canvas = pad.canvas_array()
    # 20 wide fitted into 280: 140 rows of image centred vertically, the right half inked
    assert canvas[140, 200] == 255 and canvas[140, 60] == 0 and canvas[20, 200] == 0
    pad.undo()
    np.testing.assert_array_equal(pad.canvas_array(), before)
    with pytest.raises(ValueError):
        pad.set_image(np.zeros((3, 3, 3)))
