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


# ---------------------------------------------------------------- fine-tune, end to end
#: one stroke per digit in pad coordinates: a continental 1 with a long flag, a 7, an open 4
HANDS = {
    1: [[(0.15, 0.45), (0.55, 0.1), (0.55, 0.9)]],
    7: [[(0.2, 0.15), (0.5, 0.15), (0.8, 0.15), (0.65, 0.5), (0.5, 0.85)]],
    4: [[(0.45, 0.1), (0.2, 0.6), (0.8, 0.6)], [(0.65, 0.35), (0.65, 0.9)]],
}


def label_drawings(qtbot, bar, per_digit: int) -> None:
    """Draw each hand ``per_digit`` times (shifted a little) and label it with its key."""
    from PySide6.QtCore import Qt

    from tests.test_gui_pad import draw

    keys = {1: Qt.Key.Key_1, 4: Qt.Key.Key_4, 7: Qt.Key.Key_7}
    for digit, strokes in HANDS.items():
        for i in range(per_digit):
            dx = 0.03 * (i - per_digit // 2)
            for stroke in strokes:
                draw(bar.pad, [(x + dx, y + 0.02 * i) for x, y in stroke])
            with qtbot.waitSignal(bar.labelled):
                qtbot.keyClick(bar.pad, keys[digit])


@pytest.mark.slow
def test_finetune_from_the_tab_end_to_end(qtbot, model_file):
    """Label drawings with keys on the pad, fine-tune from My drawings in the worker (live loss
    plot), see the before/after table, use the tuned model, then the model before again."""
    from digitpad.core.finetune import FinetuneConfig
    from digitpad.gui.current_model import CurrentModel
    from digitpad.gui.draw_pad import DrawPad
    from digitpad.gui.label_bar import LabelBar

    runner = TaskRunner()
    current = CurrentModel(runner)
    with qtbot.waitSignal(current.changed, timeout=60_000):
        current.load_file(str(model_file))
    base, base_name = current.model, current.name
    pad = DrawPad()
    bar = LabelBar(pad, lambda: None)
    view = MyDrawingsView(runner=runner, current=current)
    for w in (pad, bar, view):
        qtbot.addWidget(w)
    bar.labelled.connect(view.refresh)  # as the window connects them
    pad.resize(280, 280)
    pad.show()
    qtbot.waitExposed(pad)
    label_drawings(qtbot, bar, per_digit=4)
    assert view.list.count() == 12 and view.store.counts()[1] == 4

    panel = view.finetune
    reports: list[int] = []
    config = FinetuneConfig(epochs=1, mnist_images=300, mnist_test=300, batch_size=64,
                            learning_rate=3e-4, device="cpu")
    original = panel._on_progress

    def counting(batch):
        reports.append(len(panel._x))  # points plotted before this delivery
        original(batch)

    panel._on_progress = counting
    assert panel.start(config)
    assert panel.running and not panel.start_button.isEnabled()
    with qtbot.waitSignal(panel.finished, timeout=180_000):
        pass
    qtbot.waitUntil(lambda: not panel.running, timeout=30_000)
    result = panel.result
    assert result.status.value == "completed" and result.held_out == 3  # one per digit
    # the loss curve grew while the worker ran, one delivery after another
    assert len(reports) >= 1 and reports[0] == 0
    xs, ys = panel.curve.getData()
    assert len(xs) >= 2 and np.all(np.diff(xs) >= 0) and np.all(np.isfinite(ys))
    # the before/after table: held-out drawings and MNIST test, before and after
    cells = [[panel.table.item(r, c).text() for c in range(3)] for r in range(2)]
    assert cells[0][0] == "held-out drawings" and cells[1][0] == "MNIST test"
    for row, key in enumerate(("drawings_accuracy", "mnist_accuracy")):
        for col, scores in ((1, result.before), (2, result.after)):
            assert cells[row][col] == f"{100 * getattr(scores, key):.2f} %"
    # both models are kept; one click uses the tuned one, another goes back
    assert result.base_model is base and result.model is not base
    assert panel.use_button.isEnabled() and panel.before_button.isEnabled()
    with qtbot.waitSignal(current.changed, timeout=60_000):
        panel.use_button.click()
    assert current.model is result.model and current.name.endswith("(fine-tuned)")
    assert "finetune" in current.metadata and not current.is_saved
    with qtbot.waitSignal(current.changed, timeout=60_000):
        panel.before_button.click()
    assert current.model is base and current.name == base_name
    assert runner.wait_all(60_000)


def test_finetune_without_a_model_says_so(view):
    assert view.current.entry is None
    assert not view.finetune.start()
    assert view.finetune.status.text() == "No model is in use yet."
