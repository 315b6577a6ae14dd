"""Training plots and the k-fold box plot with real widgets and real input events (pytest-qt)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QPainter, QWheelEvent
from PySide6.QtWidgets import QApplication

from digitpad.gui.box_plot import BoxPlot
from digitpad.gui.plot_view import MIN_LABEL_PX
from digitpad.gui.training_plots import PLOT_MIN_WIDTH, TrainingPlots


def feed(plots: TrainingPlots, epochs: int = 3, batches: int = 20) -> None:
    """Points of a short run: a falling loss and a rising accuracy."""
    for e in range(epochs):
        xs = [e + (b + 1) / batches for b in range(batches)]
        logs = [{"loss": 2.0 / (1 + x), "accuracy": 1 - 1 / (2 + x)} for x in xs]
        plots.add_batches(xs, logs)
        plots.add_epoch(e + 1, {"loss": 2.0 / (2 + e), "accuracy": 0.6 + 0.1 * e,
                                "val_loss": 2.2 / (2 + e), "val_accuracy": 0.55 + 0.1 * e})
    plots.flush()


def wheel(plot, modifiers=Qt.KeyboardModifier.NoModifier, steps: int = 3) -> None:
    viewport = plot.viewport()
    pos = QPointF(viewport.width() / 2, viewport.height() / 2)
    for _ in range(steps):
        event = QWheelEvent(pos, QPointF(viewport.mapToGlobal(pos.toPoint())), QPoint(0, 0),
                            QPoint(0, 120), Qt.MouseButton.NoButton, modifiers,
                            Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(viewport, event)
    QApplication.processEvents()


def view_range(plot) -> np.ndarray:
    return np.array(plot.getPlotItem().getViewBox().viewRange())


@pytest.fixture
def plots(qtbot) -> TrainingPlots:
    widget = TrainingPlots()
    qtbot.addWidget(widget)
    widget.redraw_interval_ms = 0
    widget.resize(900, 420)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


# ------------------------------------------------------------------ zoom (bug 8)
def test_plain_wheel_does_not_zoom_ctrl_wheel_does_and_reset_restores(plots, qtbot):
    feed(plots)
    loss = plots.plots["loss"]
    data_view = view_range(loss)
    assert data_view[0][0] < 0.0 < 3.0 < data_view[0][1]  # the run's three epochs are in view

    wheel(loss)  # a plain wheel turn, e.g. scrolling past the plot
    np.testing.assert_allclose(view_range(loss), data_view)
    assert not plots.user_view("loss") and not plots.reset_button.isEnabled()

    wheel(loss, Qt.KeyboardModifier.ControlModifier)  # a deliberate zoom
    zoomed = view_range(loss)
    assert zoomed[0][1] - zoomed[0][0] < 0.9 * (data_view[0][1] - data_view[0][0])
    assert plots.user_view("loss") and plots.reset_button.isEnabled()

    feed(plots, epochs=5)  # new data do not take the user's view away
    np.testing.assert_allclose(view_range(loss), zoomed)
    followed = view_range(plots.plots["accuracy"])
    assert followed[0][1] > 5.0  # the other plot still follows the data

    qtbot.mouseClick(plots.reset_button, Qt.MouseButton.LeftButton)
    restored = view_range(loss)
    np.testing.assert_allclose(restored[0], followed[0])
    assert not plots.user_view("loss") and not plots.reset_button.isEnabled()


def test_double_click_gives_the_view_back_to_the_data(plots, qtbot):
    feed(plots)
    acc = plots.plots["accuracy"]
    data_view = view_range(acc)
    wheel(acc, Qt.KeyboardModifier.ControlModifier)
    assert plots.user_view("accuracy")
    centre = QPoint(acc.viewport().width() // 2, acc.viewport().height() // 2)
    qtbot.mouseDClick(acc.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    QApplication.processEvents()
    assert not plots.user_view("accuracy")
    np.testing.assert_allclose(view_range(acc), data_view)


def test_items_are_created_once_and_clear_resets_the_view(plots):
    items = dict(plots.batch_items), dict(plots.val_items)
    feed(plots, epochs=4)
    assert view_range(plots.plots["loss"])[0][1] > 4.0
    plots.clear()
    assert plots.point_counts()["batch_loss"] == 0
    assert (dict(plots.batch_items), dict(plots.val_items)) == items
    top = view_range(plots.plots["loss"])
    assert top[0][1] < 1.1 and top[1][1] < 1.1  # back to one epoch, 0..1


# ------------------------------------------------------------ small sizes (bug 6)
def _tick_label_rects(axis) -> list:
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [rect for rect, _flags, text in specs[2] if text]


def test_narrow_plots_stack_with_room_for_ticks_and_legend(plots, qtbot):
    feed(plots, epochs=7)
    plots.resize(223, 405)  # the plots' share of the window at its minimum size
    QApplication.processEvents()
    assert plots.size().width() == 223  # nothing in it asks for more width
    loss, acc = plots.plots["loss"], plots.plots["accuracy"]
    assert acc.geometry().top() >= loss.geometry().bottom()  # stacked, not side by side
    assert loss.width() >= PLOT_MIN_WIDTH and acc.width() >= PLOT_MIN_WIDTH
    assert plots.legend.geometry().right() <= plots.width()  # one legend, wrapped to fit
    assert all(plot.getPlotItem().legend is None for plot in plots.plots.values())
    for plot in (loss, acc):
        for name in ("bottom", "left"):
            rects = sorted(_tick_label_rects(plot.getPlotItem().getAxis(name)),
                           key=lambda r: (r.left(), r.top()))
            assert len(rects) >= 2
            for a, b in zip(rects, rects[1:], strict=False):
                assert not a.intersects(b), (name, [r.getRect() for r in rects])

    plots.resize(900, 405)
    QApplication.processEvents()
    assert abs(acc.geometry().top() - loss.geometry().top()) <= 1  # side by side again
    axis = loss.getPlotItem().getAxis("bottom")
    spacing = axis.tickSpacing(0.0, 7.0, 100.0)[0][0]
    assert 7.0 / spacing <= 100.0 / MIN_LABEL_PX["bottom"]  # few labels on a short axis


# ------------------------------------------------------------ k-fold box plot (bug 7)
def _labelled_ticks(box: BoxPlot) -> list[float]:
    axis = box.getPlotItem().getAxis("left")
    low, high = box.getPlotItem().getViewBox().viewRange()[1]
    return [v for spacing, values in axis.tickValues(low, high, 200) for v in values][:50]


def test_box_plot_axis_is_in_percent_empty_and_with_folds(qtbot):
    box = BoxPlot()
    qtbot.addWidget(box)
    box.resize(400, 300)
    box.show()
    qtbot.waitExposed(box)
    assert box.getPlotItem().getAxis("left").labelText == "accuracy (%)"
    low, high = box.getPlotItem().getViewBox().viewRange()[1]
    assert low <= 0.0 and high >= 100.0  # empty: the whole percent scale, not 0..1
    assert max(_labelled_ticks(box)) >= 50

    box.set_values([0.91, 0.93, 0.925, 0.95, 0.94])
    xs, ys = box.points_item.getData()
    assert sorted(np.round(ys, 6)) == sorted(np.round([91.0, 93.0, 92.5, 95.0, 94.0], 6))
    low, high = box.getPlotItem().getViewBox().viewRange()[1]
    assert 80 < low < 91 and 95 < high <= 100.5
    assert box.stats["median"] == pytest.approx(93.0)

    box.clear_values()
    low, high = box.getPlotItem().getViewBox().viewRange()[1]
    assert low <= 0.0 and high >= 100.0 and box.stats is None

    wheel(box)  # the box plot zooms only deliberately too
    assert box.getPlotItem().getViewBox().viewRange()[1] == [low, high]
    wheel(box, Qt.KeyboardModifier.ControlModifier)
    assert box.getPlotItem().getViewBox().viewRange()[1] != [low, high]
    centre = QPoint(box.viewport().width() // 2, box.viewport().height() // 2)
    qtbot.mouseDClick(box.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert box.getPlotItem().getViewBox().viewRange()[1] == [low, high]
