"""The security audit of a model file's configuration, before Keras sees the file.

:func:`check_model_file` reads the config with ``zipfile``/``h5py``/``json`` only (see
:mod:`~digitpad.core.modelfile.formats`) and refuses any model that names a ``Lambda``-like layer,
serialized Python code, a Python module outside Keras, a custom (non-Keras) registered object or a
class that is not a standard Keras one. Nothing from the file is imported or called.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from digitpad.core.errors import ModelFileError
from digitpad.core.modelfile.declared import declared_size
from digitpad.core.modelfile.formats import read_h5_config, read_keras_config, sniff_format
from digitpad.core.modelfile.layers import OWN_LAYERS
from digitpad.core.modelfile.limits import (
    MAX_ACTIVATION,
    check_config_structure,
    check_param_count,
    millions,
)
from digitpad.core.modelfile.sentences import fail
from digitpad.core.modelfile.snapshot import private_snapshot
from digitpad.core.tfsetup import keras

# Layers that carry or call arbitrary code, or load code/graphs from elsewhere.
CODE_LAYERS = {
    "Lambda": "a Lambda layer",
    "TFOpLambda": "a TFOpLambda layer",
    "SlicingOpLambda": "a SlicingOpLambda layer",
    "TFSMLayer": "a TFSMLayer (an external TensorFlow SavedModel)",
    "TorchModuleWrapper": "a TorchModuleWrapper layer (a pickled PyTorch module)",
    "JaxLayer": "a JaxLayer (a Python function)",
    "FlaxLayer": "a FlaxLayer (a Python module)",
}
# Keras's own markers for plain values inside configs: data, never code.
_SAFE_DUNDER_CLASSES = {"__keras_tensor__", "__tensor__", "__numpy__", "__ellipsis__", "__slice__"}
# Keras's markers for serialized code (or raw bytes that could hold it).
_CODE_DUNDER_CLASSES = {"__lambda__", "__python_function__", "__bytes__", "__typespec__"}
_CODE_KEYS = {"function", "function_type", "output_shape_module", "__lambda__", "__python_function__",
              "bytecode", "code", "closure"}
_EXTRA_CLASS_NAMES = {"Functional", "Sequential", "Model"}
_MAX_DEPTH = 200


@lru_cache(maxsize=1)
def _keras_names() -> tuple[frozenset[str], frozenset[str]]:
    """(class names, function names) of the standard Keras objects a model config may name.

    Built from Keras's public namespaces (layers, initializers, regularizers, constraints,
    activations, optimizers, schedules, losses, metrics, models, dtype policies). Nothing from a
    model file is imported or called here.
    """
    k = keras()
    class_spaces = [k.layers, k.initializers, k.regularizers, k.constraints, k.optimizers,
                    k.optimizers.schedules, k.losses, k.metrics, k.models, k.dtype_policies]
    function_spaces = [k.activations, k.losses, k.metrics]
    classes: set[str] = set(_EXTRA_CLASS_NAMES)
    for space in class_spaces:
        for name in dir(space):
            if not name.startswith("_") and isinstance(getattr(space, name, None), type):
                classes.add(name)
    functions: set[str] = set()
    for space in function_spaces:
        for name in dir(space):
            obj = getattr(space, name, None)
            if not name.startswith("_") and callable(obj) and not isinstance(obj, type):
                functions.add(name)
    # Never allow the code-carrying layers, whatever Keras exports.
    classes -= set(CODE_LAYERS)
    functions -= {"deserialize", "get", "serialize"}
    return frozenset(classes), frozenset(functions)


def _is_keras_module(module: str) -> bool:
    return module == "keras" or module.startswith("keras.")


def looks_like_bytecode(value: str) -> bool:
    """True for a base64 string that decodes to a marshalled Python code object (Keras 2 func_dump)."""
    if len(value) < 40:
        return False
    compact = "".join(value.split())
    if not re.fullmatch(r"[A-Za-z0-9+/=]+", compact):
        return False
    try:
        raw = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=False)
    except (binascii.Error, ValueError):
        return False
    # marshal.dumps(code) starts with TYPE_CODE ('c'), or'ed with FLAG_REF (0xe3) when the code
    # object is referenced; a little-endian int32 argument count (small) follows.
    if len(raw) <= 16 or raw[0] not in (0x63, 0xE3):
        return False
    return int.from_bytes(raw[1:5], "little") < 256


class ConfigWalker:
    """Walk a decoded model config and refuse anything that could make Keras run foreign code.

    Parameters
    ----------
    filename
        Name used in the refusal sentences.
    strict_classes
        True: every class must be a standard Keras one. False (the training config of an ``.h5``
        file, whose Keras-2 optimizers are named ``"Custom>SGD"``): only code is refused.
    """

    def __init__(self, filename: str, *, strict_classes: bool = True):
        self.filename = filename
        self.strict_classes = strict_classes
        self.classes, self.functions = _keras_names()
        self.context: list[str] = []   # names of the enclosing layers, for messages

    def refuse(self, what: str) -> ModelFileError:
        return fail(f"{self.filename} {what}; digitpad refuses such models")

    @staticmethod
    def _own_name(node: dict) -> str | None:
        cfg = node.get("config")
        if isinstance(cfg, dict) and isinstance(cfg.get("name"), str):
            return cfg["name"]
        if isinstance(node.get("name"), str):
            return node["name"]
        return None

    def _object_name(self, node: dict) -> str:
        """A quoted label for messages: the object's own name, else where it sits."""
        own = self._own_name(node)
        if own is not None:
            return repr(own[:60])
        return f"inside {self.context[-1]!r}" if self.context else "in the model"

    def walk(self, node: Any, depth: int = 0) -> None:
        """Check ``node`` and everything below it; raise ModelFileError at the first refusal."""
        if depth > _MAX_DEPTH:
            raise self.refuse("has a model configuration nested too deeply to be a real model")
        if isinstance(node, dict):
            self._check_dict(node)
            own = self._own_name(node) if "class_name" in node else None
            if own is not None:
                self.context.append(own[:60])
            try:
                for value in node.values():
                    self.walk(value, depth + 1)
            finally:
                if own is not None:
                    self.context.pop()
        elif isinstance(node, list):
            for value in node:
                self.walk(value, depth + 1)
        elif isinstance(node, str) and looks_like_bytecode(node):
            raise self.refuse("contains serialized Python bytecode, which would run code stored in the file")

    @staticmethod
    def _is_own(node: dict) -> bool:
        """True for a node naming one of digitpad's own layers (its class, module and name)."""
        registered = node.get("registered_name")
        return (isinstance(registered, str) and registered in OWN_LAYERS
                and node.get("class_name") == registered.partition(">")[2]
                and node.get("module") in (None, OWN_LAYERS[registered]))

    def _check_dict(self, node: dict) -> None:
        own = self._is_own(node)
        for key, value in node.items():
            if key in _CODE_KEYS and value not in (None, "", [], {}):
                raise self.refuse(
                    f"contains a serialized Python function (field '{key}'), "
                    "which would run code stored in the file"
                )
            if (key == "module" or key.endswith("_module")) and value is not None and not own:
                if not isinstance(value, str) or not (_is_keras_module(value) or value == "builtins"):
                    raise self.refuse(
                        f"names the Python module {value!r} outside Keras, "
                        "which could run code when the model is loaded"
                    )
        class_name = node.get("class_name")
        if class_name is None or own:
            return
        if not isinstance(class_name, str):
            raise self.refuse("has a malformed model configuration (a class name that is not text)")
        name = self._object_name(node)
        if class_name in CODE_LAYERS:
            raise self.refuse(
                f"contains {CODE_LAYERS[class_name]} ({name}), which would run code stored in the file"
            )
        if class_name in _CODE_DUNDER_CLASSES:
            raise self.refuse(
                f"contains serialized Python code ({class_name}, {name}), "
                "which would run code stored in the file"
            )
        if not self.strict_classes:
            if class_name == "function" and node.get("config") not in self.functions:
                raise self.refuse(
                    f"names the Python function {node.get('config')!s}, which is not a standard Keras function"
                )
            return
        if class_name == "function":
            self._check_function(node)
            return
        if node.get("module") == "builtins":
            raise self.refuse(
                f"names the Python built-in {class_name!r}, which could run code when the model is loaded"
            )
        self._check_registered(node, class_name)
        self._check_class(node, class_name)

    def _check_function(self, node: dict) -> None:
        fn = node.get("config")
        if not isinstance(fn, str) or fn not in self.functions:
            raise self.refuse(
                f"names the Python function {node.get('module') or '?'}.{fn!s}, which is not a "
                "standard Keras function and could run code when the model is loaded"
            )
        if node.get("registered_name") not in (None, "function", fn):
            raise self.refuse(f"names the custom object {node.get('registered_name')!r} (not part of Keras)")

    def _check_registered(self, node: dict, class_name: str) -> None:
        registered = node.get("registered_name")
        if registered is None:
            return
        if not isinstance(registered, str):
            raise self.refuse("has a malformed model configuration (a registered name that is not text)")
        if ">" in registered:
            package, _, short = registered.partition(">")
            if package == "keras" and short == class_name and class_name in self.classes:
                return
            where = "an unknown Keras object" if package == "keras" else f"from the package {package!r}"
            raise self.refuse(
                f"names the object {registered!r} ({where}), which is not a standard Keras object "
                "and could run code when the model is loaded"
            )
        if registered != class_name and registered not in self.classes:
            raise self.refuse(
                f"names the custom object {registered!r}, which is not part of Keras and could run "
                "code when the model is loaded"
            )

    def _check_class(self, node: dict, class_name: str) -> None:
        if class_name.startswith("__") and class_name.endswith("__"):
            if class_name not in _SAFE_DUNDER_CLASSES:
                raise self.refuse(f"contains the unknown serialized object {class_name!r}")
            return
        if class_name not in self.classes:
            raise self.refuse(
                f"uses {class_name!r} ({self._object_name(node)}), which is not a standard Keras "
                "layer or object (custom objects could run code when the model is loaded)"
            )


def check_snapshot(copy: Path, name: str) -> str:
    """Check the private snapshot ``copy`` of the model file called ``name``; its format.

    In order: the format (magic bytes); the archive or HDF5 structure with the declared sizes
    (:mod:`~digitpad.core.modelfile.limits`); the config's nesting, layer count and ``__numpy__``
    values; the security audit (:class:`ConfigWalker`); the weights and layer outputs the config
    declares (:mod:`~digitpad.core.modelfile.declared`). Keras is never involved.
    """
    fmt = sniff_format(copy, name)
    training = None
    if fmt == "keras":
        config = read_keras_config(copy, name)
    else:
        config, training = read_h5_config(copy, name)
    check_config_structure(config, name)
    ConfigWalker(name).walk(config)
    if training is not None:
        # digitpad loads .h5 files with compile=False, so Keras never deserialises the training
        # config; still refuse any serialized code in it (Keras 2 names optimizers "Custom>SGD",
        # so the class allow-list does not apply here).
        check_config_structure(training, name)
        ConfigWalker(name, strict_classes=False).walk(training)
    if not isinstance(config.get("class_name"), str) or not isinstance(config.get("config"), (dict, list)):
        raise fail(f"{name} has a model configuration without a model class, so it is not a Keras model")
    tally = declared_size(config, name)
    check_param_count(tally.params, name)
    if tally.largest_output > MAX_ACTIVATION:
        raise fail(f"{name} has a layer that outputs {millions(tally.largest_output)} numbers for "
                   f"one image, far more than any digit model (the limit is "
                   f"{millions(MAX_ACTIVATION)})")
    return fmt


def check_model_file(path: str | os.PathLike) -> str:
    """Inspect a model file before Keras sees it, without deserialising anything.

    The file is read once into a private snapshot (:func:`~digitpad.core.modelfile.snapshot.
    private_snapshot`) and the snapshot is checked (:func:`check_snapshot`).

    Parameters
    ----------
    path
        A ``.keras`` or ``.h5`` file.

    Returns
    -------
    str
        ``"keras"`` or ``"h5"``.

    Raises
    ------
    ModelFileError
        The file is missing, a folder, not a regular file (a FIFO, a device), empty, truncated or
        corrupt, not a Keras model (e.g. a PNG renamed ``.h5``, weights only, a zip without
        ``config.json``), over a size limit (weights, layers, nesting, unpacked size, layer
        outputs), or its configuration names a Lambda-like layer, serialized Python code, a module
        outside Keras, a custom registered object or a class that is not a standard Keras one.
    """
    path = Path(path)
    with private_snapshot(path) as copy:
        return check_snapshot(copy, path.name)


__all__ = ["CODE_LAYERS", "ConfigWalker", "check_model_file", "check_snapshot", "looks_like_bytecode"]
