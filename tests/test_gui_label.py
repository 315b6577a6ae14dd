"""The label bar: keys 0-9 and Enter on the pad store exactly the three files; undo removes them."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from digitpad.core.personal import DrawingStore, drawings_dir, load_drawings
from digitpad.gui.draw_pad import DrawPad
from digitpad.gui.label_bar import LabelBar
from tests.test_gui_pad import draw

SEVEN = [(0.2, 0.15), (0.5, 0.15), (0.8, 0.15), (0.65, 0.5), (0.5, 0.85)]


@pytest.fixture
def bar(qtbot):
    pad = DrawPad()
    widget = LabelBar(pad, lambda: 7)
    for w in (pad, widget):
        qtbot.addWidget(w)
    pad.resize(400, 400)
    pad.show()
    qtbot.waitExposed(pad)
    return widget


def test_key_on_pad_stores_three_files_and_undo_removes_them(bar, qtbot):
    draw(bar.pad, SEVEN)
    bar.pad.setFocus()
    with qtbot.waitSignal(bar.labelled) as sig:
        qtbot.keyClick(bar.pad, Qt.Key.Key_1)
    assert sig.args == [1]
    files = sorted(p.name for p in (drawings_dir() / "1").iterdir())
    stem = files[0].split(".")[0]
    assert files == sorted([f"{stem}.png", f"{stem}.canvas.png", f"{stem}.strokes.json"])
    strokes = json.loads((drawings_dir() / "1" / f"{stem}.strokes.json").read_text())["strokes"]
    assert len(strokes) == 1 and len(strokes[0]["points"]) == len(SEVEN)
    assert strokes[0]["points"][0][3] == 0.0 and strokes[0]["points"][-1][3] >= 0.0
    assert bar.pad.is_empty() and bar.counts()[1] == 1
    assert bar.digit_buttons[1].text() == "1 (1)"
    bar.undo_button.click()
    assert list((drawings_dir() / "1").iterdir()) == [] and bar.counts()[1] == 0


def test_enter_keeps_the_models_answer_and_buttons_work(bar, qtbot):
    draw(bar.pad, SEVEN)
    qtbot.keyClick(bar.pad, Qt.Key.Key_Return)
    draw(bar.pad, SEVEN)
    bar.digit_buttons[4].click()
    mine = load_drawings(drawings_dir())
    assert sorted(mine.y.tolist()) == [4, 7]
    assert DrawingStore().counts()[7] == 1


def test_nothing_is_stored_from_an_empty_pad(bar, qtbot):
    qtbot.keyClick(bar.pad, Qt.Key.Key_5)
    assert not drawings_dir().exists() or not any(drawings_dir().rglob("*.png"))
    assert not bar.digit_buttons[5].isEnabled()
