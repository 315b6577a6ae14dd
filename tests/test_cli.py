"""The ``digitpad`` command line, run as a real process for the main paths and in-process for
argument-level checks. Trainings are tiny (2000 images, one epoch) and shared by the module."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest
from model_corpus import keras, tiny_model

from digitpad import cli
from digitpad.cli.progress import ProgressPrinter
from digitpad.cli.sigint import StopOnSigint

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300, env_extra: dict | None = None):
    env = dict(os.environ)
    env.pop("DIGITPAD_DEBUG", None)
    if env_extra:
        env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "digitpad", *args],
        capture_output=True,
        text=True,
        cwd=str(cwd or ROOT),
        env=env,
        timeout=timeout,
    )


def assert_clean_error(proc_or_err: str, rc: int, expected_rc: int = 1, allow_unexpected: bool = False) -> str:
    """One `digitpad: error:` line on stderr, the expected status, no traceback."""
    err = proc_or_err
    assert rc == expected_rc, err
    assert "Traceback" not in err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("digitpad: error: "), lines[0]
    if not allow_unexpected:
        assert "unexpected" not in lines[0], lines[0]
    return lines[0]


# ---------------------------------------------------------------------------------------------
# one real training shared by the module


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`digitpad train --arch fast --epochs 1 --limit 2000` as a real process."""
    folder = tmp_path_factory.mktemp("cli_model")
    out = folder / "m.keras"
    proc = run_cli(
        "train", "--arch", "fast", "--epochs", "1", "--limit", "2000", "--test-limit", "2000",
        "--device", "cpu", "--out", str(out),
    )
    return types.SimpleNamespace(proc=proc, path=out)


@pytest.mark.slow
def test_train_produces_loadable_model_and_epoch_lines(trained):
    proc = trained.proc
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "device: CPU" in out
    epoch_lines = [ln for ln in out.splitlines() if ln.startswith("epoch 1/1")]
    assert len(epoch_lines) == 1, out
    for key in ("loss", "acc", "val_loss", "val_acc", "time"):
        assert f"{key} " in epoch_lines[0]
    assert "test accuracy:" in out
    assert f"saved model to {trained.path.resolve()}" in out
    # stderr is not a terminal here: no carriage-return progress spam
    assert "\r" not in proc.stderr
    assert trained.path.is_file() and trained.path.stat().st_size > 0

    from digitpad.core.modelfile import load_model, read_metadata

    loaded = load_model(trained.path)
    assert tuple(loaded.model.output_shape) == (None, 10)
    meta = read_metadata(trained.path)
    assert "fast" in json.dumps(meta)


@pytest.mark.slow
def test_evaluate_json(trained):
    assert trained.proc.returncode == 0, trained.proc.stderr
    proc = run_cli("evaluate", "--model", str(trained.path), "--limit", "1000", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) >= {"model", "data", "n", "accuracy", "loss", "per_class", "confusion"}
    assert data["n"] == 1000
    assert 0.7 <= data["accuracy"] <= 1.0  # 2000 images, one epoch of `fast` (about 85 %)
    assert 0.0 < data["loss"] < 1.5
    assert len(data["per_class"]) == 10 and all(0.0 <= v <= 1.0 for v in data["per_class"])
    conf = np.array(data["confusion"])
    assert conf.shape == (10, 10) and conf.sum() == 1000
    assert np.trace(conf) / 1000 == pytest.approx(data["accuracy"], abs=1e-6)


@pytest.mark.slow
def test_evaluate_text_table(trained, capsys):
    assert trained.proc.returncode == 0, trained.proc.stderr
    rc = cli.main(["evaluate", "--model", str(trained.path), "--limit", "500"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "accuracy:" in out and "loss:" in out and "per-class accuracy:" in out
    matrix = out.split("confusion matrix")[1].strip().splitlines()[1:]
    assert len(matrix) == 11  # header + 10 digits
    widths = {len(line) for line in matrix}
    assert len(widths) == 1, "confusion matrix rows are not aligned"
    counts = [int(v) for line in matrix[1:] for v in line.split()[1:]]
    assert sum(counts) == 500


def _save_png(array: np.ndarray, path: Path) -> Path:
    from PIL import Image

    Image.fromarray(array).save(path)
    return path


@pytest.fixture(scope="module")
def digit_pngs(tmp_path_factory):
    """Real MNIST test digits as PNG files: light-on-dark, dark-on-light and upscaled."""
    from PIL import Image

    from digitpad.core.data import load_dataset

    ds = load_dataset(None)
    folder = tmp_path_factory.mktemp("pngs")
    files, labels = [], []
    for i in range(8):
        img = ds.x_test[i]
        if i % 2 == 1:  # dark ink on light paper, four times the size
            big = Image.fromarray(255 - img).resize((112, 112), Image.Resampling.BILINEAR)
            path = folder / f"digit{i}_inverted.png"
            big.save(path)
        else:
            path = _save_png(img, folder / f"digit{i}.png")
        files.append(path)
        labels.append(int(ds.y_test[i]))
    blank = _save_png(np.full((50, 50), 255, np.uint8), folder / "blank.png")
    bogus = folder / "notes.png"
    bogus.write_text("this is not an image\n")
    return types.SimpleNamespace(files=files, labels=labels, blank=blank, bogus=bogus)


@pytest.mark.slow
def test_predict_text_and_json(trained, digit_pngs):
    assert trained.proc.returncode == 0, trained.proc.stderr
    files = [str(p) for p in digit_pngs.files]
    proc = run_cli("predict", *files, str(digit_pngs.blank), "--model", str(trained.path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "", proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == len(files) + 1
    predicted = []
    for line, path in zip(lines, files + [str(digit_pngs.blank)], strict=True):
        cols = line.split("\t")
        assert len(cols) == 4 and cols[0] == path
        assert cols[3] in ("digit", "not a digit", "blank") or cols[3].startswith("unsure: ")
        assert 0.0 <= float(cols[2]) <= 1.0
        predicted.append(cols[1])
    assert predicted[-1] == "blank"
    correct = sum(p == str(t) for p, t in zip(predicted[:-1], digit_pngs.labels, strict=True))
    assert correct >= 5, (predicted, digit_pngs.labels)

    proc = run_cli("predict", *files, str(digit_pngs.blank), "--model", str(trained.path), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [d["path"] for d in data] == files + [str(digit_pngs.blank)]
    for d, label in zip(data[:-1], predicted[:-1], strict=True):
        assert isinstance(d["digit"], int) and 0 <= d["digit"] <= 9
        assert str(d["digit"]) == label  # same answers as text mode
        assert len(d["probabilities"]) == 10
        assert sum(d["probabilities"]) == pytest.approx(1.0, abs=1e-3)
        assert d["confidence"] == pytest.approx(max(d["probabilities"]), abs=1e-6)
    assert data[-1]["digit"] == "blank" and data[-1]["confidence"] == 0.0


@pytest.mark.slow
def test_predict_bad_file_among_good_ones(trained, digit_pngs):
    assert trained.proc.returncode == 0, trained.proc.stderr
    good = [str(p) for p in digit_pngs.files[:2]]
    missing = str(digit_pngs.bogus.parent / "does-not-exist.png")
    args = [good[0], str(digit_pngs.bogus), good[1], missing]
    proc = run_cli("predict", *args, "--model", str(trained.path), "--json")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert [d["path"] for d in data] == args
    assert "error" in data[1] and "digit" not in data[1] and "not an image" in data[1]["error"]
    assert "error" in data[3] and "does not exist" in data[3]["error"]
    assert isinstance(data[0]["digit"], int) and isinstance(data[2]["digit"], int)

    proc = run_cli("predict", *args, "--model", str(trained.path))
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    assert lines[1].startswith(f"{digit_pngs.bogus}\terror: ")
    assert lines[0].split("\t")[1].isdigit() and lines[2].split("\t")[1].isdigit()
    assert proc.stderr.strip().startswith("digitpad: error: 2 of 4 image(s)")


@pytest.mark.slow
def test_info_text_and_json(trained):
    assert trained.proc.returncode == 0, trained.proc.stderr
    proc = run_cli("info", str(trained.path))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "format:" in out and "keras" in out
    assert "size:" in out
    assert "fast" in out  # architecture from the metadata
    assert "training metadata:" in out and "none" not in out.split("training metadata:")[1].splitlines()[0]
    proc = run_cli("info", str(trained.path), "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["format"] == "keras"
    assert info["file_size"] == trained.path.stat().st_size
    assert info["total_params"] > 0 and info["layers"]
    assert info.get("metadata")


def test_info_renders_the_layer_table_of_describe(tmp_path, capsys):
    """`info` prints describe()'s data: the overview and one aligned row per layer."""
    path = tmp_path / "tiny.keras"
    keras().saving.save_model(tiny_model(), path)
    assert cli.main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "format:      keras" in out and "training metadata: none" in out
    table = out[out.index("Layer "):].splitlines()
    assert table[0].split() == ["Layer", "Type", "Output", "shape", "Params", "Activation"]
    dense = next(row for row in table if " Dense " in row)
    assert "(None, 10)" in dense and dense.rstrip().endswith("softmax")
    from digitpad.core.modelfile import describe

    info = describe(path)
    assert len(table) == 2 + len(info["layers"]) + 1  # header, rule, layers, total line
    assert table[-1] == f"total params: {info['total_params']:,}"
    assert cli.main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["layers"] == info["layers"]


# ---------------------------------------------------------------------------------------------
# refused files and bad arguments


def test_missing_model_file_is_one_line_error(tmp_path, capsys):
    rc = cli.main(["evaluate", "--model", str(tmp_path / "nope.keras")])
    captured = capsys.readouterr()
    line = assert_clean_error(captured.err, rc)
    assert "nope.keras" in line
    assert captured.out == ""


@pytest.mark.parametrize("command", ["info", "predict", "evaluate"])
def test_corrupt_model_is_one_line_error(tmp_path, capsys, command):
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"PK\x03\x04" + os.urandom(300))
    png = _save_png(np.zeros((28, 28), np.uint8), tmp_path / "x.png")
    argv = {
        "info": ["info", str(bad)],
        "predict": ["predict", str(png), "--model", str(bad)],
        "evaluate": ["evaluate", "--model", str(bad), "--limit", "10"],
    }[command]
    rc = cli.main(argv)
    captured = capsys.readouterr()
    assert_clean_error(captured.err, rc)
    assert captured.out == ""


@pytest.mark.slow
def test_corrupt_model_as_process(tmp_path):
    bad = tmp_path / "model.h5"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)  # a PNG renamed .h5
    proc = run_cli("info", str(bad))
    assert_clean_error(proc.stderr, proc.returncode)


def test_missing_bundled_model(monkeypatch, tmp_path, capsys):
    from digitpad.core import paths

    monkeypatch.setattr(paths, "bundled_model_path", lambda: tmp_path / "default.keras")
    rc = cli.main(["evaluate"])
    line = assert_clean_error(capsys.readouterr().err, rc)
    assert "no model given and the bundled model is missing" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        ["train", "--no-such-flag"],
        ["train", "--epochs", "zero"],
        ["train", "--epochs", "0"],
        ["train", "--lr", "-1"],
        ["train", "--val-split", "1.5"],
        ["train", "--optimizer", "magic"],
        ["train", "--kfold", "1"],
        ["predict"],
        ["info"],
        ["evaluate", "--json", "extra"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "digitpad" in err and "error:" in err and "Traceback" not in err


@pytest.mark.slow
def test_unknown_subcommand_as_process():
    proc = run_cli("frobnicate")
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr and "Traceback" not in proc.stderr


def test_version_and_help(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == "digitpad 0.1.0"
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("train", "evaluate", "predict", "info", "archs"):
        assert name in out


def test_device_gpu_without_gpu(tmp_path, capsys):
    from digitpad.core.tfsetup import list_gpus

    if list_gpus():
        pytest.skip("this machine has a GPU")
    rc = cli.main(["train", "--device", "gpu", "--limit", "100", "--out", str(tmp_path / "m.keras")])
    line = assert_clean_error(capsys.readouterr().err, rc)
    assert "GPU" in line
    assert not (tmp_path / "m.keras").exists()


def test_bad_out_suffix_refused_before_training(tmp_path, capsys):
    rc = cli.main(["train", "--limit", "100", "--out", str(tmp_path / "m.pkl")])
    captured = capsys.readouterr()
    assert ".keras or .h5" in assert_clean_error(captured.err, rc)
    # refused before the device, the data or the config were even looked at: nothing trained
    assert captured.out == ""
    assert list(tmp_path.iterdir()) == []


def test_bad_out_folder_refused(tmp_path, capsys):
    rc = cli.main(["train", "--limit", "100", "--out", str(tmp_path / "no" / "such" / "m.keras")])
    assert "does not exist" in assert_clean_error(capsys.readouterr().err, rc)


def test_unknown_arch(tmp_path, capsys):
    rc = cli.main(["train", "--arch", "nonesuch", "--out", str(tmp_path / "m.keras")])
    line = assert_clean_error(capsys.readouterr().err, rc)
    assert "nonesuch" in line and "fast" in line  # lists the valid names


def test_bad_data_source(tmp_path, capsys):
    rc = cli.main(["train", "--limit", "100", "--data", str(tmp_path / "none.npz"), "--out", str(tmp_path / "m.keras")])
    assert "none.npz" in assert_clean_error(capsys.readouterr().err, rc)
    assert not (tmp_path / "m.keras").exists()


def test_unexpected_exception_has_no_traceback(monkeypatch, capsys):
    def boom(args, out, err):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setitem(cli.COMMANDS, "archs", boom)
    monkeypatch.delenv("DIGITPAD_DEBUG", raising=False)
    rc = cli.main(["archs"])
    line = assert_clean_error(capsys.readouterr().err, rc, allow_unexpected=True)
    assert line == "digitpad: error: unexpected RuntimeError: disk on fire second line (please report)"
    monkeypatch.setenv("DIGITPAD_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main(["archs"])


def test_keyboard_interrupt_outside_training_exits_130(monkeypatch, capsys):
    def interrupted(args, out, err):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "archs", interrupted)
    assert cli.main(["archs"]) == 130
    assert "Traceback" not in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# archs, gui


def test_archs_lists_all(capsys):
    from digitpad.core.archs import ARCHS, param_count

    assert cli.main(["archs"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].split() == ["name", "params", "optimizer", "lr", "batch", "epochs", "description"]
    names = [ln.split()[0] for ln in lines[2:]]
    assert names == list(ARCHS)
    for name in ("baseline", "mnist_cnn", "flat", "fast", "best"):
        assert name in names
    fast_line = next(ln for ln in lines if ln.startswith("fast "))
    assert f"{param_count('fast'):,}" in fast_line

    assert cli.main(["archs", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in data] == list(ARCHS)
    assert all(d["params"] > 0 for d in data)


def test_no_arguments_without_gui_says_so(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "digitpad.gui.app", None)  # import fails like a missing module
    assert cli.main([]) == 1
    assert capsys.readouterr().err.strip() == cli.GUI_MISSING
    assert cli.main(["gui"]) == 1


def test_no_arguments_starts_gui(monkeypatch):
    calls = []
    fake = types.ModuleType("digitpad.gui.app")
    fake.main = lambda argv=None: calls.append(argv) or 0
    monkeypatch.setitem(sys.modules, "digitpad.gui.app", fake)
    assert cli.main([]) == 0
    assert cli.main(["gui"]) == 0
    assert cli.main(["gui", "m.keras", "seven.png"]) == 0
    assert calls == [[], [], ["m.keras", "seven.png"]]


# ---------------------------------------------------------------------------------------------
# progress rendering


def _progress(kind, epoch=1, epochs=5, batch=1, batches=10, logs=None, elapsed=1.0, eta=7.0, sps=1510.0,
              fold=0, folds=0):
    return types.SimpleNamespace(
        kind=kind, epoch=epoch, epochs=epochs, batch=batch, batches=batches, step=batch,
        logs=logs or {}, elapsed=elapsed, samples_per_s=sps, eta_s=eta, message="", fold=fold, folds=folds,
    )


def _drawn(err_text: str) -> list[str]:
    """The successive states of a redrawn terminal line (tqdm redraws after each carriage return)."""
    return [part for part in err_text.split("\r") if part.strip()]


def test_progress_bar_on_a_terminal():
    out, err = io.StringIO(), io.StringIO()
    printer = ProgressPrinter(out, err, tty=True, width=100, redraw_interval=0)
    printer(_progress("start", elapsed=0.0))
    printer(_progress("batch", epoch=2, batch=230, batches=422, logs={"loss": 0.123, "accuracy": 0.962}))
    text = err.getvalue()
    assert text.startswith("\r") and "\n" not in text  # redrawn in place
    last = _drawn(text)[-1]
    assert last.startswith("epoch 2/5 |") and "| 230/422" in last
    for part in ("ETA 0:07", "loss 0.123", "acc 0.962", "1510 img/s"):
        assert part in last
    printer(_progress("epoch", epoch=2, logs={"loss": 0.1, "accuracy": 0.97, "val_loss": 0.08, "val_accuracy": 0.98},
                      elapsed=12.5))
    assert out.getvalue() == "epoch 2/5  loss 0.1000  acc 0.9700  val_loss 0.0800  val_acc 0.9800  time 12.5s\n"
    after = err.getvalue()[len(text):]
    assert after.endswith("\r") and not after.strip()  # the bar was erased before the epoch line


def test_progress_bar_names_the_fold():
    out, err = io.StringIO(), io.StringIO()
    printer = ProgressPrinter(out, err, tty=True, width=100, redraw_interval=0)
    printer(_progress("batch", batch=4, fold=2, folds=5))
    assert _drawn(err.getvalue())[-1].startswith("fold 2/5 epoch 1/5 |")
    printer(_progress("epoch", fold=2, folds=5, logs={"loss": 0.5}))
    assert out.getvalue().startswith("fold 2/5 epoch 1/5  loss 0.5000")


def test_progress_without_terminal_has_no_carriage_returns():
    out, err = io.StringIO(), io.StringIO()
    ticks = iter(range(0, 1000, 20))
    printer = ProgressPrinter(out, err, tty=False, plain_interval=30.0, clock=lambda: float(next(ticks)))
    printer(_progress("start", elapsed=0.0))
    for b in range(1, 11):
        printer(_progress("batch", batch=b, logs={"loss": 0.5}))
    printer(_progress("epoch", logs={"loss": 0.5, "accuracy": 0.9}, elapsed=3.0))
    assert "\r" not in err.getvalue() and "\r" not in out.getvalue()
    status = err.getvalue().splitlines()
    assert len(status) == 5  # one plain line per 30 s of the clock (it ticks 20 s a batch)
    assert status[0].startswith("epoch 1/5 2/10") and "ETA 0:07" in status[0]
    assert out.getvalue().startswith("epoch 1/5  loss 0.5000  acc 0.9000")


def test_bar_fits_narrow_terminal():
    err = io.StringIO()
    printer = ProgressPrinter(io.StringIO(), err, tty=True, width=60, redraw_interval=0)
    p = _progress("batch", epoch=10, epochs=100, batch=5000, batches=10000, logs={"loss": 1.0, "accuracy": 0.5},
                  eta=4000)
    printer(p)
    drawn = _drawn(err.getvalue())
    assert drawn and all(len(state) <= 59 for state in drawn)
    assert "5000/10000" in drawn[-1] and "ETA 1:06:40" in drawn[-1]  # the count and ETA survive
    assert "ETA 1:06:40" in printer.status_text(p, 200) and "acc 0.500" in printer.status_text(p, 200)


# ---------------------------------------------------------------------------------------------
# k-fold and Ctrl-C


@pytest.mark.slow
def test_kfold_prints_folds_and_saves_nothing(tmp_path):
    out = tmp_path / "k.keras"
    proc = run_cli(
        "train", "--kfold", "2", "--epochs", "1", "--limit", "1000", "--device", "cpu", "--out", str(out),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "nothing is saved" in proc.stderr
    assert "fold 1/2: accuracy" in proc.stdout and "fold 2/2: accuracy" in proc.stdout
    assert "±" in proc.stdout
    assert not out.exists()
    assert not list(tmp_path.glob("*.keras"))


@pytest.mark.slow
def test_train_and_kfold_runs_land_in_the_run_history(tmp_path, capsys):
    """The README promises every run is in the history: CLI runs and k-fold runs too, typed."""
    from digitpad.core.history import history_path, load_history

    assert load_history() == []
    out = tmp_path / "m.keras"
    argv = ["train", "--limit", "300", "--epochs", "1", "--test-limit", "200", "--device", "cpu"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    assert cli.main([*argv, "--kfold", "2"]) == 0
    capsys.readouterr()
    assert history_path().parent == Path(os.environ["DIGITPAD_HOME"])  # the isolated user folder
    runs = load_history()
    assert [(r["kind"], r["status"]) for r in runs] == [("train", "completed"), ("kfold", "completed")]
    train, folds = runs
    assert train["arch"] == "fast" and train["epochs"] == 1 and train["reason"] == "completed"
    from digitpad.core.modelfile import read_metadata

    assert train["test_accuracy"] == pytest.approx(read_metadata(out)["test_accuracy"])
    assert folds["k"] == 2 and len(folds["accuracies"]) == 2
    assert folds["mean"] == pytest.approx(sum(folds["accuracies"]) / 2)


@pytest.mark.slow
def test_ctrl_c_stops_saves_and_exits_130(tmp_path):
    out = tmp_path / "stopped.keras"
    env = dict(os.environ)
    env.pop("DIGITPAD_DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "digitpad", "train", "--arch", "fast", "--epochs", "40", "--limit", "2000",
         "--test-limit", "500", "--device", "cpu", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(tmp_path), env=env,
    )
    stdout_lines: list[str] = []
    first_epoch = threading.Event()

    def read_stdout():
        for line in proc.stdout:
            stdout_lines.append(line)
            if line.startswith("epoch 1/40"):
                first_epoch.set()

    reader = threading.Thread(target=read_stdout, daemon=True)
    reader.start()
    try:
        assert first_epoch.wait(240), "training never reported an epoch:\n" + "".join(stdout_lines)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)  # a second Ctrl-C is still graceful
        stderr = proc.stderr.read()
        rc = proc.wait(240)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(10)
    stdout = "".join(stdout_lines)
    assert rc == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert "stopping after the current batch" in stderr
    # the second Ctrl-C lands during the stop, the test evaluation, the save or after: in every
    # case still graceful (its message is checked in-process by the deadlock test below)
    assert "stopped by user" in stdout
    assert not any(line.startswith("epoch 40/40") for line in stdout_lines)
    assert f"saved model to {out.resolve()}" in stdout
    from digitpad.core.history import load_history
    from digitpad.core.modelfile import load_model

    assert tuple(load_model(out).model.output_shape) == (None, 10)
    [run] = load_history()  # the child wrote it to this test's isolated DIGITPAD_HOME
    assert run["status"] == "stopped" and run["reason"].startswith("stopped by user")
    assert run["reason"] in stdout


def test_sigint_handler_while_printing_does_not_deadlock(tmp_path):
    """The handler runs on the main thread, maybe while it is inside the printer (lock held, a
    buffered write in progress); it must neither deadlock nor hit a re-entrant buffered write."""
    with open(tmp_path / "err.txt", "w+", encoding="utf-8") as err:
        printer = ProgressPrinter(io.StringIO(), err, tty=True)
        stops: list[int] = []
        guard = StopOnSigint(lambda: stops.append(1), printer.note_from_signal)

        def inside_printer():
            printer(_progress("batch", batch=3, logs={"loss": 0.5}))
            with printer._lock:
                guard.handle(signal.SIGINT, None)
                guard.handle(signal.SIGINT, None)

        worker = threading.Thread(target=inside_printer, daemon=True)
        worker.start()
        worker.join(10)
        assert not worker.is_alive(), "the Ctrl-C handler deadlocked on the progress printer"
        err.flush()
        text = (tmp_path / "err.txt").read_text(encoding="utf-8")
    assert stops == [1, 1] and guard.interrupted
    assert "\nstopping after the current batch" in text  # starts a fresh line after the bar
    assert text.rstrip().endswith("stopping…")


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_train_further_from_a_saved_model(trained, tmp_path, suffix):
    """`train --model` continues a saved model: .keras with its optimizer state, .h5 with a fresh one."""
    from digitpad.core.modelfile import load_model, read_metadata, save_model

    assert trained.proc.returncode == 0, trained.proc.stderr
    start = trained.path
    if suffix == ".h5":
        start = tmp_path / "start.h5"
        save_model(load_model(trained.path).model, start, metadata=read_metadata(trained.path))
    out = tmp_path / f"further{suffix}"
    proc = run_cli("train", "--model", str(start), "--epochs", "1", "--limit", "1500",
                   "--test-limit", "500", "--device", "cpu", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"continuing from: {start.resolve()}" in proc.stdout
    assert "config: fast:" in proc.stdout  # the file's architecture gives the defaults
    expected = "model's own Adam optimizer and its saved state" if suffix == ".keras" else "fresh optimizer"
    assert expected in proc.stderr + proc.stdout
    further = load_model(out)
    if suffix == ".keras":
        before = int(load_model(start).model.optimizer.iterations.numpy())
        assert int(further.model.optimizer.iterations.numpy()) > before > 0


def test_train_further_refuses_kfold(tmp_path, capsys):
    assert cli.main(["train", "--model", str(tmp_path / "m.keras"), "--kfold", "3"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("digitpad: error: --kfold trains new models") and err.count("\n") == 1
