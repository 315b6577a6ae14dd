"""Train a saved model further from the window: File → Train This Model Further…, then Start."""

from __future__ import annotations

import pytest
from test_gui_recognize import window  # noqa: F401  (a window with a real model loaded)


@pytest.mark.slow
def test_train_the_model_in_use_further(qtbot, window, model_file):  # noqa: F811
    from digitpad.core.modelfile import load_model

    before = int(load_model(model_file).model.optimizer.iterations.numpy())
    assert before > 0
    action = window.train_further_action
    assert action.isEnabled() and action.shortcut().toString() == "Ctrl+T"
    action.trigger()
    tab = window.train_tab
    assert window.tabs.currentWidget() is tab
    assert tab.base_model() == str(model_file)
    assert "saved optimizer state" in tab.form.base_label.text()
    form = tab.form
    form.arch_combo.setCurrentIndex(form.arch_combo.findData("fast"))
    form.epochs_spin.setValue(1)
    form.limit_spin.setValue(300)
    tab.config_overrides["test_limit"] = 300
    tab.start_training()
    qtbot.waitUntil(lambda: not tab.is_training(), timeout=120_000)
    result = tab.current_result()
    assert str(result.status.value) == "completed", window.errors
    # the same optimizer went on counting: the run continued the file's model
    assert int(result.model.optimizer.iterations.numpy()) > before
    assert "from fast_small.keras" in tab.results.progress.log.toPlainText()
    assert tab.has_unsaved_model()
    # closing the window (test teardown) asks to save the new model: discard it
    from PySide6.QtWidgets import QMessageBox

    window._ask = lambda *args: QMessageBox.StandardButton.Discard


@pytest.mark.slow
def test_bad_base_model_is_reported(qtbot, window, tmp_path):  # noqa: F811
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"not a zip")
    tab = window.train_tab
    shown: list[tuple[str, str]] = []
    tab.show_error = lambda title, text: shown.append((title, text))
    tab.set_base_model(str(bad))
    tab.form.limit_spin.setValue(300)
    tab.start_training()
    qtbot.waitUntil(lambda: not tab.is_training(), timeout=60_000)
    assert len(shown) == 1, "the broken base model must be reported"
    title, text = shown[0]
    assert title == "Training failed"
    assert "broken.keras" in text and "Traceback" not in text
    assert tab.current_result() is None and not tab.has_unsaved_model()
    tab.set_base_model(None)
    assert tab.base_model() is None and tab.form.base_label.text() == "a new model"
