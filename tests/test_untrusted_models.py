"""A corpus of bad and malicious model files, built by the tests themselves (plus the Keras-2 fixtures).

For every file: ``load_model`` raises ModelFileError whose message is one sentence (no newline, no
traceback) and the marker file the payload would create does not exist afterwards. Control tests
prove the payloads are real: Keras with ``safe_mode=False`` does run them and creates the marker.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from model_corpus import (
    keras,
    lambda_model,
    nan_model,
    rewrite_h5_config,
    rewrite_keras_config,
    tiny_model,
)

from digitpad.core.errors import ModelFileError
from digitpad.core.modelfile import check_model_file, load_model, save_model

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def assert_one_sentence(exc: BaseException) -> str:
    text = str(exc)
    assert text, "empty error message"
    assert "\n" not in text and "Traceback" not in text, text
    assert text.endswith("."), text
    assert len(text) < 400, text
    return text


@pytest.fixture
def marker(tmp_path, monkeypatch):
    build_marker = tmp_path / "build_marker"
    monkeypatch.setenv("DIGITPAD_TEST_MARKER", str(build_marker))
    path = tmp_path / "PAYLOAD_RAN"

    class Marker:
        def arm(self):
            """Point the payload at the marker that must never appear."""
            monkeypatch.setenv("DIGITPAD_TEST_MARKER", str(path))

        def exists(self):
            return path.exists()

    m = Marker()
    yield m
    assert not path.exists(), "code from a model file ran"


def inline_lambda_model():
    k = keras()
    return k.Sequential(
        [
            k.Input((28, 28, 1)),
            k.layers.Lambda(
                lambda x: (open(__import__("os").environ["DIGITPAD_TEST_MARKER"], "w").write("ran"), x)[1],
                name="inline_lambda",
            ),
            k.layers.Flatten(),
            k.layers.Dense(10, activation="softmax"),
        ]
    )


def _plain_save(model, path):
    keras().saving.save_model(model, path)
    return path


# ------------------------------------------------------------------------------------------ Lambda


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("builder", [lambda_model, inline_lambda_model], ids=["function", "inline"])
def test_keras3_lambda_refused(tmp_path, marker, suffix, builder):
    path = _plain_save(builder(), tmp_path / f"evil{suffix}")
    marker.arm()
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    text = assert_one_sentence(info.value)
    assert "Lambda" in text and "lambda" in text.lower()
    assert not marker.exists()


def test_keras2_legacy_lambda_refused(marker):
    marker.arm()
    with pytest.raises(ModelFileError) as info:
        load_model(FIXTURES / "keras2_lambda.h5")
    text = assert_one_sentence(info.value)
    assert "Lambda layer ('lambda_payload')" in text
    assert not marker.exists()


def test_payloads_are_real_when_safety_is_off(tmp_path, marker, monkeypatch):
    """Control: without digitpad's check and with Keras safe mode off, the payload does run."""
    path = _plain_save(inline_lambda_model(), tmp_path / "evil.keras")
    control = tmp_path / "control_marker"
    monkeypatch.setenv("DIGITPAD_TEST_MARKER", str(control))
    model = keras().saving.load_model(path, safe_mode=False)
    model(np.zeros((1, 28, 28, 1), "float32"))
    assert control.exists()
    # The Keras-2 fixture's marshalled bytecode is real too.
    control.unlink()
    legacy = keras().saving.load_model(FIXTURES / "keras2_lambda.h5", compile=False, safe_mode=False)
    legacy(np.zeros((1, 28, 28, 1), "float32"))
    assert control.exists()


def test_check_runs_before_keras(tmp_path, marker, monkeypatch):
    """The pre-flight check refuses a Lambda model even if Keras's own safe mode were missing."""
    path = _plain_save(lambda_model(), tmp_path / "evil.keras")
    marker.arm()

    def keras_must_not_load(*args, **kwargs):
        raise AssertionError("Keras was asked to load an unsafe file")

    monkeypatch.setattr(keras().saving, "load_model", keras_must_not_load)
    with pytest.raises(ModelFileError, match="digitpad refuses"):
        load_model(path)
    with pytest.raises(ModelFileError, match="Lambda"):
        check_model_file(path)


# ---------------------------------------------------------------------- hand-crafted configurations


def _layers(config):
    return config["config"]["layers"]


def _os_system_layer(config):
    _layers(config)[1] = {
        "module": "os", "class_name": "system", "registered_name": None,
        "config": {"command": "touch PAYLOAD_RAN", "name": "evil"},
    }


def _builtins_exec(config):
    _layers(config)[1]["registered_name"] = "builtins>exec"


def _custom_package(config):
    _layers(config)[1]["registered_name"] = "evilpkg>Backdoor"


def _custom_class(config):
    _layers(config)[1]["class_name"] = "Backdoor"


def _subprocess_popen(config):
    _layers(config)[1]["class_name"] = "Popen"
    _layers(config)[1]["module"] = "subprocess"


def _builtin_function_activation(config):
    _layers(config)[-1]["config"]["activation"] = {
        "module": "builtins", "class_name": "function", "config": "eval", "registered_name": "function",
    }


def _keras_utils_get_file(config):
    # CVE-2025-8747 style: a Keras function that is not a layer (downloads/writes files).
    _layers(config)[1] = {
        "module": "keras.utils", "class_name": "get_file", "registered_name": None,
        "config": {"fname": "x", "origin": "http://example.invalid/x", "name": "fetch"},
    }


def _serialized_lambda_dict(config):
    _layers(config)[-1]["config"]["activation"] = {
        "class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAAAAAAAAEAAAAB", "defaults": None, "closure": None},
    }


def _bytecode_string(config):
    # Marshalled code object (base64) hidden in an innocent-looking field.
    import base64
    import marshal

    code = marshal.dumps(compile("open('PAYLOAD_RAN','w')", "<x>", "exec"))
    _layers(config)[-1]["config"]["name"] = base64.b64encode(code).decode()


def _tfsm_layer(config):
    _layers(config)[1]["class_name"] = "TFSMLayer"


def _main_module(config):
    _layers(config)[1]["module"] = "__main__"


EDITS = {
    "os.system": (_os_system_layer, "os"),
    "builtins>exec": (_builtins_exec, "builtins>exec"),
    "custom package": (_custom_package, "evilpkg"),
    "custom class": (_custom_class, "Backdoor"),
    "subprocess.Popen": (_subprocess_popen, "subprocess"),
    "builtins eval function": (_builtin_function_activation, "eval"),
    "keras.utils.get_file": (_keras_utils_get_file, "get_file"),
    "__lambda__": (_serialized_lambda_dict, "code"),
    "bytecode string": (_bytecode_string, "bytecode"),
    "TFSMLayer": (_tfsm_layer, "TFSMLayer"),
    "__main__ module": (_main_module, "__main__"),
}


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("valid")
    model = tiny_model()
    return {".keras": _plain_save(model, folder / "ok.keras"), ".h5": _plain_save(model, folder / "ok.h5")}


@pytest.mark.parametrize("case", sorted(EDITS))
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_crafted_config_refused(tmp_path, marker, valid_files, case, suffix):
    edit, expected = EDITS[case]
    src = valid_files[suffix]
    dst = tmp_path / f"crafted{suffix}"
    if suffix == ".keras":
        rewrite_keras_config(src, dst, edit)
    else:
        rewrite_h5_config(src, dst, edit)
    marker.arm()
    cwd = os.getcwd()
    os.chdir(tmp_path)  # a payload writing relative paths would land here
    try:
        with pytest.raises(ModelFileError) as info:
            load_model(dst)
    finally:
        os.chdir(cwd)
    text = assert_one_sentence(info.value)
    assert "refuses" in text
    assert expected in text, text
    assert not (tmp_path / "PAYLOAD_RAN").exists()


def test_valid_files_pass_the_check(valid_files):
    assert check_model_file(valid_files[".keras"]) == "keras"
    assert check_model_file(valid_files[".h5"]) == "h5"
    assert load_model(valid_files[".keras"]).adaptations == []


# ------------------------------------------------------------------ broken or not-a-model files


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("fraction", [0.0005, 0.1, 0.5, 0.9, 0.999])
def test_truncated_files_refused(tmp_path, valid_files, suffix, fraction):
    data = valid_files[suffix].read_bytes()
    cut = max(1, int(len(data) * fraction))
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[:cut])
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert_one_sentence(info.value)


@pytest.mark.parametrize(("suffix", "where"), [(".keras", 1 / 3), (".keras", 0.9), (".h5", 0.0)])
def test_flipped_bytes_refused(tmp_path, valid_files, suffix, where):
    """Corrupted bytes: zip CRCs catch them anywhere in .keras; in .h5, damaged structure is caught.

    (HDF5 keeps no checksums of raw weight data, so flipped weight bytes in an .h5 file cannot be
    detected by anyone; non-finite results of such damage are refused by the NaN checks.)
    """
    data = bytearray(valid_files[suffix].read_bytes())
    start = max(16, int(len(data) * where))
    for pos in range(start, start + 64):
        data[pos] ^= 0xFF
    path = tmp_path / f"flipped{suffix}"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert_one_sentence(info.value)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_zero_bytes_refused(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.touch()
    with pytest.raises(ModelFileError, match="empty") as info:
        load_model(path)
    assert_one_sentence(info.value)


def test_png_renamed_h5_refused(tmp_path):
    from PIL import Image

    path = tmp_path / "digit.h5"
    Image.new("L", (28, 28), 0).save(path, format="PNG")
    with pytest.raises(ModelFileError, match="PNG image") as info:
        load_model(path)
    assert_one_sentence(info.value)


def test_hdf5_without_model_refused(tmp_path):
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(10)
    with pytest.raises(ModelFileError, match="has no model in it") as info:
        load_model(path)
    assert_one_sentence(info.value)


def test_weights_only_h5_refused(tmp_path):
    path = tmp_path / "only.weights.h5"
    tiny_model().save_weights(path)
    with pytest.raises(ModelFileError, match="has no model in it") as info:
        load_model(path)
    assert_one_sentence(info.value)


def test_zip_without_config_refused(tmp_path):
    path = tmp_path / "notes.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match="without config.json") as info:
        load_model(path)
    assert_one_sentence(info.value)


def test_missing_file_and_folder_refused(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist") as info:
        load_model(tmp_path / "nope.keras")
    assert_one_sentence(info.value)
    folder = tmp_path / "model.keras"
    folder.mkdir()
    with pytest.raises(ModelFileError, match="folder") as info:
        load_model(folder)
    assert_one_sentence(info.value)


def test_wrong_suffix_and_swapped_formats(tmp_path, valid_files):
    other = tmp_path / "model.pkl"
    other.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ModelFileError, match="use .keras or .h5"):
        load_model(other)
    swapped = tmp_path / "swapped.keras"
    shutil.copy(valid_files[".h5"], swapped)
    with pytest.raises(ModelFileError, match="rename it to .h5") as info:
        load_model(swapped)
    assert_one_sentence(info.value)


# ------------------------------------------------------------- models that are not digit classifiers


BAD_MODELS = {
    "input 32x32x3": (lambda: tiny_model((32, 32, 3)), r"\(None, 32, 32, 3\)"),
    "input 100": (lambda: tiny_model((100,)), r"\(None, 100\)"),
    "input 28x28x3": (lambda: tiny_model((28, 28, 3)), r"\(None, 28, 28, 3\)"),
    "26 classes": (lambda: tiny_model(classes=26), "has 26 outputs, not 10 digit classes"),
    "dense without flatten": (lambda: tiny_model(flatten=False), "without Flatten"),
    "NaN weights": (nan_model, "NaN"),
}


@pytest.mark.parametrize("case", sorted(BAD_MODELS))
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_not_a_digit_classifier(tmp_path, case, suffix):
    build, pattern = BAD_MODELS[case]
    path = _plain_save(build(), tmp_path / f"bad{suffix}")
    with pytest.raises(ModelFileError, match=pattern) as info:
        load_model(path)
    assert_one_sentence(info.value)


def test_refusals_do_not_go_through_save(tmp_path):
    """save_model writes these files fine: refusing them is load_model's job, not an accident."""
    path = save_model(tiny_model(classes=26), tmp_path / "letters.keras")
    assert path.exists()
    with pytest.raises(ModelFileError, match="26 outputs"):
        load_model(path)


@pytest.mark.parametrize(
    ("config_text", "pattern"),
    [
        (b"{not json", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON|nested too deeply"),
        (json.dumps([1, 2, 3]).encode(), "not a JSON object"),
        (json.dumps({"class_name": "Sequential"}).encode(), "without a model class"),
    ],
    ids=["garbage", "deeply-nested", "list", "no-config"],
)
def test_malformed_config_refused(tmp_path, valid_files, config_text, pattern):
    dst = tmp_path / "malformed.keras"
    with zipfile.ZipFile(valid_files[".keras"]) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, config_text if item.filename == "config.json" else zin.read(item))
    with pytest.raises(ModelFileError, match=pattern) as info:
        load_model(dst)
    assert_one_sentence(info.value)


def test_h5_payload_in_training_config_refused(tmp_path, valid_files):
    """.h5 files are loaded with compile=False, but serialized code in training_config is refused anyway."""
    dst = tmp_path / "trainer.h5"
    shutil.copy(valid_files[".h5"], dst)
    with h5py.File(dst, "a") as f:
        f.attrs["training_config"] = json.dumps(
            {"loss": {"class_name": "__lambda__", "config": {"code": "eA=="}}, "optimizer_config": {}}
        )
    with pytest.raises(ModelFileError, match="serialized Python code") as info:
        load_model(dst)
    assert_one_sentence(info.value)
