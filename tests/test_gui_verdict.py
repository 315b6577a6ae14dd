"""The Recognize tab shows the verdict in words and the top-3 digits."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.core.strokes import render_strokes

pytestmark = pytest.mark.slow


@pytest.fixture()
def tab(qtbot, model_file):
    from digitpad.core.modelfile import load_model
    from digitpad.gui.current_model import CurrentModel
    from digitpad.gui.recognize_tab import RecognizeTab

    current = CurrentModel()
    t = RecognizeTab(current=current)
    qtbot.addWidget(t)
    loaded = load_model(model_file)
    current.use(loaded.model, "small", loaded.metadata)
    qtbot.waitUntil(lambda: current.predictor is not None, timeout=60000)
    qtbot.waitUntil(lambda: t.verdict_panel.detector_note != "the digit detector is still loading.",
                    timeout=60000)
    return t


def test_blank_pad_says_draw_a_digit(tab):
    tab.recognize_now()
    assert tab.verdict_panel.words_label.text() == "Draw a digit"
    assert tab.verdict_panel.top3_label.text() == ""


def test_a_dot_says_not_a_digit_with_top3(tab):
    tab.show_image(render_strokes([np.array([(140.0, 140.0)])], 24) / 255.0)
    tab.recognize_now()
    panel = tab.verdict_panel
    assert panel.verdict.kind == "not a digit" and panel.words_label.text() == "Not a digit"
    assert panel.top3_label.text().startswith("Top 3: ") and panel.top3_label.text().count("%") == 3
    assert "dot" in panel.toolTip()


def test_a_bar_is_a_digit_or_unsure_in_words(tab):
    tab.show_image(render_strokes([np.array([(140.0, 40.0), (140.0, 240.0)])], 20) / 255.0)
    p = tab.recognize_now()
    v = tab.verdict_panel.verdict
    words = tab.verdict_panel.words_label.text()
    assert v.digit == p.digit
    if v.kind == "digit":
        assert words == f"It's a {p.digit}"
    else:
        assert words == v.words and str(p.digit) in words
