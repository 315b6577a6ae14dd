"""``digitpad explain``, ``digitpad robustness`` and ``digitpad evaluate --misclassified`` with the
bundled model on real MNIST test digits: in-process for options and errors, as real processes for
the JSON output and the written files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad import cli

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"(\d{5})_true(\d)_pred(\d)_(\d\.\d\d)\.png")


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("DIGITPAD_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "digitpad", *args], capture_output=True,
                          text=True, cwd=str(ROOT), env=env, timeout=timeout)


@pytest.fixture(scope="module")
def mnist_test():
    from digitpad.core.data import load_dataset

    ds = load_dataset(None)
    return ds.x_test, ds.y_test


@pytest.fixture(scope="module")
def digit_pngs(mnist_test, tmp_path_factory):
    """The first three MNIST test digits as PNG files (white ink on black), with their labels."""
    folder = tmp_path_factory.mktemp("digits")
    x, y = mnist_test
    paths = []
    for i in range(3):
        path = folder / f"digit{i}.png"
        Image.fromarray(x[i]).save(path)
        paths.append(path)
    return paths, [int(v) for v in y[:3]]


def _check_entry(entry: dict, path: Path, label: int) -> None:
    from digitpad.core.normalize import normalize_image

    assert entry["path"] == str(path) and entry["digit"] == label
    assert entry["method"] == "integrated_gradients"
    probs = np.array(entry["probabilities"])
    assert probs.shape == (10,) and probs.sum() == pytest.approx(1.0, abs=1e-4)
    assert entry["confidence"] == pytest.approx(probs.max(), abs=1e-6)
    image = np.array(entry["input"])
    heat = np.array(entry["heatmap"])
    assert image.shape == heat.shape == (28, 28)
    assert np.allclose(image, normalize_image(path).image, atol=1e-6)
    assert heat.min() >= 0.0 and heat.sum() == pytest.approx(1.0, abs=1e-4)
    assert not heat[image == 0.0].any()


@pytest.mark.slow
def test_explain_json_as_a_process(digit_pngs):
    paths, labels = digit_pngs
    proc = run_cli("explain", *map(str, paths[:2]), "--json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    entries = json.loads(proc.stdout)
    assert len(entries) == 2
    for entry, path, label in zip(entries, paths, labels, strict=False):
        assert entry["target"] == label
        _check_entry(entry, path, label)


@pytest.mark.slow
def test_explain_target_out_and_text(digit_pngs, tmp_path, capsys):
    paths, labels = digit_pngs
    out = tmp_path / "overlays"
    other = (labels[0] + 1) % 10
    rc = cli.main(["explain", str(paths[0]), str(paths[0]), "--target", str(other),
                   "--out", str(out), "--json"])
    assert rc == 0, capsys.readouterr().err
    entries = json.loads(capsys.readouterr().out)
    assert [e["target"] for e in entries] == [other, other]
    _check_entry(entries[0], paths[0], labels[0])
    written = sorted(p.name for p in out.iterdir())
    assert written == ["digit0_explain.png", "digit0_explain_2.png"]
    assert [Path(e["overlay"]).name for e in entries] == written
    with Image.open(out / written[0]) as png:
        assert png.size == (280, 280) and png.mode == "RGB"
    assert entries[0]["steps"] == 128  # the command line's default: exactness over speed
    rc = cli.main(["explain", str(paths[1]), "--steps", "16", "--json"])
    assert rc == 0 and json.loads(capsys.readouterr().out)[0]["steps"] == 16
    for bad in ("1", "5000", "many"):
        assert cli.main(["explain", str(paths[1]), "--steps", bad]) == 2
        assert "--steps" in capsys.readouterr().err
    rc = cli.main(["explain", str(paths[1])])
    line = capsys.readouterr().out.strip()
    assert rc == 0 and line == f"{paths[1]}\t{labels[1]}\t{line.split(chr(9))[2]}\texplained: {labels[1]}"


@pytest.mark.slow
def test_explain_errors_per_file(digit_pngs, tmp_path, capsys):
    paths, labels = digit_pngs
    blank = tmp_path / "blank.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(blank)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    rc = cli.main(["explain", str(broken), str(paths[2]), str(blank), "--json"])
    captured = capsys.readouterr()
    assert rc == 1
    entries = json.loads(captured.out)
    assert "error" in entries[0] and entries[0]["path"] == str(broken)
    _check_entry(entries[1], paths[2], labels[2])
    assert entries[2]["digit"] == "blank" and entries[2]["heatmap"] is None
    assert captured.err.strip() == "digitpad: error: 1 of 3 image(s) could not be read."
    assert cli.main(["explain", str(paths[0]), "--target", "12"]) == 2
    assert "must be a digit" in capsys.readouterr().err


@pytest.mark.slow
def test_robustness_json(capsys):
    rc = cli.main(["robustness", "--limit", "60", "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    report = json.loads(captured.out)
    assert report["n"] == 60 and set(report["curves"]) == {
        "rotate", "shift", "scale", "thickness", "noise"}
    rotate = report["curves"]["rotate"]
    assert rotate["values"][0] == -45 and rotate["values"][-1] == 45
    accuracy = dict(zip(rotate["values"], rotate["accuracies"], strict=True))
    assert accuracy[0.0] > 0.9 and accuracy[45.0] < accuracy[0.0]
    rc = cli.main(["robustness", "--limit", "20"])
    text = capsys.readouterr().out
    assert rc == 0 and "rotate (degrees):" in text and "noise (noise sigma):" in text


@pytest.mark.slow
def test_evaluate_misclassified_as_a_process(mnist_test, tmp_path):
    x, y = mnist_test
    folder = tmp_path / "misread"
    proc = run_cli("evaluate", "--limit", "3000", "--misclassified", str(folder), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    files = sorted(folder.iterdir())
    wrong = round((1.0 - report["accuracy"]) * report["n"])
    assert report["misclassified"]["written"] == len(files) == wrong > 0
    for path in files:
        match = NAME.fullmatch(path.name)
        assert match, path.name
        index, true, pred = (int(v) for v in match.groups()[:3])
        assert true != pred and y[index] == true  # named by the index in the test set
        assert 0.0 <= float(match.group(4)) <= 1.0
        assert np.array_equal(np.asarray(Image.open(path)), x[index])


@pytest.mark.slow
def test_evaluate_misclassified_unwritable(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc = cli.main(["evaluate", "--limit", "3000", "--misclassified", str(blocker / "sub")])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and err.startswith("digitpad: error: cannot write the misread images")
    assert "unexpected" not in err
