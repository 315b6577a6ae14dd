"""Hostile model files, round two (issue 13): files that declare too much, non-regular files, the
check-then-load race, encrypted and odd archives, odd metadata.

Every file is generated here, small on disk. Each refusal is one sentence, reached before Keras
builds anything (the declared-size checks read JSON, zip directories and HDF5 shapes only).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from model_corpus import (
    deep_nesting,
    h5_with_huge_dataset,
    huge_dense,
    huge_upsampling,
    keras,
    keras_file,
    keras_with_huge_weights,
    keras_with_zip_bomb,
    lambda_model,
    many_calls,
    many_layers,
    numpy_node,
    rewrite_h5_config,
    rewrite_keras_config,
    set_zip_flag,
    tiny_model,
    with_numpy_initializer,
    write_keras_metadata,
)

from digitpad.core.errors import ModelFileError
from digitpad.core.modelfile import check_model_file, describe, limits, load_model, read_metadata
from digitpad.core.modelfile import io as model_io
from digitpad.core.modelfile.declared import declared_size


def one_sentence(exc: BaseException) -> str:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text, text
    assert text.endswith("."), text
    assert len(text) < 400, text
    return text


def refused(path: Path, pattern: str) -> str:
    with pytest.raises(ModelFileError, match=pattern) as info:
        load_model(path)
    return one_sentence(info.value)


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("originals")
    model = tiny_model()
    return {".keras": keras_file(folder, "ok.keras", model), ".h5": keras_file(folder, "ok.h5", model)}


def crafted(originals, tmp_path, suffix, edit) -> Path:
    dst = tmp_path / f"crafted{suffix}"
    rewrite = rewrite_keras_config if suffix == ".keras" else rewrite_h5_config
    return rewrite(originals[suffix], dst, edit)


# ------------------------------------------------------------- what a config may declare (point 2, 9)


DECLARES_TOO_MUCH = {
    "32768x32768 Dense": (huge_dense, "1,074 million weights"),
    "__numpy__ 2 GB void dtype": (with_numpy_initializer(numpy_node()), "only plain numbers"),
    "__numpy__ text dtype": (with_numpy_initializer(numpy_node("<U100000000", "x")), "plain numbers"),
    "__numpy__ object inside": (with_numpy_initializer(numpy_node("float32", [{"a": 1}])),
                                "something other than numbers"),
    "__numpy__ 1,000,001 numbers": (with_numpy_initializer(numpy_node("float32", [0] * 1_000_001)),
                                    "1,000,001 numbers"),
    "250 layers": (many_layers(250), "more than 200 layers"),
    "20,000 layers": (many_layers(20_000), "more than 200 layers"),
    "config nested 100 deep": (deep_nesting(100), "nested more than 64 levels"),
    "UpSampling2D(3000)": (huge_upsampling, "outputs 6,084 million numbers for one image"),
}


@pytest.mark.parametrize("case", sorted(DECLARES_TOO_MUCH))
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_declared_size_refused_before_keras(originals, tmp_path, monkeypatch, case, suffix):
    edit, pattern = DECLARES_TOO_MUCH[case]
    path = crafted(originals, tmp_path, suffix, edit)

    def keras_must_not_build(*args, **kwargs):
        raise AssertionError("Keras was asked to build a model that declares too much")

    monkeypatch.setattr(keras().saving, "load_model", keras_must_not_build)
    text = refused(path, pattern)
    assert "crafted" in text


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_too_many_layer_calls_refused(tmp_path, suffix):
    k = keras()
    inp = k.Input((28, 28, 1))
    model = k.Model(inp, k.layers.Dense(10, activation="softmax")(k.layers.Flatten()(inp)))
    original = keras_file(tmp_path, f"functional{suffix}", model)
    rewrite = rewrite_keras_config if suffix == ".keras" else rewrite_h5_config
    path = rewrite(original, tmp_path / f"calls{suffix}", many_calls(5000))
    refused(path, "calls its layers more than 1,000 times")


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("values", [1 << 30, 100_000_000], ids=["4GiB", "400MB-under-keras-guard"])
def test_empty_chunk_weight_arrays_refused(originals, tmp_path, suffix, values):
    """Datasets declared huge but stored as no chunks at all: the file stays small."""
    dst = tmp_path / f"hollow{suffix}"
    if suffix == ".h5":
        h5_with_huge_dataset(originals[".h5"], dst, values)
    else:
        keras_with_huge_weights(originals[".keras"], dst, values)
    assert dst.stat().st_size < 1024 * 1024
    refused(dst, "weight arrays of more than 50 million numbers")


@pytest.mark.slow
def test_zip_bomb_refused_without_unpacking(originals, tmp_path, monkeypatch):
    """520 MB of zeros in 0.5 MB: refused from the zip directory; nothing lands in the temp folder."""
    bomb = keras_with_zip_bomb(originals[".keras"], tmp_path / "bomb.keras", 520)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    refused(bomb, "would unpack to 520 MB.*zip bomb")
    assert list(temp.iterdir()) == []


def test_lying_zip_sizes_are_corrupt(originals, tmp_path):
    """An entry whose headers under-state its size never unpacks past them: its CRC fails."""
    path = tmp_path / "liar.keras"
    with zipfile.ZipFile(originals[".keras"]) as zin, zipfile.ZipFile(
            path, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("config.json")
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:     # set the central directory's uncompressed size of config.json to 10
        length = int.from_bytes(data[pos + 28: pos + 30], "little")
        if bytes(data[pos + 46: pos + 46 + length]) == b"config.json":
            data[pos + 24: pos + 28] = (10).to_bytes(4, "little")
        pos = data.find(b"PK\x01\x02", pos + 4)
    data[info.header_offset + 22: info.header_offset + 26] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    refused(path, "corrupt")


def test_stream_count_stops_past_the_limit(originals, tmp_path, monkeypatch):
    """The bytes actually unpacked are counted too (here with the declared-size check below them)."""
    monkeypatch.setattr(limits, "MAX_UNPACKED_BYTES", 10_000)
    with zipfile.ZipFile(originals[".keras"]) as zf:
        assert sum(i.file_size for i in zf.infolist()) > 10_000
    refused(originals[".keras"], "unpack to .*zip bomb")


def test_encrypted_entry_refused(originals, tmp_path):
    path = tmp_path / "locked.keras"
    shutil.copy(originals[".keras"], path)
    set_zip_flag(path, "model.weights.h5", 0x1)
    text = refused(path, "encrypted entry")
    assert "model.weights.h5" in text


def test_sizes_declared_by_real_models_are_counted_exactly(tmp_path):
    """The declared-weights walk agrees with Keras on real models of many kinds of layer."""
    k = keras()
    inp = k.Input((28, 28, 1))
    a = k.layers.Conv2D(6, 5, padding="same", activation="relu")(inp)
    a = k.layers.BatchNormalization()(a)
    a = k.layers.MaxPooling2D()(a)
    b = k.layers.SeparableConv2D(4, 3, strides=2, padding="same")(inp)
    b = k.layers.DepthwiseConv2D(3, padding="same")(b)
    c = k.layers.Concatenate()([a, b])
    c = k.layers.Conv2D(8, 3, dilation_rate=2)(c)
    c = k.layers.GlobalAveragePooling2D()(c)
    d = k.layers.Reshape((28, 28))(inp)
    d = k.layers.LSTM(12)(d)
    seq = k.layers.Reshape((49, 16))(inp)
    seq = k.layers.MultiHeadAttention(2, 8)(seq, seq)
    seq = k.layers.GlobalMaxPooling1D()(k.layers.LayerNormalization()(seq))
    e = k.layers.Flatten()(k.layers.AveragePooling2D(4)(k.layers.Resizing(24, 24)(inp)))
    shared = k.layers.Dense(16, activation="relu")   # one set of weights, two calls
    e = k.layers.Add()([shared(e), shared(k.layers.Activation("tanh")(e))])
    out = k.layers.Dense(10, activation="softmax")(k.layers.Concatenate()([c, d, e, seq]))
    functional = k.Model(inp, out)
    nested = k.Sequential([k.Input((784,)), k.layers.Reshape((28, 28, 1)), functional])
    for model in (functional, nested, tiny_model()):
        for suffix in (".keras", ".h5"):
            path = keras_file(tmp_path, f"m{suffix}", model)
            if suffix == ".keras":
                with zipfile.ZipFile(path) as zf:
                    config = json.loads(zf.read("config.json"))
            else:
                with h5py.File(path) as f:
                    config = json.loads(f.attrs["model_config"])
            # BatchNormalization's two moving statistics are weights too
            assert declared_size(config, path.name).params == model.count_params(), suffix
            check_model_file(path)


def test_builtin_architectures_are_counted_exactly_and_within_the_limits():
    from digitpad.core.archs import ARCHS, build_model

    for arch in ARCHS:
        model = build_model(arch)
        config = json.loads(json.dumps(keras().saving.serialize_keras_object(model)))
        tally = declared_size(config, arch)
        assert tally.params == model.count_params(), arch
        assert tally.params < limits.MAX_PARAMS / 10 and len(tally.layers) < limits.MAX_LAYERS / 5
        limits.check_config_structure(config, arch)


@pytest.mark.parametrize("name", ["model.KERAS", "model.H5", "Model.Hdf5"])
def test_upper_case_suffixes_load(tmp_path, originals, name):
    path = tmp_path / name
    shutil.copy(originals[".keras" if name.lower().endswith(".keras") else ".h5"], path)
    loaded = load_model(path)
    assert loaded.adaptations == [] and loaded.path == path


def test_deflated_keras_file_loads(originals, tmp_path):
    """A .keras zip whose weights entry is compressed is checked from a private unpacked copy."""
    path = tmp_path / "deflated.keras"
    with zipfile.ZipFile(originals[".keras"]) as zin, zipfile.ZipFile(
            path, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item))
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("model.weights.h5").compress_type == zipfile.ZIP_DEFLATED
    assert load_model(path).adaptations == []


# --------------------------------------------------------------------- non-regular files (point 4)


def _in_thread(fn):
    """Run ``fn`` in a daemon thread; return what it raised (a hang leaves the thread alive)."""
    result = {}

    def run():
        try:
            fn()
        except BaseException as exc:
            result["exc"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "reading the file blocked"
    return result.get("exc")


@pytest.mark.parametrize("reader", [load_model, check_model_file, read_metadata, describe],
                         ids=["load_model", "check_model_file", "read_metadata", "describe"])
def test_fifo_refused_without_blocking(tmp_path, reader):
    fifo = tmp_path / "f.keras"
    os.mkfifo(fifo)
    exc = _in_thread(lambda: reader(fifo))
    assert isinstance(exc, ModelFileError), exc
    assert "FIFO" in one_sentence(exc)


def test_file_over_the_size_limit_refused_before_reading(originals, monkeypatch):
    from digitpad.core.modelfile import snapshot

    monkeypatch.setattr(snapshot, "MAX_FILE_BYTES", 1000)
    refused(originals[".h5"], "far larger than any digit model")


def test_device_refused(tmp_path):
    link = tmp_path / "zero.h5"
    link.symlink_to("/dev/zero")
    exc = _in_thread(lambda: load_model(link))
    assert isinstance(exc, ModelFileError), exc
    assert "character device" in one_sentence(exc)


# ------------------------------------------------------------ check-then-load race (point 3)


@pytest.fixture
def benign_and_evil(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITPAD_TEST_MARKER", str(tmp_path / "build_marker"))
    benign = keras_file(tmp_path, "benign.keras")
    evil = keras_file(tmp_path, "evil.keras", lambda_model())
    monkeypatch.setenv("DIGITPAD_TEST_MARKER", str(tmp_path / "PAYLOAD_RAN"))
    yield benign, evil
    assert not (tmp_path / "PAYLOAD_RAN").exists()


def _has_lambda(path: Path) -> bool:
    with zipfile.ZipFile(path) as zf:
        return "Lambda" in zf.read("config.json").decode()


@pytest.fixture
def keras_inputs(monkeypatch):
    """Every file Keras is asked to load: (Lambda in it?, its folder's mode, its mode)."""
    seen = []
    real = keras().saving.load_model

    def recording(path, *args, **kwargs):
        path = Path(path)
        seen.append((_has_lambda(path), stat.S_IMODE(path.parent.stat().st_mode),
                     stat.S_IMODE(path.stat().st_mode), path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(keras().saving, "load_model", recording)
    return seen


def test_file_swapped_right_after_the_check_is_not_loaded(tmp_path, monkeypatch, benign_and_evil,
                                                          keras_inputs):
    benign, evil = benign_and_evil
    target = tmp_path / "model.keras"
    shutil.copy(benign, target)
    real_check = model_io.check_snapshot

    def check_then_swap(copy, name):
        fmt = real_check(copy, name)
        shutil.copy(evil, target)   # the attacker wins the race on the named file
        return fmt

    monkeypatch.setattr(model_io, "check_snapshot", check_then_swap)
    loaded = load_model(target)
    assert loaded.adaptations == []
    assert _has_lambda(target)
    [(lam, folder_mode, file_mode, path)] = keras_inputs
    assert not lam
    assert (folder_mode, file_mode) == (0o700, 0o600)
    assert not path.exists()   # the private copy is gone


def test_swapping_thread_never_gets_a_lambda_to_keras(tmp_path, benign_and_evil, keras_inputs):
    benign, evil = benign_and_evil
    target = tmp_path / "model.keras"
    shutil.copy(benign, target)
    stop = threading.Event()

    def swap():
        sides = [benign, evil]
        i = 0
        while not stop.is_set():
            side = tmp_path / f".swap{i % 2}.keras"
            shutil.copy(sides[i % 2], side)
            os.replace(side, target)
            i += 1
            stop.wait(0.003)

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    outcomes = []
    try:
        for _ in range(16):
            try:
                load_model(target)
                outcomes.append("loaded")
            except ModelFileError as exc:
                assert "Lambda" in one_sentence(exc)
                outcomes.append("refused")
    finally:
        stop.set()
        swapper.join(10)
    assert len(outcomes) == 16
    assert outcomes.count("loaded") == len(keras_inputs)
    assert not any(lam for lam, *_ in keras_inputs)


# ----------------------------------------------------------- odd structures (point 10, model part)


def test_one_named_output_is_taken(tmp_path):
    k = keras()
    inp = k.Input((28, 28, 1), name="img")
    probs = k.layers.Dense(10, activation="softmax")(k.layers.Flatten()(inp))
    model = k.Model(inp, {"digits": probs})
    loaded = load_model(keras_file(tmp_path, "named.keras", model))
    assert loaded.adaptations == ["output 'digits' taken from the model's named outputs"]
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0),
                               model.predict(x, verbose=0)["digits"], atol=1e-6)


def test_several_named_outputs_refused(tmp_path):
    k = keras()
    inp = k.Input((28, 28, 1))
    flat = k.layers.Flatten()(inp)
    model = k.Model(inp, {"a": k.layers.Dense(10, activation="softmax")(flat),
                          "b": k.layers.Dense(10, activation="softmax")(flat)})
    refused(keras_file(tmp_path, "two.keras", model), "has 2 outputs")


def test_dict_input_of_one_image_loads(tmp_path):
    k = keras()
    inp = k.Input((28, 28, 1), name="img")
    model = k.Model({"img": inp}, k.layers.Dense(10, activation="softmax")(k.layers.Flatten()(inp)))
    loaded = load_model(keras_file(tmp_path, "dict_in.keras", model))
    assert loaded.adaptations == ["input given as the model's named input 'img'"]
    x = np.random.default_rng(1).random((2, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0),
                               model.predict({"img": x}, verbose=0), atol=1e-6)


def test_deeply_nested_metadata_is_ignored(originals, tmp_path):
    path = write_keras_metadata(originals[".keras"], tmp_path / "deep.keras",
                                '{"arch": "x", "a": ' + "[" * 50_000 + "]" * 50_000 + "}")
    assert read_metadata(path) == {}
    path = write_keras_metadata(originals[".keras"], tmp_path / "deep20.keras",
                                json.dumps({"arch": "x", "a": json.loads("[" * 20 + "]" * 20)}))
    assert read_metadata(path) == {}
    assert load_model(path).name == "deep20"


def test_odd_typed_metadata_keys_are_dropped(originals, tmp_path):
    odd = {"arch": 5, "config": "fast", "metrics": [0.9], "result": None, "date": {"y": 1},
           "data": "mnist", "extra": [1, 2]}
    path = write_keras_metadata(originals[".keras"], tmp_path / "odd.keras", json.dumps(odd))
    assert read_metadata(path) == {"result": None, "data": "mnist", "extra": [1, 2]}
    info = describe(path)
    assert info["name"] == "odd" and info["metadata"]["data"] == "mnist"
    path = write_keras_metadata(originals[".keras"], tmp_path / "list.keras", "[1, 2]")
    assert read_metadata(path) == {}


def test_control_characters_from_the_file_never_reach_a_message(originals, tmp_path):
    def edit(config):
        config["config"]["layers"][1]["class_name"] = "\x1b[2J\x1b]0;owned\x07Evil\r"

    with pytest.raises(ModelFileError) as info:
        load_model(crafted(originals, tmp_path, ".keras", edit))
    text = one_sentence(info.value)
    assert "\\x1b[2J" in text and "Evil" in text
    assert not any(not c.isprintable() for c in text)


def test_only_digitpads_own_layer_is_allowed_from_outside_keras(originals, tmp_path):
    def naming(registered, module):
        def edit(config):
            config["config"]["layers"].append({
                "module": module, "class_name": "SumNormalization",
                "registered_name": registered, "config": {"name": "norm"}})
        return edit

    for registered, module, pattern in [("digitpad>SumNormalization", "os", "module 'os'"),
                                        ("digitpad>Backdoor", "digitpad.core.modelfile.layers",
                                         "outside Keras|digitpad>Backdoor")]:
        path = crafted(originals, tmp_path, ".keras", naming(registered, module))
        with pytest.raises(ModelFileError, match=pattern) as info:
            check_model_file(path)
        one_sentence(info.value)
