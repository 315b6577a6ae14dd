"""The Model view shows what ``digitpad info --json`` shows: the same rows, from the model in memory."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from digitpad.core.paths import bundled_model_path
from digitpad.gui.current_model import CurrentModel
from digitpad.gui.model_view import COLUMNS, ModelView
from digitpad.gui.tasks import TaskRunner

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def view(qtbot):
    runner = TaskRunner()
    current = CurrentModel(runner)
    v = ModelView(runner=runner, current=current)
    qtbot.addWidget(v)
    v.resize(1000, 700)
    v.show()
    yield v
    runner.stop_all()
    assert runner.wait_all(60_000)


def _load(qtbot, view, path) -> None:
    with qtbot.waitSignal(view.current.changed, timeout=180_000):
        view.current.load_file(str(path))
    qtbot.waitUntil(lambda: view.info is not None and view.info.get("path") == str(path),
                    timeout=60_000)


def _info_json(path) -> dict:
    """What ``digitpad info PATH --json`` prints (its own JSON writer over ``describe``)."""
    from digitpad.cli.render import write_json
    from digitpad.core.modelfile import describe

    out = io.StringIO()
    write_json(dict(describe(Path(path))), out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("path", [bundled_model_path(), FIXTURES / "keras2_baseline.h5",
                                  FIXTURES / "keras2_logits28.h5"],
                         ids=["bundled", "keras2-h5", "keras2-h5-adapted"])
def test_model_view_shows_the_rows_of_info_json(qtbot, view, path):
    from digitpad.core.jsonable import dumps
    from digitpad.core.modelfile import describe

    _load(qtbot, view, path)
    expected = describe(path)
    shown = json.loads(dumps(view.info))
    assert shown == json.loads(dumps(expected))       # every key, as describe(path) gives
    assert shown == _info_json(path)                  # and as `digitpad info --json` prints
    assert view.rows() == expected["layers"]
    table = view.table_rows()
    assert len(table) == len(expected["layers"]) > 0
    for cells, row in zip(table, expected["layers"], strict=True):
        assert cells[COLUMNS.index("name")] == row["name"]
        assert cells[COLUMNS.index("type")] == row["type"]
        assert cells[COLUMNS.index("output_shape")] == row["output_shape"]
        assert cells[COLUMNS.index("params")] == f"{row['params']:,}"
        assert cells[COLUMNS.index("activation")] == (row["activation"] or "—")
    assert f"{expected['total_params']:,} parameters" in view.totals.text()
    overview = view.overview.text()
    for adaptation in expected["adaptations"]:
        assert adaptation.split(" ")[0] in overview
    if not expected["adaptations"]:
        assert "No adaptation needed" in overview
    assert "Confidence:" in overview


def test_model_view_does_not_read_the_file_again(qtbot, view, monkeypatch):
    import importlib

    describe_module = importlib.import_module("digitpad.core.modelfile.describe")
    io_module = importlib.import_module("digitpad.core.modelfile.io")

    path = FIXTURES / "keras2_logits28.h5"
    with qtbot.waitSignal(view.current.changed, timeout=180_000):
        view.current.load_file(str(path))

    def refuse(*args, **kwargs):
        raise AssertionError("the Model view loaded the model file a second time")

    monkeypatch.setattr(describe_module, "load_model", refuse)
    monkeypatch.setattr(io_module, "load_model", refuse)
    qtbot.waitUntil(lambda: view.info is not None, timeout=60_000)
    assert view.info["path"] == str(path) and view.info["adaptations"]
    assert "could not be described" not in view.overview.text()


def test_model_view_of_an_unsaved_model(qtbot, view):
    from digitpad.core.archs import build_model
    from digitpad.core.modelfile.describe import layer_rows

    model = build_model("fast")
    metadata = {"arch": "fast", "config": {"epochs": 1, "learning_rate": 0.01}}
    with qtbot.waitSignal(view.current.changed, timeout=120_000):
        view.current.use(model, "fast (unsaved)", metadata, path=None, saved=False)
    qtbot.waitUntil(lambda: view.info is not None and view.info["name"] == "fast (unsaved)",
                    timeout=60_000)
    assert view.info["path"] is None and view.info["format"] is None
    assert view.rows() == layer_rows(model)
    assert view.info["total_params"] == model.count_params()
    assert "Not saved to a file" in view.overview.text()
    top = {view.metadata_tree.topLevelItem(i).text(0): view.metadata_tree.topLevelItem(i)
           for i in range(view.metadata_tree.topLevelItemCount())}
    assert set(top) == {"arch", "config"} and top["arch"].text(1) == "fast"
    config = {top["config"].child(i).text(0): top["config"].child(i).text(1)
              for i in range(top["config"].childCount())}
    assert config == {"epochs": "1", "learning_rate": "0.01"}
