"""The My drawings view: gallery by digit, relabel, delete, import/export, misread ones marked."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.core.personal import DrawingStore
from digitpad.core.strokes import draw_digit
from digitpad.gui.my_drawings import MyDrawingsView
from digitpad.gui.tasks import TaskRunner


class FixedPredictor:
    """Reads every drawing as 7 (real arrays in, real arrays out)."""

    def predict_batch(self, xs):
        out = np.zeros((len(xs), 10), np.float32)
        out[:, 7] = 1.0
        return out


@pytest.fixture
def view(qtbot, tmp_path):
    store = DrawingStore(tmp_path / "d")
    rng = np.random.default_rng(3)
    for style in ("1_flag", "7_crossed", "7_plain", "4_open"):
        d = draw_digit(style, "clean", rng)
        store.save(d.label, d.canvas)
    widget = MyDrawingsView(store=store, runner=TaskRunner())
    qtbot.addWidget(widget)
    return widget


def test_gallery_sorted_by_digit_relabel_delete(view):
    assert [view.list.item(i).text() for i in range(view.list.count())] == ["1", "4", "7", "7"]
    view.list.item(0).setSelected(True)
    view.relabel_selected(2)
    assert view.store.counts()[2] == 1 and view.store.counts()[1] == 0
    view.list.item(0).setSelected(True)  # the 2 now sorts first
    view.delete_selected()
    assert sum(view.store.counts()) == 3 and view.list.count() == 3


def test_misread_drawings_are_marked(view, monkeypatch):
    monkeypatch.setattr(type(view.current), "predictor", property(lambda self: FixedPredictor()))
    monkeypatch.setattr(type(view.current), "name", property(lambda self: "sevens"))
    view.refresh()
    texts = [view.list.item(i).text() for i in range(view.list.count())]
    assert texts == ["1 (read 7)", "4 (read 7)", "7", "7"] and len(view.misread) == 2
    assert "50.0 %" in view.summary.text()


def test_export_then_import_into_another_view(view, qtbot, tmp_path):
    assert view.export_path(str(tmp_path / "mine.zip")) == 4
    other = MyDrawingsView(store=DrawingStore(tmp_path / "e"), runner=view.runner)
    qtbot.addWidget(other)
    assert "imported 4" in other.import_path(str(tmp_path / "mine.zip"))
    assert other.list.count() == 4
    assert "failed" in other.import_path(str(tmp_path / "missing.zip")).lower()
