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
