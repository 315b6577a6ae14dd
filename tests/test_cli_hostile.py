"""Hostile arguments, names and environments through the command line (issue 13, CLI part).

Every case ends in one ``digitpad: error:`` line (or a correct answer), never "unexpected …
(please report)", never a traceback, and writes no file: bad ``--out`` paths are refused before
any data is read or any training starts; absurd argument values at parse time; text that comes
from a file (metadata, layer names, file names) reaches the terminal with its control characters
escaped; without a display the desktop app says how to run instead of aborting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from model_corpus import keras, tiny_model

from digitpad import cli
from digitpad.cli.display import display_problem
from digitpad.cli.outpath import check_out_path, temp_name
from digitpad.cli.terminal_text import shown

ROOT = Path(__file__).resolve().parent.parent
EVIL = "\x1b[2J\x1b[31mred\rover\tt\nn"  # clear screen, colour, carriage return, tab, newline
EVIL_SHOWN = "\\x1b[2J\\x1b[31mred\\rover\\tt\\nn"


def one_error_line(err: str, rc: int, expected_rc: int = 1) -> str:
    """The single ``digitpad: error:`` line on stderr (no traceback, no "unexpected")."""
    assert rc == expected_rc, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("digitpad: error: "), line
    assert "unexpected" not in line and "Traceback" not in err and "please report" not in line
    assert "\x1b" not in err and "\r" not in err
    return line


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# -- 7. --out is checked completely before any data or training ---------------------------------


def _out_cases(tmp_path: Path) -> dict[str, tuple[str, str]]:
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_folder.keras").mkdir()
    os.mkfifo(tmp_path / "fifo.keras")
    return {
        "suffix": (str(tmp_path / "m.pkl"), "must end in .keras or .h5"),
        "only a suffix": (str(tmp_path / ".keras"), "needs a name before the suffix"),
        "parent is a file": (str(tmp_path / "a_file" / "m.keras"), "a_file is a file, not a folder"),
        "grandparent is a file": (
            str(tmp_path / "a_file" / "sub" / "m.keras"), "a_file is a file, not a folder"
        ),
        "missing folder": (str(tmp_path / "no" / "such" / "m.keras"), "does not exist"),
        "name over 255 bytes": (str(tmp_path / ("a" * 250 + ".keras")), "256 bytes long"),
        "multi-byte name over 255 bytes": (str(tmp_path / ("é" * 127 + ".h5")), "257 bytes long"),
        "temporary sibling too long": (str(tmp_path / ("a" * 236 + ".keras")), "save safely"),
        "a folder": (str(tmp_path / "a_folder.keras"), "is a folder, not a file name"),
        "a fifo": (str(tmp_path / "fifo.keras"), "not a regular file"),
        "non-UTF-8 name": (os.fsdecode(str(tmp_path).encode() + b"/m\xff.pkl"), "m\\xff.pkl"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "suffix", "only a suffix", "parent is a file", "grandparent is a file", "missing folder",
        "name over 255 bytes", "multi-byte name over 255 bytes", "temporary sibling too long",
        "a folder", "a fifo", "non-UTF-8 name",
    ],
)
def test_bad_out_refused_before_data_or_training(tmp_path, capsys, case):
    out, expected = _out_cases(tmp_path)[case]
    before = _listing(tmp_path)
    # --data names a source that does not exist: the --out sentence proves nothing was loaded
    rc = cli.main(["train", "--data", str(tmp_path / "none.npz"), "--limit", "10", "--out", out])
    captured = capsys.readouterr()
    line = one_error_line(captured.err, rc)
    assert expected in line
    assert captured.out == ""
    assert _listing(tmp_path) == before


def test_out_with_an_upper_case_suffix_is_accepted(tmp_path):
    for name in ("m.KERAS", "m.H5", "m.Hdf5"):
        assert check_out_path(tmp_path / name) == tmp_path / name


def test_longest_accepted_name_has_a_temporary_sibling_that_fits(tmp_path):
    name = "a" * 229 + ".keras"  # 235 bytes: the temporary name is 255 bytes
    assert len(temp_name(Path(name)).encode()) == 255
    check_out_path(tmp_path / name)
    (tmp_path / temp_name(Path(name))).write_bytes(b"")  # the file system takes it


@pytest.mark.slow
@pytest.mark.parametrize("name", [b"model.KERAS", b"mod\xffel.H5"])
def test_train_saves_to_upper_case_and_non_utf8_names(tmp_path, capsys, name):
    """Real training, saved under the name asked for; the name is printed escaped."""
    out = Path(os.fsdecode(bytes(tmp_path) + b"/" + name))
    rc = cli.main(
        ["train", "--epochs", "1", "--limit", "100", "--test-limit", "100", "--device", "cpu",
         "--val-split", "0", "--out", str(out)]
    )
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert f"saved model to {shown(out)}" in captured.out
    from digitpad.core.modelfile import load_model

    assert load_model(out).model.output_shape == (None, 10)
    assert _listing(tmp_path) == [out.name]  # no temporary file left


# -- 10. absurd argument values: each its own sentence at parse time ------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "--seed", "4294967296"], "--seed: must be between 0 and 4294967295"),
        (["train", "--seed", "-1"], "--seed: must be between 0 and 4294967295"),
        (["train", "--seed", "9" * 50], "--seed: must be between 0 and 4294967295"),
        (["train", "--epochs", "99999999999999999999"], "--epochs: must be at most 100,000"),
        (["train", "--epochs", ""], "--epochs: '' is not a whole number"),
        (["train", "--epochs", "\udcff"], "--epochs: '\\xff' is not a whole number"),
        (["train", "--epochs", "9" * 5000], "is not a whole number"),
        (["train", "--batch-size", "-5"], "--batch-size: must be at least 1"),
        (["train", "--limit", "0"], "--limit: must be at least 1"),
        (["train", "--lr", "nan"], "--lr: must be a finite number"),
        (["train", "--lr", "inf"], "--lr: must be a finite number"),
        (["train", "--lr", "1e308"], "--lr: must be between 1e-10 and 100"),
        (["train", "--lr", "0"], "--lr: must be a positive number"),
        (["train", "--val-split", "0.9"], "--val-split: must be between 0 and 0.5"),
        (["train", "--val-split", "nan"], "--val-split: must be a finite number"),
        (["train", "--val-split=-inf"], "--val-split: must be a finite number"),
        (["train", "--kfold", "1"], "--kfold: k-fold needs at least 2 folds"),
        (["train", "--out", ""], "--out: must not be empty"),
        (["train", "--model", ""], "--model: must not be empty"),
        (["train", "--data", " "], "--data: must not be empty"),
        (["train", "--device", ""], "--device: must not be empty"),
        (["train", "--arch", ""], "--arch: must not be empty"),
        (["evaluate", "--model", ""], "--model: must not be empty"),
        (["evaluate", "--data", ""], "--data: must not be empty"),
        (["evaluate", "--limit", "-3"], "--limit: must be at least 1"),
        (["predict", ""], "IMAGE: must not be empty"),
        (["predict", "x.png", "--model", ""], "--model: must not be empty"),
        (["info", ""], "MODEL: must not be empty"),
        (["gui", ""], "FILE: must not be empty"),
        (["info", "--json", "\x1b[2J.keras", "extra"], "unrecognized arguments"),
    ],
)
def test_absurd_argument_values_are_one_usage_sentence(capsys, argv, expected):
    rc = cli.main(argv)
    captured = capsys.readouterr()
    line = one_error_line(captured.err, rc, expected_rc=2)
    assert expected in line
    assert line.endswith("--help)")  # names the help to read
    assert captured.out == ""


def test_usage_error_as_a_process_is_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "digitpad", "train", "--seed", "4294967296"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    line = one_error_line(proc.stderr, proc.returncode, expected_rc=2)
    assert "--seed" in line and "4294967295" in line


# -- 11. text from files never drives the terminal -----------------------------------------------


def test_shown_escapes_controls_and_keeps_printable_unicode():
    assert shown("Ziffer ² – 数字 ✓") == "Ziffer ² – 数字 ✓"
    assert shown(EVIL) == EVIL_SHOWN
    assert shown("a\x9bb\u202ec\x7f") == "a\\x9bb\\u202ec\\x7f"  # C1 CSI, bidi override, DEL
    assert shown(os.fsdecode(b"m\xff")) == "m\\xff"  # a byte that is not UTF-8
    assert shown("back\\slash") == "back\\\\slash"
    assert shown("back\\slash", backslash=False) == "back\\slash"


@pytest.fixture
def evil_model(tmp_path):
    """A real model whose file name, model name, layer names and metadata hold ESC, CR, TAB, LF."""
    from digitpad.core.modelfile import save_model

    k = keras()
    model = k.Sequential(
        [
            k.Input((28, 28, 1)),
            k.layers.Flatten(name="flat" + EVIL),
            k.layers.Dense(10, activation="softmax", name="dense" + EVIL),
        ],
        name="model" + EVIL,
    )
    metadata = {
        "arch": "fast" + EVIL,
        "data": EVIL,
        "date": EVIL,
        "note" + EVIL: {"deep" + EVIL: [EVIL, 1.5]},
        "test_accuracy": "high" + EVIL,  # odd-typed: text where a number belongs
        "history": {"acc" + EVIL: [0.1, 0.2]},
        "long": "x" * 10_000,
    }
    path = save_model(model, tmp_path / f"m{EVIL}.keras", metadata=metadata)
    return path, metadata


def test_info_text_escapes_every_string_from_the_file(evil_model, capsys):
    path, _ = evil_model
    assert cli.main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\t" not in out
    lines = out.splitlines()
    assert f"file:        {shown(path)}" in lines
    assert f"  data: {EVIL_SHOWN}" in lines and f"  date: {EVIL_SHOWN}" in lines
    assert f"  note{EVIL_SHOWN}.deep{EVIL_SHOWN}: [{EVIL_SHOWN}, 1.5]" in lines
    assert f"    acc{EVIL_SHOWN}: [0.1, 0.2]" in lines
    assert "test acc.:   ?" in lines  # a text "accuracy" is not a number
    assert any(ln.startswith(f"flat{EVIL_SHOWN}  ") for ln in lines)
    assert any(ln.startswith(f"dense{EVIL_SHOWN}  ") for ln in lines)
    assert "x" * 10_001 not in out and "10,000 characters in all" in out


def test_info_json_stays_exact(evil_model, capsys):
    path, metadata = evil_model
    assert cli.main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["metadata"] == metadata
    assert {layer["name"] for layer in info["layers"]} >= {"flat" + EVIL, "dense" + EVIL}


def test_error_sentences_escape_names(tmp_path, capsys):
    rc = cli.main(["info", str(tmp_path / f"gone{EVIL}.keras")])
    line = one_error_line(capsys.readouterr().err, rc)
    assert "gone\\x1b[2J\\x1b[31mred over" in line  # whitespace runs become one space


@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny") / "tiny.keras"
    keras().saving.save_model(tiny_model(), path)
    return path


def test_predict_keeps_one_line_of_four_fields_per_image(tmp_path, tiny_model_file, capsys):
    from PIL import Image

    image = np.zeros((28, 28), np.uint8)
    image[6:22, 12:16] = 255
    odd = tmp_path / "tab\there\nnewline\x1b[2J.png"
    Image.fromarray(image).save(odd, format="PNG")
    broken = tmp_path / "broken\t\r.png"
    broken.write_bytes(b"not an image")
    rc = cli.main(["predict", str(odd), str(broken), "--model", str(tiny_model_file)])
    captured = capsys.readouterr()
    assert rc == 1
    lines = captured.out.splitlines()
    assert len(lines) == 2 and "\x1b" not in captured.out and "\r" not in captured.out
    good, bad = (ln.split("\t") for ln in lines)
    assert good[0] == shown(odd) and good[1] in "0123456789" and len(good) == 4
    assert bad[0] == shown(broken) and bad[1].startswith("error: ") and len(bad) == 2


def test_predict_json_keeps_a_non_utf8_file_name_exact(tmp_path, tiny_model_file, capsys):
    from PIL import Image

    name = os.fsdecode(bytes(tmp_path) + b"/digit\xff.png")
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(name, format="PNG")
    assert cli.main(["predict", name, "--model", str(tiny_model_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["path"] == name


# -- 12. messages ----------------------------------------------------------------------------------


def test_train_model_folder_and_missing_model(tmp_path, capsys):
    rc = cli.main(["train", "--model", str(tmp_path), "--out", str(tmp_path / "m.keras")])
    assert "is a folder, not a model file" in one_error_line(capsys.readouterr().err, rc)
    rc = cli.main(["train", "--model", str(tmp_path / "gone.keras"), "--out", str(tmp_path / "m.keras")])
    assert "does not exist" in one_error_line(capsys.readouterr().err, rc)
    assert _listing(tmp_path) == []


def test_evaluate_says_no_images_for_a_missing_class(tmp_path, tiny_model_file, capsys):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (90, 28, 28), dtype=np.uint8)
    y = np.repeat(np.arange(9, dtype=np.uint8), 10)  # no image of a 9
    data = tmp_path / "no_nines.npz"
    np.savez(data, x_train=x, y_train=y, x_test=x, y_test=y)
    assert cli.main(["evaluate", "--model", str(tiny_model_file), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out
    nine = next(ln for ln in out.splitlines() if ln.split()[:2] == ["9", "0"])
    assert nine.endswith("no images")


# -- 8. no display -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "usable"),
    [
        ({}, False),
        ({"QT_QPA_PLATFORM": "offscreen"}, True),
        ({"QT_QPA_PLATFORM": "minimal"}, True),
        ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, True),
        ({"QT_QPA_PLATFORM": "xcb"}, False),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, False),
        ({"QT_QPA_PLATFORM": "wayland;offscreen"}, True),
        ({"DISPLAY": ":4242"}, False),  # a local display whose X server is not there
        ({"DISPLAY": "somehost:0"}, True),  # remote: Qt is left to try
        ({"WAYLAND_DISPLAY": "/nonexistent/wayland-0"}, False),
    ],
)
def test_display_problem(env, usable):
    assert not Path("/tmp/.X11-unix/X4242").exists()
    assert (display_problem(env, "linux") is None) is usable


def test_display_problem_elsewhere():
    assert display_problem({}, "darwin") is None and display_problem({}, "win32") is None


def test_no_display_in_process_never_creates_the_app(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    from PySide6.QtWidgets import QApplication

    had_app = QApplication.instance() is not None
    rc = cli.main([])
    line = one_error_line(capsys.readouterr().err, rc)
    assert "QT_QPA_PLATFORM=offscreen" in line and "digitpad --help" in line
    assert (QApplication.instance() is not None) is had_app


@pytest.mark.slow
def test_no_display_as_a_real_process():
    """``env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM digitpad``: one sentence, exit 1."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run(
        [sys.executable, "-m", "digitpad"], capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=60,
    )
    line = one_error_line(proc.stderr, proc.returncode)
    assert "needs a display" in line and "QT_QPA_PLATFORM=offscreen" in line
    assert proc.stdout == "" and "qt." not in proc.stderr.lower()
