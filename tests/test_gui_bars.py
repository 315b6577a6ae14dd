"""The probability bars with real widgets: the winner's label stays in view (pytest-qt)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from digitpad.gui.prob_bars import BLANK_TEXT, ProbabilityBars


def probabilities(winner: int, p: float) -> np.ndarray:
    rest = (1.0 - p) / 9
    probs = np.full(10, rest)
    probs[winner] = p
    return probs


@pytest.fixture
def bars(qtbot) -> ProbabilityBars:
    widget = ProbabilityBars()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def settle(widget, width: int, height: int) -> None:
    widget.resize(width, height)
    for _ in range(3):
        QApplication.processEvents()


def label_and_view(bars: ProbabilityBars):
    view = bars.getPlotItem().getViewBox()
    return bars.value_label().sceneBoundingRect(), view.sceneBoundingRect(), view


@pytest.mark.parametrize("size", [(300, 200), (700, 520)])
@pytest.mark.parametrize("p", [0.95, 0.999, 1.0])
def test_winner_label_lies_inside_the_view_when_the_bar_is_tall(bars, size, p):
    settle(bars, *size)
    bars.set_probabilities(probabilities(7, p))
    QApplication.processEvents()
    label, view_rect, view = label_and_view(bars)
    assert bars.value_label().toPlainText() == f"{100 * p:.0f} %"
    assert label.height() > 5 and view_rect.contains(label), (label, view_rect)
    centre = view.mapViewToScene(QPointF(7, 0)).x()
    assert abs(label.center().x() - centre) < 2  # over the winner's bar


@pytest.mark.parametrize("size", [(300, 200), (700, 520)])
@pytest.mark.parametrize("p", [0.3, 0.6, 1.0])
def test_winner_label_sits_above_its_bar(bars, size, p):
    settle(bars, *size)
    bars.set_probabilities(probabilities(2, p))
    QApplication.processEvents()
    label, view_rect, view = label_and_view(bars)
    bar_top = view.mapViewToScene(QPointF(2, p)).y()
    assert view_rect.contains(label) and bar_top - 8 < label.bottom() <= bar_top + 0.5


def test_label_stays_in_view_when_the_widget_shrinks(bars):
    settle(bars, 700, 900)
    bars.set_probabilities(probabilities(4, 1.0))
    settle(bars, 300, 200)
    label, view_rect, _ = label_and_view(bars)
    assert view_rect.contains(label)


def test_blank_message_clears_bars_and_label(bars):
    bars.set_probabilities(probabilities(1, 0.99))
    assert bars.winner() == 1 and bars.value_label().toPlainText()
    bars.set_message(BLANK_TEXT)
    assert bars.winner() is None and bars.heights().sum() == 0.0
    assert bars.value_label().toPlainText() == "" and bars.message() == BLANK_TEXT
