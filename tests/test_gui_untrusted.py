"""The whole untrusted/broken model corpus opened in the app.

For every file of the corpus that ``test_cli_untrusted`` builds (Lambda payloads in Keras 3 and
legacy Keras-2 layouts, configs naming os.system / subprocess / eval, truncated, zero-byte, PNG
renamed .h5, HDF5 with no model, wrong input shapes, 26 classes, NaN weights, missing file, a
folder): the window shows one-sentence message, keeps its current model, still recognises with it,
and the payload's marker file never appears.
"""

from __future__ import annotations

import pytest
from test_cli_untrusted import corpus  # noqa: F401  (module-scoped fixture: the bad files)
from test_gui_recognize import one_points, settle, stroke, window  # noqa: F401

pytestmark = pytest.mark.slow


def test_every_bad_model_is_refused_in_the_window(qtbot, window, corpus, tmp_path, monkeypatch):  # noqa: F811
    marker = tmp_path / "payload_ran"
    monkeypatch.setenv("DIGITPAD_TEST_MARKER", str(marker))
    before = window.current_model_name()
    assert before
    refused = []
    for label, path in corpus.files.items():
        errors_before = len(window.errors)
        with qtbot.waitSignal(window.model_failed, timeout=60_000) as blocker:
            window.open_model(str(path))
        reason = blocker.args[0]
        refused.append(label)
        assert len(window.errors) == errors_before + 1, label
        assert window.errors[-1][1] == reason, label
        assert reason.strip() and "\n" not in reason and "Traceback" not in reason, (label, reason)
        assert window.current_model_name() == before, label
        assert not marker.exists(), f"code from {label} ran"
    assert len(refused) == len(corpus.files) >= 18
    # The app is still alive and still recognises with the previous model.
    stroke(window.recognize_tab.pad, one_points())
    settle(qtbot)
    assert window.recognize_tab.last_prediction.digit == 1
