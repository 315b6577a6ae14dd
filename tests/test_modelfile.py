"""Model files: Keras-2 fixtures, adaptation, round trips, metadata, optimizer state, atomic saving."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from digitpad.core import modelfile
from digitpad.core.errors import ModelFileError
from digitpad.core.modelfile import describe, load_model, read_metadata, save_model

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent


def keras():
    from digitpad.core.tfsetup import keras as _keras

    return _keras()


def tiny_model(seed: int = 0, activation="softmax"):
    k = keras()
    k.utils.set_random_seed(seed)
    return k.Sequential(
        [
            k.Input((28, 28, 1)),
            k.layers.Conv2D(4, 3, strides=2, activation="relu"),
            k.layers.Flatten(),
            k.layers.Dense(10, activation=activation),
        ],
        name="tiny",
    )


def trained_model(mnist_small, n=512):
    model = tiny_model()
    model.compile(optimizer=keras().optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = mnist_small.x_train[:n].astype("float32")[..., None] / 255.0
    model.fit(x, mnist_small.y_train[:n], epochs=1, batch_size=64, verbose=0)
    return model


def probe(mnist_small, n=16):
    return mnist_small.x_test[:n].astype("float32")[..., None] / 255.0


def predict(model, x):
    return keras().ops.convert_to_numpy(model(x, training=False))


def folder_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------------- Keras 2 (tf_keras) files


@pytest.fixture(scope="module")
def expected():
    return np.load(FIXTURES / "keras2_expected.npz")


@pytest.mark.parametrize(
    ("stem", "adaptations"),
    [
        ("keras2_baseline", []),
        ("keras2_flat784", ["input (784,) reshaped from 28x28x1"]),
        ("keras2_logits28", ["input (28, 28) reshaped from 28x28x1", "softmax added to logits output"]),
    ],
)
def test_keras2_h5_loads_with_adaptations(expected, stem, adaptations):
    loaded = load_model(FIXTURES / f"{stem}.h5")
    assert loaded.format == "h5"
    assert loaded.adaptations == adaptations
    assert loaded.optimizer_state is False
    assert loaded.name == stem
    assert loaded.metadata == {}
    assert tuple(loaded.model.input_shape) == (None, 28, 28, 1)
    assert tuple(loaded.model.output_shape) == (None, 10)
    x = expected["x"].astype("float32")[..., None] / 255.0
    probs = predict(loaded.model, x)
    np.testing.assert_allclose(probs, expected[f"{stem}_probs"], atol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # the tutorials' models were trained briefly on real MNIST: they read the first test digits
    assert (probs.argmax(axis=1) == np.array([7, 2, 1, 0, 4, 1, 4, 9])).mean() >= 0.75


@pytest.mark.slow
def test_keras2_model_trains_further_with_fresh_optimizer(mnist_small):
    loaded = load_model(FIXTURES / "keras2_flat784.h5")
    model = loaded.model
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = mnist_small.x_train[:256].astype("float32")[..., None] / 255.0
    history = model.fit(x, mnist_small.y_train[:256], epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_adapted_model_round_trips(tmp_path, expected):
    loaded = load_model(FIXTURES / "keras2_logits28.h5")
    x = expected["x"].astype("float32")[..., None] / 255.0
    before = predict(loaded.model, x)
    for suffix in (".keras", ".h5"):
        path = save_model(loaded.model, tmp_path / f"adapted{suffix}", metadata={"arch": "from-keras2"})
        again = load_model(path)
        assert again.adaptations == []  # already 28x28x1 -> softmax
        assert again.name == "from-keras2"
        np.testing.assert_allclose(predict(again.model, x), before, atol=1e-6)


# ------------------------------------------------------------------------------------- round trips


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_round_trip_equal_outputs_and_metadata(tmp_path, mnist_small, suffix):
    model = trained_model(mnist_small)
    meta = {
        "arch": "tiny",
        "config": {"epochs": 1, "batch_size": 64, "optimizer": "adam"},
        "metrics": {"test_accuracy": np.float32(0.875), "history": np.array([0.5, 0.25])},
        "data": "bundled MNIST (subset)",
        "date": "2026-11-21T12:00:00",
    }
    path = save_model(model, tmp_path / f"tiny{suffix}", metadata=meta)
    assert path == tmp_path / f"tiny{suffix}"
    assert folder_files(tmp_path) == [f"tiny{suffix}"]  # no temporary file left

    stored = read_metadata(path)
    assert stored["arch"] == "tiny"
    assert stored["config"] == meta["config"]
    assert stored["metrics"]["test_accuracy"] == pytest.approx(0.875)
    assert stored["metrics"]["history"] == [0.5, 0.25]
    assert stored["date"] == meta["date"]

    loaded = load_model(path)
    assert loaded.format == suffix[1:]
    assert loaded.adaptations == []
    assert loaded.name == "tiny"
    assert loaded.metadata == stored
    x = probe(mnist_small)
    np.testing.assert_allclose(predict(loaded.model, x), predict(model, x), atol=1e-6)


def test_metadata_is_stored_inside_the_file(tmp_path, mnist_small):
    model = tiny_model()
    keras_path = save_model(model, tmp_path / "m.keras", metadata={"arch": "tiny"})
    with zipfile.ZipFile(keras_path) as zf:
        assert json.loads(zf.read(modelfile.METADATA_ENTRY)) == {"arch": "tiny"}
        assert "config.json" in zf.namelist()
    h5_path = save_model(model, tmp_path / "m.h5", metadata={"arch": "tiny"})
    with h5py.File(h5_path, "r") as f:
        assert json.loads(f.attrs[modelfile.METADATA_ATTR]) == {"arch": "tiny"}
    # A plain Keras file has no metadata; read_metadata says so without loading the model.
    plain = tmp_path / "plain.keras"
    keras().saving.save_model(model, plain)
    assert read_metadata(plain) == {}
    assert load_model(plain).name == "plain"


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_metadata_values_become_plain_json(tmp_path, suffix):
    meta = {"acc": np.float32(0.5), "curve": np.array([1, 2]), "where": tmp_path, "loss": float("nan"),
            "tags": ("a", "b"), "n": np.int64(3)}
    path = save_model(tiny_model(), tmp_path / f"m{suffix}", metadata=meta)
    assert read_metadata(path) == {"acc": 0.5, "curve": [1, 2], "where": str(tmp_path), "loss": None,
                                   "tags": ["a", "b"], "n": 3}
    with pytest.raises(ModelFileError, match="metadata must be a dictionary"):
        save_model(tiny_model(), tmp_path / f"bad{suffix}", metadata=["not", "a", "dict"])


@pytest.mark.slow
def test_keras_file_keeps_optimizer_state(tmp_path, mnist_small):
    model = trained_model(mnist_small)
    iterations = int(model.optimizer.iterations.numpy())
    assert iterations > 0
    path = save_model(model, tmp_path / "m.keras")
    loaded = load_model(path)
    assert loaded.optimizer_state is True
    assert int(loaded.model.optimizer.iterations.numpy()) == iterations
    slots_before = [np.asarray(v) for v in model.optimizer.variables]
    slots_after = [np.asarray(v) for v in loaded.model.optimizer.variables]
    assert len(slots_before) == len(slots_after)
    for a, b in zip(slots_before, slots_after, strict=True):
        np.testing.assert_allclose(a, b)
    # continue training on the loaded model: same optimizer, counter goes on
    x = mnist_small.x_train[:128].astype("float32")[..., None] / 255.0
    loaded.model.fit(x, mnist_small.y_train[:128], epochs=1, batch_size=64, verbose=0)
    assert int(loaded.model.optimizer.iterations.numpy()) == iterations + 2


@pytest.mark.slow
def test_h5_file_continues_with_fresh_optimizer(tmp_path, mnist_small):
    model = trained_model(mnist_small)
    path = save_model(model, tmp_path / "m.h5")
    loaded = load_model(path)
    assert loaded.optimizer_state is False
    assert not getattr(loaded.model, "compiled", False)
    loaded.model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = mnist_small.x_train[:128].astype("float32")[..., None] / 255.0
    history = loaded.model.fit(x, mnist_small.y_train[:128], epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.slow
def test_h5_save_does_not_spoil_a_later_keras_save(tmp_path, mnist_small):
    model = trained_model(mnist_small)
    iterations = int(model.optimizer.iterations.numpy())
    save_model(model, tmp_path / "first.h5")
    assert "optimizer" in model._compile_config.config
    save_model(model, tmp_path / "second.keras")
    with zipfile.ZipFile(tmp_path / "second.keras") as zf:
        config = json.loads(zf.read("config.json"))
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    loaded = load_model(tmp_path / "second.keras")
    assert loaded.optimizer_state is True
    assert int(loaded.model.optimizer.iterations.numpy()) == iterations


@pytest.mark.slow
def test_logits_keras_model_gets_softmax_and_keeps_training(tmp_path, mnist_small):
    k = keras()
    model = tiny_model(activation=None)
    model.compile(optimizer=k.optimizers.Adam(1e-3),
                  loss=k.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = mnist_small.x_train[:256].astype("float32")[..., None] / 255.0
    model.fit(x, mnist_small.y_train[:256], epochs=1, batch_size=64, verbose=0)
    path = save_model(model, tmp_path / "logits.keras")
    loaded = load_model(path)
    assert loaded.adaptations == ["softmax added to logits output"]
    xp = probe(mnist_small)
    expected = k.ops.convert_to_numpy(k.ops.softmax(model(xp), axis=-1))
    np.testing.assert_allclose(predict(loaded.model, xp), expected, atol=1e-6)
    # still trainable with the file's optimizer (now on probabilities)
    assert loaded.optimizer_state is True
    history = loaded.model.fit(x, mnist_small.y_train[:256], epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"][0])


DESCRIBE_KEYS = {"path", "name", "format", "file_size", "layers", "total_params", "trainable_params",
                 "input", "output", "adaptations", "metadata", "optimizer", "optimizer_state", "confidence"}


def test_describe_returns_data(tmp_path):
    model = tiny_model()
    model.compile(optimizer=keras().optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    path = save_model(model, tmp_path / "d.keras", metadata={"arch": "tiny", "metrics": {"test_accuracy": 0.9}})
    info = describe(path)
    assert set(info) == DESCRIBE_KEYS  # data only: no rendered text
    assert info["path"] == str(path) and info["name"] == "tiny"
    assert info["format"] == "keras"
    assert info["file_size"] == path.stat().st_size
    assert info["total_params"] == info["trainable_params"] == model.count_params()
    conv, flatten, dense = model.layers
    assert info["layers"] == [
        {"name": conv.name, "type": "Conv2D", "output_shape": "(None, 13, 13, 4)",
         "params": conv.count_params(), "activation": "relu"},
        {"name": flatten.name, "type": "Flatten", "output_shape": "(None, 676)", "params": 0,
         "activation": None},
        {"name": dense.name, "type": "Dense", "output_shape": "(None, 10)",
         "params": dense.count_params(), "activation": "softmax"},
    ]
    assert info["input"] == {"file": "(None, 28, 28, 1)", "digitpad": "(None, 28, 28, 1) float32 in [0, 1]"}
    assert info["output"] == "(None, 10) softmax probabilities"
    assert info["optimizer"] == "Adam" and info["optimizer_state"] is False  # compiled, never trained
    assert info["metadata"] == {"arch": "tiny", "metrics": {"test_accuracy": 0.9}}
    assert info["adaptations"] == []
    assert json.loads(json.dumps(info)) == info  # plain JSON types throughout


def test_describe_adapted_file_names_nested_layers():
    info = describe(FIXTURES / "keras2_logits28.h5")
    assert set(info) == DESCRIBE_KEYS
    assert info["input"]["file"] == "(None, 28, 28)"
    assert info["adaptations"] == ["input (28, 28) reshaped from 28x28x1", "softmax added to logits output"]
    assert info["optimizer"] is None and info["optimizer_state"] is False
    rows = info["layers"]
    assert [r["name"] for r in rows if "/" not in r["name"]] == ["image", "to_model_input", "probabilities"]
    inner = [r for r in rows if r["name"].startswith("keras2_logits28/")]
    assert [r["type"] for r in inner] == ["Flatten", "Dense", "Dense"]
    assert [r["activation"] for r in inner] == [None, "relu", "linear"]
    assert rows[-1] == {"name": "probabilities", "type": "Softmax", "output_shape": "(None, 10)",
                        "params": 0, "activation": "softmax"}
    assert sum(r["params"] for r in rows) == info["total_params"]
    json.dumps(info)


# -------------------------------------------------------------------------------- saving failures


def test_save_refuses_bad_suffix_and_missing_folder(tmp_path):
    model = tiny_model()
    with pytest.raises(ModelFileError, match="use .keras or .h5"):
        save_model(model, tmp_path / "model.pb")
    with pytest.raises(ModelFileError, match="does not exist") as info:
        save_model(model, tmp_path / "missing" / "model.keras")
    assert "\n" not in str(info.value)
    assert folder_files(tmp_path) == []


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_interrupted_save_keeps_previous_file(tmp_path, mnist_small, monkeypatch, suffix):
    """Keras dies halfway through writing: the previous file is intact, no temporary file remains."""
    old = tiny_model(seed=1)
    target = save_model(old, tmp_path / f"model{suffix}", metadata={"arch": "old"})
    before = target.read_bytes()
    k = keras()
    real_save = k.saving.save_model

    def dying_save(model, filepath, *args, **kwargs):
        real_save(model, filepath, *args, **kwargs)
        data = Path(filepath).read_bytes()
        Path(filepath).write_bytes(data[: len(data) // 2])  # half written ...
        raise RuntimeError("simulated crash while writing")  # ... then the writer dies

    monkeypatch.setattr(k.saving, "save_model", dying_save)
    new = tiny_model(seed=2)
    with pytest.raises(ModelFileError, match="simulated crash") as info:
        save_model(new, target, metadata={"arch": "new"})
    assert "\n" not in str(info.value)
    monkeypatch.setattr(k.saving, "save_model", real_save)
    assert folder_files(tmp_path) == [target.name]
    assert target.read_bytes() == before
    loaded = load_model(target)
    assert loaded.metadata == {"arch": "old"}
    x = probe(mnist_small)
    np.testing.assert_allclose(predict(loaded.model, x), predict(old, x), atol=1e-6)
    # the new model is still in memory and can be saved once the problem is gone
    save_model(new, target, metadata={"arch": "new"})
    assert read_metadata(target) == {"arch": "new"}


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_full_disk_gives_one_sentence(tmp_path, monkeypatch, suffix):
    import errno

    target = save_model(tiny_model(seed=1), tmp_path / f"model{suffix}")
    before = target.read_bytes()
    real = modelfile.metadata.write_metadata

    def full_disk(tmp, fmt, text):
        real(tmp, fmt, text)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(modelfile.metadata, "write_metadata", full_disk)
    model = tiny_model(seed=2)
    with pytest.raises(ModelFileError, match="the disk is full") as info:
        save_model(model, target)
    assert "\n" not in str(info.value)
    assert folder_files(tmp_path) == [target.name]
    assert target.read_bytes() == before
    assert predict(model, np.zeros((1, 28, 28, 1), "float32")).shape == (1, 10)


def test_read_only_folder_gives_one_sentence(tmp_path, monkeypatch):
    import errno
    import tempfile

    folder = tmp_path / "ro"
    folder.mkdir()
    target = save_model(tiny_model(seed=1), folder / "model.keras")
    before = target.read_bytes()
    if os.geteuid() != 0:
        folder.chmod(0o555)  # a real read-only folder (root ignores permission bits)
    else:
        def denied(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied", str(folder))

        monkeypatch.setattr(tempfile, "mkstemp", denied)
    try:
        with pytest.raises(ModelFileError, match="no permission to write") as info:
            save_model(tiny_model(seed=2), target)
    finally:
        folder.chmod(0o755)
    assert "\n" not in str(info.value)
    assert folder_files(folder) == ["model.keras"]
    assert target.read_bytes() == before


def _unshare_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe_dir = Path("/tmp")
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k none {probe_dir} && true"],
        capture_output=True,
    )
    return result.returncode == 0


_FS_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    from digitpad.core.errors import ModelFileError
    from digitpad.core.modelfile import load_model, save_model
    from digitpad.core.tfsetup import keras
    k = keras()
    target = sys.argv[1]
    big = k.Sequential([k.Input((28, 28, 1)), k.layers.Flatten(), k.layers.Dense(256),
                        k.layers.Dense(10, activation="softmax")])
    try:
        save_model(big, target, metadata={"arch": "big"})
        print("RESULT saved")
    except ModelFileError as exc:
        print("RESULT error", str(exc).replace(chr(10), "<NL>"))
    print("MODEL", big(np.zeros((1, 28, 28, 1), "float32")).shape)
    print("FILES", sorted(os.listdir(os.path.dirname(target))))
    print("OLD", load_model(target).metadata)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["full", "readonly"])
def test_real_full_disk_and_read_only_mount(tmp_path, case):
    """A real tiny tmpfs (in a private mount namespace): a full disk and a read-only file system."""
    if not _unshare_available():
        pytest.skip("unshare/mount namespaces are not available here")
    old = save_model(tiny_model(seed=1), tmp_path / "model.keras", metadata={"arch": "old"})
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    size_kb = old.stat().st_size // 1024 + 48
    remount = f"mount -o remount,ro {mnt} && " if case == "readonly" else ""
    script = tmp_path / "save.py"
    script.write_text(_FS_SCRIPT)
    shell = (
        f"mount -t tmpfs -o size={size_kb}k none {mnt} && cp {old} {mnt}/model.keras && {remount}"
        f"{sys.executable} {script} {mnt}/model.keras"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(["unshare", "-rm", "sh", "-c", shell], capture_output=True, text=True,
                            env=env, timeout=300)
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    expected = "the disk is full" if case == "full" else "no permission to write"
    assert f"RESULT error cannot save model.keras: {expected}" in out, out
    assert "<NL>" not in out
    assert "MODEL (1, 10)" in out
    assert "FILES ['model.keras']" in out
    assert "OLD {'arch': 'old'}" in out


@pytest.mark.slow
def test_save_killed_midway_keeps_previous_file(tmp_path, mnist_small):
    """A process killed (SIGKILL) in the middle of save_model leaves the previous file intact."""
    old = tiny_model(seed=1)
    target = save_model(old, tmp_path / "model.keras", metadata={"arch": "old"})
    before = target.read_bytes()
    ready = tmp_path / "ready"
    script = tmp_path / "killed_save.py"
    script.write_text(textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from digitpad.core import modelfile
        from digitpad.core.modelfile import metadata as stored_metadata
        from digitpad.core.tfsetup import keras
        k = keras()
        def stall(tmp, fmt, text):
            Path({str(ready)!r}).write_text(str(tmp))
            time.sleep(120)
        stored_metadata.write_metadata = stall
        model = k.Sequential([k.Input((28, 28, 1)), k.layers.Flatten(), k.layers.Dense(10, activation="softmax")])
        modelfile.save_model(model, {str(target)!r}, metadata={{"arch": "new"}})
        """
    ))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(script)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert proc.poll() is None, "the saving process ended early"
            assert time.monotonic() < deadline, "the saving process never reached the write"
            time.sleep(0.1)
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    temp = Path(ready.read_text())
    assert temp.exists() and temp.parent == tmp_path  # the half-done save was in a temporary file
    assert target.read_bytes() == before
    loaded = load_model(target)
    assert loaded.metadata == {"arch": "old"}
    x = probe(mnist_small)
    np.testing.assert_allclose(predict(loaded.model, x), predict(old, x), atol=1e-6)
    # a later save removes the stale temporary file once it is old enough
    os.utime(temp, (time.time() - 3600, time.time() - 3600))
    save_model(tiny_model(seed=3), target, metadata={"arch": "newer"})
    assert not temp.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert read_metadata(target) == {"arch": "newer"}


def test_untrained_optimizer_is_not_state(tmp_path):
    model = tiny_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    loaded = load_model(save_model(model, tmp_path / "fresh.keras"))
    assert loaded.optimizer_state is False
    assert loaded.model.optimizer is not None  # still compiled with the file's optimizer
