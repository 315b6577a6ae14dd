"""Helpers shared by the untrusted-model tests: Keras, the payload, config rewriting."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import h5py
import numpy as np


def keras():
    """Keras, imported lazily through digitpad's quiet TensorFlow set-up."""
    from digitpad.core.tfsetup import keras as _keras

    return _keras()


def tiny_model(input_shape=(28, 28, 1), classes=10, activation="softmax", flatten=True):
    """A few-thousand-parameter model: optional strided conv, Flatten, Dense."""
    k = keras()
    layers = [k.Input(input_shape)]
    if len(input_shape) == 3:
        layers.append(k.layers.Conv2D(4, 3, strides=2, activation="relu"))
    if flatten:
        layers.append(k.layers.Flatten())
    layers.append(k.layers.Dense(classes, activation=activation))
    return k.Sequential(layers)


def nan_model():
    """:func:`tiny_model` with one NaN weight."""
    model = tiny_model()
    weights = model.get_weights()
    weights[0][0, 0, 0, 0] = np.nan
    model.set_weights(weights)
    return model


def payload(x):
    """A Lambda function that writes the marker file named by ``DIGITPAD_TEST_MARKER`` when run.

    It runs once when a model using it is *built* (symbolic call), with the marker variable pointing
    elsewhere; a loader that ran code from the file would run it again.
    """
    import os as _os

    with open(_os.environ["DIGITPAD_TEST_MARKER"], "w") as fh:
        fh.write("code from the model file ran\n")
    return x


def lambda_model():
    """A model whose Lambda layer runs :func:`payload`."""
    k = keras()
    return k.Sequential(
        [
            k.Input((28, 28, 1)),
            k.layers.Lambda(payload, name="evil_lambda"),
            k.layers.Flatten(),
            k.layers.Dense(10, activation="softmax"),
        ]
    )


def rewrite_keras_config(src: Path, dst: Path, edit) -> Path:
    """Copy a ``.keras`` zip to ``dst`` with ``edit(config)`` applied to its ``config.json``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            zout.writestr(item, data)
    return dst


def rewrite_h5_config(src: Path, dst: Path, edit) -> Path:
    """Copy an ``.h5`` model to ``dst`` with ``edit(config)`` applied to its ``model_config``."""
    shutil.copy(src, dst)
    with h5py.File(dst, "a") as f:
        config = json.loads(f.attrs["model_config"])
        edit(config)
        f.attrs["model_config"] = json.dumps(config)
    return dst


# ------------------------------------------------------------------ files that declare too much
# Each builder writes a small file (kilobytes) that declares something huge; issue 13 measured the
# memory each took before it was refused (in brackets).


def keras_file(folder: Path, name: str = "ok.keras", model=None) -> Path:
    """A plain Keras save of ``model`` (default :func:`tiny_model`) as ``folder/name``."""
    path = folder / name
    keras().saving.save_model(model if model is not None else tiny_model(), path)
    return path


def _drop_build_configs(node):
    if isinstance(node, dict):
        node.pop("build_config", None)
        for value in node.values():
            _drop_build_configs(value)
    elif isinstance(node, list):
        for value in node:
            _drop_build_configs(value)


def huge_dense(config):
    """Config edit: Input (32768,) then Dense(32768): 1,074 million weights declared [21 GB]."""
    layers = config["config"]["layers"]
    layers[0]["config"]["batch_shape"] = [None, 32768]
    layers[0]["config"].pop("batch_input_shape", None)
    dense = layers[-1]
    dense["config"]["units"] = 32768
    config["config"]["layers"] = [layers[0], dense]
    _drop_build_configs(config)


def numpy_node(dtype="V2000000000", value=0):
    """A ``__numpy__`` config value; the default asks numpy for a 2 GB void scalar [19 GB]."""
    return {"class_name": "__numpy__", "config": {"value": value, "dtype": dtype}}


def with_numpy_initializer(node):
    """Config edit: the Dense bias initializer becomes ``Constant(node)``."""

    def edit(config):
        config["config"]["layers"][-1]["config"]["bias_initializer"] = {
            "module": "keras.initializers", "class_name": "Constant", "registered_name": None,
            "config": {"value": node},
        }

    return edit


def many_layers(count):
    """Config edit: ``count`` parameter-free Activation layers before the Dense [500: 49 s]."""

    def edit(config):
        layers = config["config"]["layers"]
        extra = [{"module": "keras.layers", "class_name": "Activation", "registered_name": None,
                  "config": {"name": f"noop_{i}", "activation": "linear", "trainable": True,
                             "dtype": "float32"}} for i in range(count)]
        config["config"]["layers"] = layers[:-1] + extra + layers[-1:]
        _drop_build_configs(config)

    return edit


def many_calls(count):
    """Config edit (Functional models): the Dense layer claims ``count`` calls of itself."""

    def edit(config):
        dense = config["config"]["layers"][-1]
        dense["inbound_nodes"] = dense["inbound_nodes"] * count

    return edit


def deep_nesting(levels):
    """Config edit: a layer argument nested ``levels`` dicts deep."""

    def edit(config):
        node: dict = {}
        top = node
        for _ in range(levels):
            node["inner"] = {}
            node = node["inner"]
        config["config"]["layers"][-1]["config"]["kernel_regularizer"] = top

    return edit


def huge_upsampling(config):
    """Config edit: UpSampling2D(3000) after the conv, then global pooling (few weights):
    13x13x4 -> 39,000x39,000x4 numbers for one image."""
    layers = config["config"]["layers"]
    common = {"trainable": True, "dtype": "float32", "data_format": "channels_last"}
    layers[2:3] = [
        {"module": "keras.layers", "class_name": "UpSampling2D", "registered_name": None,
         "config": {"name": "blow_up", "size": [3000, 3000], "interpolation": "nearest", **common}},
        {"module": "keras.layers", "class_name": "GlobalAveragePooling2D", "registered_name": None,
         "config": {"name": "pool", "keepdims": False, **common}},
    ]
    _drop_build_configs(config)


def h5_with_huge_dataset(src: Path, dst: Path, values: int) -> Path:
    """Copy an ``.h5`` model with its first weight array replaced by an empty-chunk dataset of
    ``values`` float32 numbers (only metadata on disk) [4 GiB declared: 13 GB]."""
    shutil.copy(src, dst)
    with h5py.File(dst, "a") as f:
        names = []
        f.visititems(lambda key, obj: names.append(key) if isinstance(obj, h5py.Dataset) else None)
        target = names[0]
        del f[target]
        f.create_dataset(target, shape=(values,), dtype="float32", chunks=(1 << 20,))
    return dst


def keras_with_huge_weights(src: Path, dst: Path, values: int) -> Path:
    """Copy a ``.keras`` zip with its ``model.weights.h5`` replaced as in :func:`h5_with_huge_dataset`."""
    work = dst.parent / "weights_work"
    work.mkdir(exist_ok=True)
    with zipfile.ZipFile(src) as zin:
        zin.extract("model.weights.h5", work)
    weights = work / "model.weights.h5"
    h5_with_huge_dataset(weights, work / "huge.weights.h5", values)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename == "model.weights.h5":
                zout.write(work / "huge.weights.h5", "model.weights.h5")
            else:
                zout.writestr(item, zin.read(item))
    return dst


def keras_with_zip_bomb(src: Path, dst: Path, megabytes: int) -> Path:
    """Copy a ``.keras`` zip plus an ``assets/`` entry of ``megabytes`` MB of zeros, deflated to
    about 1/1000 of that (Keras would extract it to the temp folder) [1.8 MB file: 1.75 GB]."""
    shutil.copy(src, dst)
    zeros = bytes(1024 * 1024)
    with zipfile.ZipFile(dst, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("assets/padding.bin", "w", force_zip64=True) as entry:
            for _ in range(megabytes):
                entry.write(zeros)
    return dst


def set_zip_flag(path: Path, entry: str, bit: int) -> Path:
    """Set general-purpose flag ``bit`` (1: encrypted) of ``entry`` in both zip headers, in place."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(entry)
    data[info.header_offset + 6] |= bit                 # local file header
    name = entry.encode()
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:                                      # central directory record of ``entry``
        length = int.from_bytes(data[pos + 28: pos + 30], "little")
        if bytes(data[pos + 46: pos + 46 + length]) == name:
            data[pos + 8] |= bit
        pos = data.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(data))
    return path


def write_keras_metadata(src: Path, dst: Path, text: str) -> Path:
    """Copy a ``.keras`` zip with ``digitpad.json`` set to ``text``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename != "digitpad.json":
                zout.writestr(item, zin.read(item))
        zout.writestr("digitpad.json", text)
    return dst
