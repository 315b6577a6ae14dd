"""File → Export Model… driven with pytest-qt: a real verified export, and a refused one."""

from __future__ import annotations

import types

import pytest
from PySide6.QtWidgets import QWidget

from digitpad.core.export import FORMATS
from digitpad.core.export.common import installed
from digitpad.gui.current_model import CurrentModel
from digitpad.gui.export_dialog import ExportDialog, open_export_dialog
from digitpad.gui.tasks import TaskRunner


@pytest.fixture(scope="module")
def small_model():
    from digitpad.core.archs import build_model
    from digitpad.core.tfsetup import keras

    keras().utils.set_random_seed(3)
    return build_model("fast")


def make_dialog(qtbot, model, **kwargs):
    runner = TaskRunner()
    dialog = ExportDialog(model, "fast (test)", runner=runner, **kwargs)
    qtbot.addWidget(dialog)
    return dialog, runner


def test_formats_without_their_packages_are_offered_disabled(qtbot, small_model):
    dialog, _ = make_dialog(qtbot, small_model)
    model = dialog.format_combo.model()
    for row in range(dialog.format_combo.count()):
        fmt = dialog.format_combo.itemData(row)
        available = all(installed(m) for m in FORMATS[fmt].DEPENDENCIES)
        assert model.item(row).isEnabled() == available
        if not available:
            assert "pip install 'digitpad[export]'" in model.item(row).toolTip()


@pytest.mark.slow
def test_an_export_is_verified_and_reported(qtbot, small_model, tmp_path):
    dialog, runner = make_dialog(qtbot, small_model, source_path=str(tmp_path / "m.keras"))
    assert dialog.path_edit.text() == str(tmp_path / "m.tflite")
    dialog.set_format("savedmodel")
    assert dialog.path_edit.text() == str(tmp_path / "m_savedmodel")
    dialog.set_format("tflite")
    dialog.export_button.click()
    assert dialog.is_running() and not dialog.export_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=120_000)
    assert dialog.error is None and (tmp_path / "m.tflite").is_file()
    assert "verified with LiteRT on 1000 MNIST test images" in dialog.result_label.text()
    dialog.path_edit.setText(str(tmp_path / "wrong.onnx"))  # a TFLite export must end .tflite
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=60_000)
    assert dialog.result is None and "ending in .tflite" in dialog.error
    assert dialog.result_label.text().startswith("Nothing was exported:")
    assert not (tmp_path / "wrong.onnx").exists()
    runner.wait_all(60_000)


def test_file_export_model_exports_the_model_in_use(qtbot, small_model):
    runner = TaskRunner()
    current = CurrentModel(runner)
    said: list[str] = []
    win = QWidget()  # the window's parts open_export_dialog uses
    qtbot.addWidget(win)
    win.current, win.runner = current, runner
    win.status = types.SimpleNamespace(say=said.append)
    assert open_export_dialog(win) is None and said == ["Nothing to export: no model is in use yet."]
    with qtbot.waitSignal(current.changed, timeout=60_000):
        current.use(small_model, "fast (test)", {})
    dialog = open_export_dialog(win)
    assert dialog.model is small_model and dialog.isVisible()
    assert "fast (test)" in dialog.result_label.text()
    runner.wait_all(60_000)
