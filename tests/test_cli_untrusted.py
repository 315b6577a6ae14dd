"""Untrusted and broken model files through the command line.

Every file of a small corpus built here (plus the Keras-2 Lambda fixture) makes ``digitpad info``,
``predict`` and ``evaluate`` exit 1 with one ``digitpad: error:`` sentence and no traceback, and the
payload's marker file never appears: no code from the file runs. A control test proves the Lambda
payload is live (Keras with safe mode off runs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from model_corpus import (
    keras,
    nan_model,
    payload,
    rewrite_h5_config,
    rewrite_keras_config,
    tiny_model,
)

from digitpad import cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _lambda_model(inline: bool):
    k = keras()
    fn = (
        (lambda x: (open(__import__("os").environ["DIGITPAD_TEST_MARKER"], "w").write("ran"), x)[1])
        if inline
        else payload
    )
    return k.Sequential(
        [k.Input((28, 28, 1)), k.layers.Lambda(fn, name="evil"), k.layers.Flatten(), k.layers.Dense(10, activation="softmax")]
    )


def _os_system(config):
    config["config"]["layers"][1] = {
        "module": "os", "class_name": "system", "registered_name": None,
        "config": {"command": "touch PAYLOAD_RAN", "name": "evil"},
    }


def _popen(config):
    config["config"]["layers"][1]["module"] = "subprocess"
    config["config"]["layers"][1]["class_name"] = "Popen"


def _eval_activation(config):
    config["config"]["layers"][-1]["config"]["activation"] = {
        "module": "builtins", "class_name": "function", "config": "eval", "registered_name": "function",
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_models")
    build_marker = folder / "build_marker"  # the payloads run once while the models are built
    old = os.environ.get("DIGITPAD_TEST_MARKER")
    os.environ["DIGITPAD_TEST_MARKER"] = str(build_marker)
    save = keras().saving.save_model
    files: dict[str, Path] = {}
    try:
        save(_lambda_model(False), folder / "lambda_function.keras")
        files["lambda function .keras"] = folder / "lambda_function.keras"
        save(_lambda_model(True), folder / "lambda_inline.keras")
        files["inline lambda .keras"] = folder / "lambda_inline.keras"
        save(_lambda_model(True), folder / "lambda_inline.h5")
        files["inline lambda .h5"] = folder / "lambda_inline.h5"
    finally:
        if old is None:
            os.environ.pop("DIGITPAD_TEST_MARKER", None)
        else:
            os.environ["DIGITPAD_TEST_MARKER"] = old
    files["keras-2 lambda .h5"] = FIXTURES / "keras2_lambda.h5"

    good_keras, good_h5 = folder / "good.keras", folder / "good.h5"
    save(tiny_model(), good_keras)
    save(tiny_model(), good_h5)
    files["os.system layer .keras"] = rewrite_keras_config(good_keras, folder / "os_system.keras", _os_system)
    files["subprocess.Popen layer .h5"] = rewrite_h5_config(good_h5, folder / "popen.h5", _popen)
    files["eval activation .keras"] = rewrite_keras_config(good_keras, folder / "eval.keras", _eval_activation)

    data = good_keras.read_bytes()
    (folder / "truncated.keras").write_bytes(data[: len(data) // 2])
    files["truncated .keras"] = folder / "truncated.keras"
    data = good_h5.read_bytes()
    (folder / "truncated.h5").write_bytes(data[: len(data) // 3])
    files["truncated .h5"] = folder / "truncated.h5"
    (folder / "zero.h5").write_bytes(b"")
    files["zero bytes .h5"] = folder / "zero.h5"
    (folder / "zero.keras").write_bytes(b"")
    files["zero bytes .keras"] = folder / "zero.keras"
    from PIL import Image

    Image.fromarray(np.zeros((28, 28), np.uint8)).save(folder / "image.png")
    shutil.copy(folder / "image.png", folder / "png_renamed.h5")
    files["PNG renamed .h5"] = folder / "png_renamed.h5"
    with h5py.File(folder / "no_model.h5", "w") as f:
        f.create_dataset("x", data=np.arange(10))
    files["HDF5 with no model"] = folder / "no_model.h5"
    (folder / "text.keras").write_text("not a model\n")
    files["text file .keras"] = folder / "text.keras"

    save(tiny_model((32, 32, 3)), folder / "rgb32.keras")
    files["input 32x32x3"] = folder / "rgb32.keras"
    save(tiny_model((100,)), folder / "flat100.h5")
    files["input 100"] = folder / "flat100.h5"
    save(tiny_model(classes=26), folder / "letters.keras")
    files["26 classes"] = folder / "letters.keras"
    save(nan_model(), folder / "nan.h5")
    files["NaN weights"] = folder / "nan.h5"
    files["missing file"] = folder / "does_not_exist.keras"
    files["a folder"] = folder
    return types_namespace(files=files, image=folder / "image.png", good=good_keras)


def types_namespace(**kw):
    import types

    return types.SimpleNamespace(**kw)


@pytest.fixture
def marker(tmp_path, monkeypatch):
    path = tmp_path / "PAYLOAD_RAN"
    monkeypatch.setenv("DIGITPAD_TEST_MARKER", str(path))
    yield path
    assert not path.exists(), "code from a model file ran"


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("digitpad: error: ") and "unexpected" not in line, line
    return line


CASES = [
    "lambda function .keras", "inline lambda .keras", "inline lambda .h5", "keras-2 lambda .h5", "os.system layer .keras",
    "subprocess.Popen layer .h5", "eval activation .keras", "truncated .keras", "truncated .h5",
    "zero bytes .h5", "zero bytes .keras", "PNG renamed .h5", "HDF5 with no model", "text file .keras",
    "input 32x32x3", "input 100", "26 classes", "NaN weights", "missing file", "a folder",
]


@pytest.mark.parametrize("case", CASES)
def test_info_refuses(corpus, marker, capsys, case):
    rc = cli.main(["info", str(corpus.files[case])])
    captured = capsys.readouterr()
    assert rc == 1
    assert captured.out == ""
    _one_error_line(captured.err)
    assert not marker.exists()


@pytest.mark.parametrize("case", ["inline lambda .keras", "os.system layer .keras", "input 32x32x3", "truncated .h5"])
def test_predict_and_evaluate_refuse(corpus, marker, capsys, case):
    path = str(corpus.files[case])
    assert cli.main(["predict", str(corpus.image), "--model", path]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    _one_error_line(captured.err)
    assert cli.main(["evaluate", "--model", path, "--limit", "10"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    _one_error_line(captured.err)
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "command"),
    [("inline lambda .keras", "info"), ("keras-2 lambda .h5", "predict"), ("inline lambda .h5", "evaluate")],
)
def test_real_process_refuses_without_running_code(corpus, tmp_path, case, command):
    marker = tmp_path / "PAYLOAD_RAN"
    env = dict(os.environ, DIGITPAD_TEST_MARKER=str(marker))
    env.pop("DIGITPAD_DEBUG", None)
    path = str(corpus.files[case])
    argv = {
        "info": ["info", path],
        "predict": ["predict", str(corpus.image), "--model", path, "--json"],
        "evaluate": ["evaluate", "--model", path, "--limit", "10"],
    }[command]
    proc = subprocess.run(
        [sys.executable, "-m", "digitpad", *argv], capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=240
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    line = _one_error_line(proc.stderr)
    assert "Lambda" in line or "code" in line
    assert not marker.exists()
    assert not (tmp_path / "PAYLOAD_RAN").exists()


def test_payload_is_live_when_safety_is_off(corpus, tmp_path, monkeypatch):
    """Control: the corpus's Lambda payload really writes the marker when Keras is told to run it."""
    marker = tmp_path / "control"
    monkeypatch.setenv("DIGITPAD_TEST_MARKER", str(marker))
    model = keras().saving.load_model(corpus.files["inline lambda .keras"], safe_mode=False)
    model(np.zeros((1, 28, 28, 1), "float32"))
    assert marker.exists()


def test_good_file_of_the_corpus_is_accepted(corpus, capsys):
    """Control: the untouched model the crafted files were made from passes `info`."""
    assert cli.main(["info", str(corpus.good), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "keras"
