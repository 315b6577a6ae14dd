"""Live internals on the Recognize tab: activations, attribution, toggles, latest-only jobs.

Real bundled model, real mouse strokes on the pad, real clicks on the toggles and the bars.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

import digitpad.gui.internals.panel as panel_module
from digitpad.core.paths import bundled_model_path
from digitpad.gui.current_model import CurrentModel
from digitpad.gui.internals.activations_view import layer_image
from digitpad.gui.recognize_tab import RecognizeTab
from digitpad.gui.tasks import TaskRunner
from tests.test_gui_recognize import move, one_points, press, release, stroke, zero_points

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loaded():
    from digitpad.core.modelfile import load_model

    return load_model(bundled_model_path())


@pytest.fixture
def tab(qtbot):
    runner = TaskRunner()
    current = CurrentModel(runner)
    t = RecognizeTab(current=current)
    qtbot.addWidget(t)
    t.resize(1180, 760)
    t.show()
    qtbot.waitExposed(t)
    with qtbot.waitSignal(current.changed, timeout=180_000):
        current.load_file(str(bundled_model_path()))
    yield t
    runner.stop_all()
    assert runner.wait_all(60_000)


def _toggle(qtbot, tab, text: str) -> None:
    button = tab.internals.toggle_buttons[text]
    assert button.text() == text and button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _settled(qtbot, tab):
    """Wait until the internals show the drawing the bars show; returns that result."""
    internals = tab.internals

    def done() -> bool:
        r, p = internals.last_result, tab.last_prediction
        return (not internals.coalescer.in_flight and not internals.coalescer.pending
                and r is not None and p is not None and not p.blank
                and np.array_equal(r.image28, p.normalized.image)
                and r.target == internals.target())

    qtbot.waitUntil(done, timeout=120_000)
    return internals.last_result


def _draw(tab, points) -> None:
    stroke(tab.pad, points, process_every=1)


def _click_bar(qtbot, bars, digit: int) -> None:
    import pyqtgraph as pg

    box = bars.getPlotItem().getViewBox()
    point = bars.mapFromScene(box.mapViewToScene(pg.Point(digit, 0.02)))
    qtbot.mouseClick(bars.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point))


def test_internals_hidden_until_switched_on(qtbot, tab):
    assert not tab.internals.isVisible()
    _draw(tab, one_points())
    qtbot.wait(50)
    assert tab.internals.coalescer.submitted == tab.internals.coalescer.started == 0
    _toggle(qtbot, tab, "Activations")
    assert tab.internals.isVisible() and tab.internals.activations_view.isVisible()
    assert not tab.internals.attribution_view.isVisible()
    _toggle(qtbot, tab, "Activations")
    assert not tab.internals.isVisible()


def test_activations_equal_a_keras_sub_model_as_you_draw(qtbot, tab, loaded):
    from digitpad.core.tfsetup import keras

    _toggle(qtbot, tab, "Activations")
    _draw(tab, zero_points())
    result = _settled(qtbot, tab)
    assert result.heatmap is None   # attribution is off: not computed
    view = tab.internals.activations_view
    names = [a.layer for a in result.activations]
    assert [n for n, _ in view.layers()] == names
    assert names[:4] == ["conv1", "conv2", "conv3", "conv4"]
    model = loaded.model
    sub = keras().Model(model.input, [model.get_layer(a.output_of).output
                                      for a in result.activations])
    image = tab.last_prediction.normalized.image
    expected = sub(image[None, ..., None].astype(np.float32), training=False)
    for i, (act, want) in enumerate(zip(result.activations, expected, strict=True)):
        want = np.asarray(want)[0]
        np.testing.assert_allclose(act.values, want, atol=1e-4, err_msg=act.layer)
        np.testing.assert_allclose(view.image(i), layer_image(want), atol=1e-3, equal_nan=True)

    # a new drawing: the maps follow it
    before = view.image(0).copy()
    tab.pad.clear()
    _draw(tab, one_points())
    _settled(qtbot, tab)
    assert not np.allclose(np.nan_to_num(view.image(0)), np.nan_to_num(before))


def test_attribution_for_the_prediction_and_a_clicked_digit(qtbot, tab, loaded):
    from digitpad.core.explain import Attributor, heatmap_to_canvas

    _toggle(qtbot, tab, "Attribution")
    _draw(tab, zero_points())
    result = _settled(qtbot, tab)
    prediction = tab.last_prediction
    predicted = prediction.digit
    assert result.target == predicted and result.activations is None
    attributor = Attributor(loaded.model)
    image = prediction.normalized.image
    shown = tab.internals.attribution_view.heatmap()
    assert shown.shape == (28, 28) and shown.min() >= 0 and shown.sum() == pytest.approx(1, 1e-4)
    np.testing.assert_allclose(shown, attributor(image, predicted), atol=1e-4)
    canvas_heat = heatmap_to_canvas(shown, prediction.normalized, tab.pad.canvas_array().shape)
    np.testing.assert_allclose(tab.internals.overlay.heat(), canvas_heat, atol=1e-6)
    assert f"towards <b>{predicted}</b>" in tab.internals.attribution_view.caption.text()
    # the heat lies on the ink of the drawing (pixels with no ink get little of it)
    ink = image > 0.1
    assert shown[ink].sum() > 0.8

    other = (predicted + 3) % 10
    _click_bar(qtbot, tab.bars, other)
    assert tab.internals.target() == other
    result = _settled(qtbot, tab)
    assert result.target == other
    np.testing.assert_allclose(tab.internals.attribution_view.heatmap(),
                               attributor(image, other), atol=1e-4)
    assert f"towards <b>{other}</b> (clicked" in tab.internals.attribution_view.caption.text()
    _click_bar(qtbot, tab.bars, other)             # the same bar again: follow the prediction
    assert tab.internals.target() == predicted
    assert _settled(qtbot, tab).target == predicted

    _toggle(qtbot, tab, "Attribution")             # hidden: overlay removed, nothing computed
    assert not tab.internals.isVisible() and tab.internals.overlay.heat() is None
    started = tab.internals.coalescer.started
    _draw(tab, one_points())
    qtbot.wait(50)
    assert tab.internals.coalescer.started == started


def test_rapid_strokes_never_queue_up(qtbot, tab, monkeypatch):
    """While one computation runs, every further pen move replaces the one pending job."""
    release_job = threading.Event()
    threads: list[int] = []
    real = panel_module.compute_internals

    def slow_compute(*args, **kwargs):
        threads.append(threading.get_ident())
        assert release_job.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(panel_module, "compute_internals", slow_compute)
    _toggle(qtbot, tab, "Activations")
    _toggle(qtbot, tab, "Attribution")
    latest = tab.internals.coalescer
    points = zero_points(60)
    press(tab.pad, *points[0])
    for i, p in enumerate(points[1:], 1):
        move(tab.pad, *p)
        QApplication.processEvents()          # the bars follow every move
        if i == 1:
            qtbot.waitUntil(lambda: bool(threads), timeout=10_000)
        assert latest.started == 1 and (latest.pending or i == 1)
    release(tab.pad, *points[-1])
    QApplication.processEvents()
    assert latest.submitted >= len(points) - 2    # one request per shown prediction ...
    assert latest.started == 1 and latest.pending  # ... but one job running and one waiting
    release_job.set()
    result = _settled(qtbot, tab)
    assert latest.started == 2                    # the stale requests were dropped
    assert result.heatmap is not None and result.activations is not None
    assert threads and threading.get_ident() not in threads   # never on the GUI thread


def test_latest_only_pauses_between_jobs_and_still_runs_the_latest(qtbot):
    """With ``gap_ms`` the pending job waits for the pause; a job submitted during it replaces it."""
    import time as _time

    from digitpad.gui.internals.coalesce import LatestOnly
    from digitpad.gui.tasks import TaskRunner

    runner = TaskRunner()
    latest = LatestOnly(runner, name="gap-test", gap_ms=300)
    done: list[tuple[str, float]] = []
    latest.submit(lambda: "a", on_done=lambda v: done.append((v, _time.perf_counter())))
    qtbot.waitUntil(lambda: len(done) == 1 and not latest.in_flight, timeout=10_000)
    ended = done[0][1]
    latest.submit(lambda: "b", on_done=lambda v: done.append((v, _time.perf_counter())))
    latest.submit(lambda: "c", on_done=lambda v: done.append((v, _time.perf_counter())))
    assert latest.pending and not latest.in_flight and latest.started == 1  # cooling: not started
    qtbot.waitUntil(lambda: len(done) == 2, timeout=10_000)
    assert [v for v, _ in done] == ["a", "c"] and latest.started == 2  # "b" was superseded
    assert done[1][1] - ended >= 0.25  # it waited for the pause (a lower bound, never a timing cap)
    assert runner.wait_all(10_000)
