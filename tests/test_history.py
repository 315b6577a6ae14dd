"""Run history: round trip, atomic rewrite, tolerance of a corrupt file."""

from __future__ import annotations

import json

import numpy as np

from digitpad.core import history
from digitpad.core.paths import user_data_dir


def test_empty_history_is_empty_list():
    assert history.load_history() == []
    assert not (user_data_dir() / "runs.json").exists()


def test_round_trip_keeps_order_and_values():
    history.append_run({"arch": "fast", "test_accuracy": 0.991, "epochs": 1})
    history.append_run({"arch": "best", "test_accuracy": np.float32(0.5), "hist": np.arange(3),
                        "bad": float("nan")})
    runs = history.load_history()
    assert [r["arch"] for r in runs] == ["fast", "best"]
    assert runs[0]["test_accuracy"] == 0.991
    assert runs[1]["test_accuracy"] == 0.5
    assert runs[1]["hist"] == [0, 1, 2]
    assert runs[1]["bad"] is None
    # the file itself is strict JSON (no NaN) and there are no temporary files left over
    path = user_data_dir() / "runs.json"
    json.loads(path.read_text(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert sorted(p.name for p in path.parent.iterdir()) == ["runs.json"]


def test_corrupt_file_is_moved_aside_and_history_restarts():
    path = user_data_dir() / "runs.json"
    path.write_text('[{"arch": "fast"}, {"arch": ')  # truncated
    assert history.load_history() == []
    bak = path.with_name("runs.json.bak")
    assert bak.read_text().startswith('[{"arch": "fast"}')
    history.append_run({"arch": "vgg"})
    assert [r["arch"] for r in history.load_history()] == ["vgg"]


def test_wrong_json_type_is_treated_as_corrupt():
    path = user_data_dir() / "runs.json"
    path.write_text('{"not": "a list"}')
    assert history.load_history() == []
    assert path.with_name("runs.json.bak").exists()


def test_binary_garbage_is_treated_as_corrupt():
    path = user_data_dir() / "runs.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert history.load_history() == []
    assert path.with_name("runs.json.bak").read_bytes() == b"\xff\xfe\x00garbage"


def test_clear_history():
    history.append_run({"arch": "fast"})
    history.clear_history()
    assert history.load_history() == []
