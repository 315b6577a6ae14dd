"""``digitpad finetune --json`` as a process, on a folder of PNGs without stroke files;
``digitpad train --data mnist --data FOLDER``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digitpad.core.strokes import draw_digit


def png_folder(root, per_digit: int = 4):
    rng = np.random.default_rng(11)
    for digit, style in enumerate(("0_oval", "1_flag", "2_plain", "3_round", "4_open",
                                   "5_two_strokes", "6_top_down", "7_crossed", "8_one_stroke",
                                   "9_curved")):
        (root / str(digit)).mkdir(parents=True)
        for i in range(per_digit):
            d = draw_digit(style, "clean", rng)
            Image.fromarray(255 - d.canvas).save(root / str(digit) / f"{i}.png")
    return root


def run_cli(*args, timeout=600):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    return subprocess.run([sys.executable, "-m", "digitpad", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.mark.slow
def test_finetune_json_process(tmp_path, model_file):
    folder = png_folder(tmp_path / "pngs")
    out = tmp_path / "tuned.keras"
    proc = run_cli("finetune", "--model", str(model_file), "--drawings", str(folder),
                   "--epochs", "1", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["held_out"] == 10 and report["out"] == str(out.resolve()) and out.is_file()
    for side in ("before", "after"):
        assert 0.0 <= report[side]["drawings_accuracy"] <= 1.0
        assert 0.0 <= report[side]["mnist_accuracy"] <= 1.0


def test_finetune_missing_folder_is_one_line(tmp_path):
    proc = run_cli("finetune", "--drawings", str(tmp_path / "nope"), "--out",
                   str(tmp_path / "x.keras"))
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "does not exist" in proc.stderr


def test_train_accepts_several_data_sources(tmp_path):
    from digitpad.cli.main import build_parser
    from digitpad.core.data.combine import load_datasets

    folder = png_folder(tmp_path / "pngs", per_digit=1)
    args = build_parser().parse_args(["train", "--data", "mnist", "--data", str(folder)])
    assert args.data == ["mnist", str(folder)]
    ds = load_datasets(args.data)
    assert len(ds.x_train) == 60010 and len(ds.x_test) == 10000
    assert ds.y_train[-10:].tolist() == list(range(10)) and " + " in ds.source


def test_finetune_help_states_the_core_default_epochs():
    """The CLI names the default without importing the fine-tune core (it pulls in ~0.3 s of
    modules); the number it prints must stay the core's."""
    from digitpad.cli.main import build_parser
    from digitpad.core.finetune import FinetuneConfig

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest and a.choices and "finetune" in a.choices)
    epochs = next(a for a in sub.choices["finetune"]._actions if a.dest == "epochs")
    assert epochs.help == f"epochs (default: {FinetuneConfig().epochs})"
