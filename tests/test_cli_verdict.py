"""``digitpad predict --json`` and ``explain --json`` carry a verdict, as processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad.core.strokes import draw_digit, render_strokes

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("DIGITPAD_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "digitpad", *args], capture_output=True,
                          text=True, cwd=str(ROOT), env=env, timeout=300)


@pytest.fixture()
def pngs(tmp_path):
    files = {
        "dot": render_strokes([np.array([(140.0, 140.0)])], 24),
        "dash": render_strokes([np.array([(70.0, 140.0), (210.0, 150.0)])], 20),
        "blank": np.zeros((280, 280), np.uint8),
        "seven": draw_digit("7_plain", "clean", np.random.default_rng([31, 7])).canvas,
    }
    out = {}
    for name, arr in files.items():
        out[name] = tmp_path / f"{name}.png"
        Image.fromarray(arr).save(out[name])
    return out


def test_predict_json_has_a_verdict_on_every_image(pngs):
    proc = _run("predict", *(str(p) for p in pngs.values()), "--json")
    assert proc.returncode == 0, proc.stderr
    got = {Path(e["path"]).stem: e for e in json.loads(proc.stdout)}
    assert all("verdict" in e for e in got.values())
    assert got["dot"]["verdict"]["kind"] == "not a digit"
    assert got["dash"]["verdict"]["kind"] == "not a digit"
    assert got["blank"]["digit"] == "blank" and got["blank"]["verdict"]["kind"] == "blank"
    assert isinstance(got["dot"]["digit"], int)  # the top guess is still there
    seven = got["seven"]["verdict"]
    assert seven["kind"] in ("digit", "unsure") and len(seven["top3"]) == 3
    assert seven["top3"][0]["digit"] == got["seven"]["digit"]


def test_predict_text_shows_the_verdict(pngs):
    proc = _run("predict", str(pngs["dot"]), str(pngs["blank"]))
    assert proc.returncode == 0, proc.stderr
    dot, blank = (line.split("\t") for line in proc.stdout.strip().splitlines())
    assert dot[3] == "not a digit" and blank[1:] == ["blank", "0.000", "blank"]


def test_explain_json_has_a_verdict(pngs):
    proc = _run("explain", str(pngs["dash"]), str(pngs["blank"]), "--json")
    assert proc.returncode == 0, proc.stderr
    dash, blank = json.loads(proc.stdout)
    assert dash["verdict"]["kind"] == "not a digit" and blank["verdict"]["kind"] == "blank"
    assert "_norm" not in dash
