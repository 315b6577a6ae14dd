"""Hyper-parameter sweeps (core), dropout as a builder parameter, and tables from run records."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from digitpad.core import history
from digitpad.core.archs import ARCHS, build_model, param_count
from digitpad.core.errors import ArchitectureError, TrainingError
from digitpad.core.run_table import (
    comparison_table,
    history_rows,
    record_curves,
    record_label,
    rows_csv,
    write_csv,
)
from digitpad.core.training import RunStatus, TrainConfig, TrainingSession
from digitpad.core.training.sweep import Sweep, canonical_param, parse_values, sweep_configs


@pytest.fixture(autouse=True)
def _own_history(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITPAD_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def tiny(mnist_small):
    """300 train / 200 test images: with batch 32 and a 0.1 validation split, 9 batches."""
    return mnist_small.subset(n_train=300, n_test=200, seed=3)


def base(**changes):
    values = dict(arch="fast", epochs=1, batch_size=32, val_split=0.1, device="cpu")
    values.update(changes)
    return TrainConfig(**values)


def dropout_rates(model):
    return [layer.rate for layer in model.layers if type(layer).__name__ == "Dropout"]


# -- values ----------------------------------------------------------------------------------------


def test_values_are_converted_to_the_parameters_types():
    assert parse_values("dropout", "0, 0.1 ,0.25") == [0.0, 0.1, 0.25]
    assert parse_values("batch_size", "32,64") == [32, 64]
    assert parse_values("epochs", [1, "2"]) == [1, 2]
    assert parse_values("augment", "on,off") == [True, False]
    assert parse_values("optimizer", "Adam,SGD") == ["adam", "sgd"]
    assert parse_values("lr", "1e-3,0.01") == [0.001, 0.01]
    assert canonical_param("batch-size") == "batch_size" and canonical_param("LR") == "learning_rate"


@pytest.mark.parametrize(
    ("param", "values", "words"),
    [
        ("momentum", "0.9", "cannot sweep 'momentum'"),
        ("dropout", "0.1,abc", "'abc' is not a number"),
        ("batch_size", "32,64.5", "'64.5' is not a whole number"),
        ("augment", "maybe", "'maybe' is not one of"),
        ("dropout", "0.1,,0.2", "empty item"),
        ("epochs", "", "at least one value"),
        ("dropout", "0.1,0.10", "listed twice"),
    ],
)
def test_bad_values_are_one_sentence(param, values, words):
    with pytest.raises(TrainingError) as info:
        parse_values(param, values)
    assert words in str(info.value) and str(info.value).count(". ") == 0


@pytest.mark.parametrize(
    ("config", "param", "values", "words"),
    [
        (base(), "dropout", [0.1], "'fast' has no dropout layers"),
        (base(arch="conv3"), "dropout", [0.1, 1.0], "cannot sweep dropout over 1: dropout must be"),
        (base(), "batch_size", [32, 0], "cannot sweep batch_size over 0"),
        (base(), "arch", ["fast", "nope"], "unknown architecture 'nope'"),
        (base(), "optimizer", ["adam", "lbfgs"], "unknown optimizer 'lbfgs'"),
    ],
)
def test_values_that_do_not_fit_are_refused_before_anything_trains(config, param, values, words):
    with pytest.raises(TrainingError, match=words):
        Sweep(config, param, values)
    assert history.load_history() == []


def test_each_configuration_differs_from_the_base_only_in_the_parameter():
    configs = sweep_configs(base(arch="conv3"), "dropout", [0.0, 0.5])
    assert [c.dropout for c in configs] == [0.0, 0.5]
    assert {(c.arch, c.epochs, c.batch_size) for c in configs} == {("conv3", 1, 32)}


# -- dropout as a builder parameter ----------------------------------------------------------------


@pytest.mark.parametrize("name", list(ARCHS))
def test_default_dropout_rates_are_what_the_registry_says(name):
    assert tuple(dropout_rates(build_model(name))) == ARCHS[name].dropout


@pytest.mark.parametrize("name", [n for n, spec in ARCHS.items() if spec.dropout])
def test_a_dropout_rate_sets_every_layer_and_keeps_the_parameters(name):
    model = build_model(name, dropout=0.3)
    assert dropout_rates(model) == [0.3] * len(ARCHS[name].dropout)
    assert model.count_params() == param_count(name)


def test_bad_rates_and_archs_without_dropout_are_refused():
    with pytest.raises(ArchitectureError, match=r"in \[0, 1\)"):
        build_model("conv3", dropout=1.5)
    with pytest.raises(ArchitectureError, match="does not take"):
        build_model("fast", dropout=0.2)
    assert build_model("conv3", dropout=False).name == "conv3_nodrop"
    with pytest.raises(TrainingError, match="no dropout layers"):
        TrainConfig(arch="vgg", dropout=0.2).resolved()
    assert TrainConfig(arch="conv5", dropout=0.2).resolved().model_options() == {"dropout": 0.2}


@pytest.mark.slow
def test_a_session_trains_with_the_configured_dropout(tiny):
    session = TrainingSession(base(arch="conv3", dropout=0.35, batch_size=64), dataset=tiny,
                              record=False)
    result = session.run()
    assert dropout_rates(result.model) == [0.35, 0.35, 0.35]
    assert result.config.dropout == 0.35 and session.records[-1]["config"]["dropout"] == 0.35


# -- real sweeps -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_tiny_sweep_records_every_run_and_reports_overall_progress(tiny):
    events = []
    sweep = Sweep(base(), "batch_size", "32,64", dataset=tiny, on_progress=events.append)
    result = sweep.run()
    assert result.status is RunStatus.COMPLETED and not result.stopped
    assert [r.value for r in result.rows] == [32, 64]
    for row in result.rows:
        assert row.status is RunStatus.COMPLETED and row.epochs_done == 1
        assert 0.0 <= row.train_accuracy <= 1.0 and 0.0 <= row.val_accuracy <= 1.0
        assert 0.0 <= row.test_accuracy <= 1.0 and row.seconds > 0 and row.params > 0
        assert row.config["batch_size"] == row.value and len(row.history["loss"]) == 1
    records = history.load_history()
    assert [r["kind"] for r in records] == ["sweep", "sweep"]
    assert [r["sweep"]["value"] for r in records] == [32, 64]
    assert {r["sweep"]["id"] for r in records} == {result.sweep_id}
    assert [r["batch_size"] for r in records] == [32, 64]
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [e.kind for e in events if e.kind not in ("run", "batch")] == [
        "run_start", "run_end"] * 2 + ["end"]
    assert all(e.progress.kind == "batch" for e in events if e.kind == "batch")
    assert any(e.eta_s is not None and e.eta_s > 0 for e in events if e.kind == "batch")
    assert result.best is not None and result.best_model is not None
    assert result.best_metadata["sweep"]["value"] == result.best.value
    probs = np.asarray(result.best_model(np.zeros((1, 28, 28, 1), np.float32)))
    assert probs.shape == (1, 10)
    table = result.table()
    assert [row["value"] for row in table] == [32, 64]
    assert {"train_accuracy", "val_accuracy", "test_accuracy", "seconds", "arch"} <= set(table[0])


@pytest.mark.slow
def test_a_sweep_stopped_midway_keeps_its_finished_runs(tiny):
    sweep = Sweep(base(), "learning_rate", [0.002, 0.004, 0.008], dataset=tiny)

    def stop_in_second_run(p):
        if p.kind == "batch" and p.index == 1:
            sweep.request_stop()

    sweep.on_progress = stop_in_second_run
    result = sweep.run()
    assert result.stopped
    assert [r.status for r in result.rows] == [RunStatus.COMPLETED, RunStatus.STOPPED]
    assert result.best_index == 0 and result.best_model is not None
    records = history.load_history()
    assert [(r["status"], r["sweep"]["value"]) for r in records] == [
        ("completed", 0.002), ("stopped", 0.004)]


# -- tables from run records -----------------------------------------------------------------------


def record(arch, acc, **extra):
    rec = {"kind": "train", "status": "completed", "arch": arch, "epochs": 2, "test_accuracy": acc,
           "config": {"arch": arch, "dropout": None}, "date": "2026-12-02T08:00:00",
           "history": {"loss": [0.5, 0.3], "val_accuracy": [0.9, 0.95]}}
    rec.update(extra)
    return rec


def test_the_notebooks_comparison_table_falls_out_of_the_history():
    runs = [record("conv3", 0.97), record("baseline_bn", 0.98),
            record("conv5", 0.99, config={"arch": "conv5", "dropout": 0.3}),
            record("fast", None), record("gone", 0.5)]
    rows = comparison_table(runs)
    assert [(r["arch"], r["batchnorm"], r["dropout"], r["test_accuracy"]) for r in rows] == [
        ("conv5", False, "0.3", 0.99), ("baseline_bn", True, "none", 0.98),
        ("conv3", False, "0.25/0.25/0.5", 0.97), ("gone", None, "?", 0.5)]


def test_curves_of_runs_and_kfold_means():
    assert record_curves(record("fast", 0.9))["val_accuracy"] == [0.9, 0.95]
    kfold = {"kind": "kfold", "k": 2, "histories": [{"loss": [1.0, 0.5]}, {"loss": [3.0]}]}
    assert record_curves(kfold) == {"loss": [2.0]}
    assert record_curves({"kind": "train"}) == {}
    swept = record("conv3", 0.9, sweep={"id": "x", "param": "dropout", "value": 0.25})
    assert record_label(swept) == "conv3 dropout=0.25 · 2026-12-02 08:00"


def test_history_csv_has_one_row_per_record_and_is_written_atomically(tmp_path):
    runs = [record("conv3", 0.97, sweep={"id": "s1", "param": "dropout", "value": 0.1},
                   config={"arch": "conv3", "dropout": 0.1}), record("fast", None)]
    path = tmp_path / "runs.csv"
    write_csv(path, history_rows(runs))
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [(r["arch"], r["dropout"], r["sweep_value"], r["test_accuracy"]) for r in rows] == [
        ("conv3", "0.1", "0.1", "0.97"), ("fast", "", "", "")]
    assert [p.name for p in tmp_path.iterdir()] == ["runs.csv"]
    assert rows_csv([{"a": [1, 2]}]).splitlines() == ["a", '"[1, 2]"']
    with pytest.raises(OSError):
        write_csv(tmp_path / "missing" / "x.csv", [])


def test_deleting_runs_removes_exactly_the_given_records():
    first, second = record("conv3", 0.9), record("fast", 0.8)
    for rec in (first, second, first):
        history.append_run(rec)
    assert history.delete_runs([history.load_history()[0]]) == 1
    assert [r["arch"] for r in history.load_history()] == ["fast", "conv3"]
    assert history.delete_runs([record("vgg", 0.1)]) == 0
    assert len(history.load_history()) == 2
