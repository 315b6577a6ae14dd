"""``digitpad sweep``: a real tiny sweep with --json and --csv; refusals before anything trains."""

from __future__ import annotations

import csv
import json

import pytest

from digitpad import cli
from digitpad.core import history

TINY = ["--arch", "fast", "--epochs", "1", "--batch-size", "32", "--limit", "300",
        "--test-limit", "200", "--device", "cpu"]


@pytest.fixture(autouse=True)
def _own_history(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITPAD_HOME", str(tmp_path / "home"))


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("digitpad: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--param", "momentum", "--values", "0.9"], "cannot sweep 'momentum'"),
        (["--param", "dropout", "--values", "0.1,0.2"], "'fast' has no dropout layers"),
        (["--param", "epochs", "--values", "1,2", "--epochs", "3"],
         "--epochs cannot be combined with --param epochs"),
        (["--param", "batch_size", "--values", "32,x"], "'x' is not a whole number"),
        (["--param", "lr", "--values", "0.01", "--csv", "/nonexistent/dir/out.csv"],
         "the folder /nonexistent/dir does not exist"),
    ],
)
def test_refusals_are_one_sentence_before_anything_trains(args, words, capsys):
    rc = cli.main(["sweep", *args])
    captured = capsys.readouterr()
    assert rc == 1 and words in one_error_line(captured.err)
    assert captured.out == "" and history.load_history() == []


def test_train_limit_is_an_alias_of_limit():
    args = cli.build_parser().parse_args(
        ["sweep", "--param", "epochs", "--values", "1", "--train-limit", "300"])
    assert args.limit == 300


@pytest.mark.slow
def test_a_real_tiny_sweep_prints_lines_a_table_json_and_csv(tmp_path, capsys):
    csv_path = tmp_path / "sweep.csv"
    rc = cli.main(["sweep", "--param", "learning_rate", "--values", "0.004,0.008", *TINY,
                   "--json", "--csv", str(csv_path)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    rows = json.loads(captured.out)  # stdout is only the JSON document
    assert [row["value"] for row in rows] == [0.004, 0.008]
    for row in rows:
        assert row["status"] == "completed" and row["param"] == "learning_rate"
        assert row["learning_rate"] == row["value"] and row["arch"] == "fast"
        assert row["epochs"] == 1 and row["train_limit"] == 300
        for key in ("train_accuracy", "val_accuracy", "test_accuracy"):
            assert 0.0 <= row[key] <= 1.0
        assert row["seconds"] > 0 and row["params"] > 0
    # the per-run lines and the table go to stderr with --json
    assert "run 1/2  learning_rate=0.004" in captured.err
    assert "run 2/2  learning_rate=0.008" in captured.err
    assert "learning_rate  status" in captured.err and "best: learning_rate=" in captured.err
    with csv_path.open(newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [float(r["value"]) for r in table] == [0.004, 0.008]
    assert [float(r["test_accuracy"]) for r in table] == [r["test_accuracy"] for r in rows]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "sweep.csv"]  # no temp file
    records = history.load_history()
    assert [(r["kind"], r["sweep"]["value"]) for r in records] == [
        ("sweep", 0.004), ("sweep", 0.008)]


@pytest.mark.slow
def test_text_output_has_a_line_per_run_then_the_table(capsys):
    rc = cli.main(["sweep", "--param", "augment", "--values", "off,on", *TINY])
    out = capsys.readouterr().out
    assert rc == 0
    lines = out.splitlines()
    run_lines = [n for n, ln in enumerate(lines) if ln.startswith("run ")]
    header = next(n for n, ln in enumerate(lines) if ln.startswith("augment  status"))
    assert len(run_lines) == 2 and run_lines[-1] < header
    assert lines[header + 2].startswith("off") and lines[header + 3].startswith("on")
