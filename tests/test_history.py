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


def _result(**changes):
    from digitpad.core.training import RunStatus, TrainConfig, TrainResult

    values = dict(model=None, history={"loss": [0.5, np.float32(0.25)], "val_accuracy": [0.8, float("nan")]},
                  reason="stopped by user in epoch 3 after 7 of 10 batches (2 full epochs done); "
                         "the weights trained so far are kept",
                  epochs_done=2, best_epoch=1, test_accuracy=np.float64(0.9), test_loss=0.3,
                  device="CPU", elapsed=12.5, config=TrainConfig(arch="fast", epochs=3).resolved(),
                  status=RunStatus.STOPPED, batches_done=7, batches=10, step=27)
    values.update(changes)
    return TrainResult(**values)


def test_run_record_carries_status_reason_config_metrics_and_curves():
    result = _result()
    record = history.run_record(result, kind="continue")
    history.append_run(record)
    (saved,) = history.load_history()
    assert saved["kind"] == "continue" and saved["status"] == "stopped" and saved["stopped"] is True
    assert saved["reason"] == result.reason
    assert saved["arch"] == "fast" and saved["config"]["epochs"] == 3 and saved["epochs"] == 2
    assert saved["batches_done"] == 7 and saved["batches"] == 10 and saved["epoch_float"] == 2.7
    assert saved["history"] == {"loss": [0.5, 0.25], "val_accuracy": [0.8, None]}
    assert saved["best_val_accuracy"] == 0.8 and saved["test_accuracy"] == 0.9
    assert "T" in saved["date"]


def test_kfold_record_carries_folds_mean_and_std():
    from digitpad.core.training import KFoldResult, RunStatus, TrainConfig

    result = KFoldResult([0.9, 0.8], 0.85, 0.05, [{"loss": [1.0]}, {"loss": [2.0]}], k=3,
                         status=RunStatus.STOPPED, reason="stopped by user after 2 of 3 folds")
    history.append_run(history.kfold_record(result, TrainConfig(arch="fast").resolved()))
    (saved,) = history.load_history()
    assert saved["kind"] == "kfold" and saved["status"] == "stopped" and saved["k"] == 3
    assert saved["accuracies"] == [0.9, 0.8] and saved["mean"] == 0.85 and saved["std"] == 0.05
    assert saved["test_accuracy"] == 0.85 and saved["histories"][1] == {"loss": [2.0]}
    assert saved["reason"] == "stopped by user after 2 of 3 folds" and saved["epochs"] == 1
