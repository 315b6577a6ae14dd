"""Verified export: each format round-trips with its own runtime; a bad export is never kept."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from digitpad import cli
from digitpad.core.export import (
    FORMATS,
    TOLERANCE,
    ExportError,
    check_out_path,
    export_model,
    keras_probabilities,
    verification_images,
    verify_export,
)
from digitpad.core.export import tflite as tflite_format

TARGETS = {"tflite": "model.tflite", "onnx": "model.onnx", "savedmodel": "model_savedmodel"}


def runtime_available(fmt: str) -> bool:
    from digitpad.core.export.common import installed

    return all(installed(m) for m in FORMATS[fmt].DEPENDENCIES)


def needs_runtime(fmt: str):
    return pytest.param(fmt, marks=pytest.mark.skipif(
        not runtime_available(fmt), reason=f"{fmt} needs pip install 'digitpad[export]'"))


@pytest.fixture(scope="module")
def small_model():
    """A ``fast`` model with seeded random weights: confident enough to show any difference."""
    from digitpad.core.archs import build_model
    from digitpad.core.tfsetup import keras

    keras().utils.set_random_seed(7)
    model = build_model("fast")
    model.set_weights([w * 3.0 for w in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def images():
    return verification_images()


def perturbed(model):
    from digitpad.core.tfsetup import keras

    clone = keras().models.clone_model(model)
    clone.set_weights([w + 0.05 for w in model.get_weights()])
    return clone


def test_verification_uses_1000_mnist_test_images(images):
    assert images.shape == (1000, 28, 28, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0 and images.max() > 0.5


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["tflite", needs_runtime("onnx"), "savedmodel"])
def test_each_format_round_trips_and_verifies(fmt, small_model, images, tmp_path):
    out = tmp_path / TARGETS[fmt]
    result = export_model(small_model, fmt, out)
    check = result.verification
    assert result.path == out and out.exists() and result.size_bytes > 10_000
    assert check.n_images == 1000 and 0.0 <= check.max_diff <= TOLERANCE
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary sibling left
    got = FORMATS[fmt].predict(out, images[:64])  # loaded again, independently
    want = keras_probabilities(small_model, images[:64])
    assert np.max(np.abs(got - want)) <= TOLERANCE
    assert got.argmax(1).tolist() == want.argmax(1).tolist()


@pytest.mark.slow
def test_a_corrupted_export_is_detected(small_model, images, tmp_path):
    out = export_model(small_model, "tflite", tmp_path / "m.tflite").path
    reference = keras_probabilities(small_model, images)
    data = out.read_bytes()
    out.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(ExportError, match="could not be run with LiteRT"):
        verify_export(tflite_format, out, images, reference)
    export_model(perturbed(small_model), "tflite", out)  # another model's weights
    with pytest.raises(ExportError, match="does not match the Keras model"):
        verify_export(tflite_format, out, images, reference)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["tflite", needs_runtime("onnx"), "savedmodel"])
def test_an_export_that_does_not_verify_is_not_left_in_place(fmt, small_model, tmp_path,
                                                            monkeypatch):
    module = FORMATS[fmt]
    real_write = module.write
    monkeypatch.setattr(module, "write", lambda model, path: real_write(perturbed(model), path))
    out = tmp_path / TARGETS[fmt]
    with pytest.raises(ExportError, match=r"differ by up to [0-9.e-]+ \(more than 1e-05\)"):
        export_model(small_model, fmt, out)
    assert list(tmp_path.iterdir()) == []
    if fmt == "tflite":  # an earlier export at the target stays as it was
        out.write_bytes(b"earlier export")
        with pytest.raises(ExportError):
            export_model(small_model, fmt, out)
        assert out.read_bytes() == b"earlier export" and list(tmp_path.iterdir()) == [out]


@pytest.mark.slow
def test_a_savedmodel_folder_is_replaced_whole(small_model, tmp_path):
    out = tmp_path / "sm"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    export_model(small_model, "savedmodel", out)
    assert (out / "saved_model.pb").is_file() and not (out / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["sm"]


def test_targets_and_formats_are_checked_first(tmp_path):
    with pytest.raises(ExportError, match=r"ending in \.tflite"):
        check_out_path(FORMATS["tflite"], tmp_path / "m.onnx")
    with pytest.raises(ExportError, match="does not exist"):
        check_out_path(FORMATS["onnx"], tmp_path / "no" / "m.onnx")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is a file"):
        check_out_path(FORMATS["savedmodel"], tmp_path / "file")
    with pytest.raises(ExportError, match="unknown export format 'pb'"):
        export_model(None, "pb", tmp_path / "m.pb")


def test_a_missing_optional_dependency_names_the_install_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # as if it were not installed
    rc = cli.main(["export", "whatever.keras", "--format", "onnx", "--out",
                   str(tmp_path / "m.onnx")])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and err == ("digitpad: error: onnx export needs the tf2onnx package, which is "
                               "not installed; install it with: pip install 'digitpad[export]'.")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_cli_export_prints_the_verification(small_model, tmp_path, capsys):
    from digitpad.core.modelfile import save_model

    model_path = save_model(small_model, tmp_path / "m.keras")
    out = tmp_path / "m.tflite"
    assert cli.main(["export", str(model_path), "--format", "tflite", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "verified with LiteRT on 1000 MNIST test images: max probability difference" in text
    assert out.is_file()
    assert cli.main(["export", str(model_path), "--format", "savedmodel", "--out",
                     str(tmp_path / "sm"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verified"] and report["runtime"] == "TensorFlow"
    assert report["images"] == 1000 and report["max_diff"] <= report["tolerance"] == TOLERANCE
