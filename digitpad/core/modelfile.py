"""Safe loading and saving of Keras model files (``.keras`` and legacy ``.h5``).

Loading never runs code stored in a file. Two lines of defence:

1. :func:`check_model_file` inspects the file with ``zipfile``/``h5py``/``json`` only, before Keras
   sees it: it refuses missing, empty, truncated or corrupt files, files that are not models, and any
   model configuration that names a ``Lambda``-like layer, serialized Python code, a Python module
   outside Keras, a custom (non-Keras) registered object or a class that is not a standard Keras one.
2. :func:`load_model` then calls ``keras.saving.load_model`` with ``safe_mode=True`` (always) and turns
   every exception into a :class:`~digitpad.core.errors.ModelFileError` with one sentence.

A loaded model is checked and adapted to the digitpad convention: input float32 ``(N, 28, 28, 1)``
in [0, 1], output softmax probabilities ``(N, 10)``. Flat ``(784,)`` and ``(28, 28)`` inputs get a
``Reshape`` in front, a logits output gets a ``Softmax`` behind; what was adapted is reported.

Saving is atomic (temporary file in the target folder, then ``os.replace``) and stores digitpad's
metadata inside the file: a ``digitpad.json`` zip entry in ``.keras`` files, a root attribute
``digitpad`` (JSON text) in ``.h5`` files.
"""

from __future__ import annotations

import base64
import binascii
import errno
import json
import os
import re
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.core.atomic import atomic_path
from digitpad.core.errors import ModelFileError
from digitpad.core.tfsetup import keras

__all__ = [
    "LoadedModel",
    "check_model_file",
    "load_model",
    "save_model",
    "read_metadata",
    "describe",
    "METADATA_ENTRY",
    "METADATA_ATTR",
]

METADATA_ENTRY = "digitpad.json"   # zip entry inside .keras files
METADATA_ATTR = "digitpad"         # root attribute of .h5 files

_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_MAX_CONFIG_BYTES = 64 * 1024 * 1024     # a model config larger than this is not an MNIST model
_MAX_METADATA_BYTES = 4 * 1024 * 1024
_MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024
_STALE_TEMP_AGE_S = 60.0

# Layers that carry or call arbitrary code, or load code/graphs from elsewhere.
_CODE_LAYERS = {
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
_MODEL_SUFFIXES = {".keras": "keras", ".h5": "h5", ".hdf5": "h5"}


@dataclass
class LoadedModel:
    """A model read from a file, adapted to digitpad's input/output convention.

    Attributes
    ----------
    model
        Keras model: input ``(None, 28, 28, 1)`` float in [0, 1], output softmax ``(None, 10)``.
    path
        File it came from.
    format
        ``"keras"`` or ``"h5"``.
    adaptations
        Human-readable list of what was adapted (empty if the file already matched).
    metadata
        digitpad metadata stored in the file (architecture, config, metrics, data, date) or ``{}``.
    optimizer_state
        True when the file is a ``.keras`` model with a compiled, trained optimizer whose state
        (iterations and slots) was restored, so training continues exactly where it stopped; False
        means training continues with a fresh optimizer (always for ``.h5``).
    name
        Display name: the metadata's architecture, else the file stem.
    """

    model: Any
    path: Path
    format: str
    adaptations: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    optimizer_state: bool = False
    name: str = ""


# ---------------------------------------------------------------------------------------------
# Pre-flight check (no Keras deserialisation)
# ---------------------------------------------------------------------------------------------

def _sentence(text: str) -> str:
    """Collapse ``text`` to one line and make sure it ends like a sentence."""
    text = " ".join(str(text).split())
    if len(text) > 300:
        text = text[:297].rstrip() + "..."
    if not text.endswith((".", "!", "?")):
        text += "."
    return text


def _fail(message: str) -> ModelFileError:
    return ModelFileError(_sentence(message))


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
    classes -= set(_CODE_LAYERS)
    functions -= {"deserialize", "get", "serialize"}
    return frozenset(classes), frozenset(functions)


def _is_keras_module(module: str) -> bool:
    return module == "keras" or module.startswith("keras.")


def _looks_like_bytecode(value: str) -> bool:
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


class _ConfigWalker:
    """Walk a decoded model config and refuse anything that could make Keras run foreign code."""

    def __init__(self, filename: str, *, strict_classes: bool = True):
        self.filename = filename
        self.strict_classes = strict_classes
        self.classes, self.functions = _keras_names()
        self.context: list[str] = []   # names of the enclosing layers, for messages

    def refuse(self, what: str) -> ModelFileError:
        return _fail(f"{self.filename} {what}; digitpad refuses such models")

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
        if depth > 200:
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
        elif isinstance(node, str) and _looks_like_bytecode(node):
            raise self.refuse("contains serialized Python bytecode, which would run code stored in the file")

    def _check_dict(self, node: dict) -> None:
        for key, value in node.items():
            if key in _CODE_KEYS and value not in (None, "", [], {}):
                raise self.refuse(
                    f"contains a serialized Python function (field '{key}'), "
                    "which would run code stored in the file"
                )
            if (key == "module" or key.endswith("_module")) and value is not None:
                if not isinstance(value, str) or not (_is_keras_module(value) or value == "builtins"):
                    raise self.refuse(
                        f"names the Python module {value!r} outside Keras, "
                        "which could run code when the model is loaded"
                    )
        class_name = node.get("class_name")
        if class_name is None:
            return
        if not isinstance(class_name, str):
            raise self.refuse("has a malformed model configuration (a class name that is not text)")
        name = self._object_name(node)
        if class_name in _CODE_LAYERS:
            raise self.refuse(
                f"contains {_CODE_LAYERS[class_name]} ({name}), which would run code stored in the file"
            )
        if class_name in _CODE_DUNDER_CLASSES:
            raise self.refuse(
                f"contains serialized Python code ({class_name}, {name}), "
                "which would run code stored in the file"
            )
        registered = node.get("registered_name")
        module = node.get("module")
        if not self.strict_classes:
            if class_name == "function" and node.get("config") not in self.functions:
                raise self.refuse(
                    f"names the Python function {node.get('config')!s}, which is not a standard Keras function"
                )
            return
        if class_name == "function":
            fn = node.get("config")
            if not isinstance(fn, str) or fn not in self.functions:
                raise self.refuse(
                    f"names the Python function {module or '?'}.{fn!s}, which is not a standard Keras "
                    "function and could run code when the model is loaded"
                )
            if registered not in (None, "function", fn):
                raise self.refuse(f"names the custom object {registered!r} (not part of Keras)")
            return
        if module == "builtins":
            raise self.refuse(
                f"names the Python built-in {class_name!r}, which could run code when the model is loaded"
            )
        if registered is not None:
            if not isinstance(registered, str):
                raise self.refuse("has a malformed model configuration (a registered name that is not text)")
            if ">" in registered:
                package, _, short = registered.partition(">")
                if package == "keras" and short == class_name and class_name in self.classes:
                    return self._check_class(node, class_name)
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
        self._check_class(node, class_name)

    def _check_class(self, node: dict, class_name: str) -> None:
        name = self._object_name(node)
        if class_name.startswith("__") and class_name.endswith("__"):
            if class_name not in _SAFE_DUNDER_CLASSES:
                raise self.refuse(f"contains the unknown serialized object {class_name!r}")
            return
        if self.strict_classes and class_name not in self.classes:
            raise self.refuse(
                f"uses {class_name!r} ({name}), which is not a standard Keras layer or object "
                "(custom objects could run code when the model is loaded)"
            )


def _file_header(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(1032)


def _has_hdf5_signature(header: bytes) -> bool:
    # The HDF5 superblock sits at 0, 512, 1024, ... (after an optional user block).
    return any(header[off: off + 8] == _HDF5_MAGIC for off in (0, 512, 1024))


def _parse_json(text: bytes | str, filename: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _fail(f"{filename} has a {what} that is not valid JSON, so it is corrupt") from None


def _read_keras_zip_config(path: Path) -> dict:
    name = path.name
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(info.file_size for info in zf.infolist())
            if total > _MAX_UNPACKED_BYTES:
                raise _fail(
                    f"{name} would unpack to {total // (1024 * 1024)} MB, far more than any digit model; "
                    "it is refused as a possible zip bomb"
                )
            bad = zf.testzip()  # reads every entry: CRC errors reveal corruption anywhere
            if bad is not None:
                raise _fail(f"{name} is corrupt (the checksum of its entry {bad!r} does not match)")
            names = set(zf.namelist())
            if "config.json" not in names:
                raise _fail(f"{name} is a zip file without config.json, so it is not a Keras model")
            info = zf.getinfo("config.json")
            if info.file_size > _MAX_CONFIG_BYTES:
                raise _fail(f"{name} has a model configuration of {info.file_size} bytes, far too big to be real")
            if not any(n.endswith(".h5") or n.endswith(".npz") for n in names):
                raise _fail(f"{name} has no weights file inside, so it is not a complete Keras model")
            raw = zf.read("config.json")
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError):
        raise _fail(f"{name} is corrupt or truncated (not a readable zip archive)") from None
    config = _parse_json(raw, name, "model configuration")
    if not isinstance(config, dict):
        raise _fail(f"{name} has a model configuration that is not a JSON object, so it is not a Keras model")
    return config


def _h5_attr_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _h5_attr_text(value.item())
    return str(value)


def _read_h5_config(path: Path) -> tuple[dict, dict | None]:
    import h5py

    name = path.name
    try:
        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs:
                if "model_weights" in f or "layer_names" in f.attrs or "layers" in f:
                    raise _fail(f"{name} has no model in it (it holds only weights, not a model architecture)")
                raise _fail(f"{name} has no model in it (an HDF5 file without a Keras model configuration)")
            config_text = _h5_attr_text(f.attrs["model_config"])
            training_text = _h5_attr_text(f.attrs["training_config"]) if "training_config" in f.attrs else None
            if "model_weights" not in f and not any(isinstance(f[k], h5py.Group) for k in f):
                raise _fail(f"{name} has a model configuration but no weights, so it is incomplete")
    except ModelFileError:
        raise
    except Exception as exc:  # h5py raises OSError/KeyError/RuntimeError for damaged files
        text = str(exc)
        found = re.search(r"eof = (\d+).*stored_eof = (\d+)", text)
        if found:
            raise _fail(
                f"{name} is truncated (it ends after {found.group(1)} of its {found.group(2)} bytes)"
            ) from None
        raise _fail(f"{name} is corrupt or truncated (not a readable HDF5 file)") from None
    if len(config_text) > _MAX_CONFIG_BYTES:
        raise _fail(f"{name} has a model configuration far too big to be real")
    config = _parse_json(config_text, name, "model configuration")
    if not isinstance(config, dict):
        raise _fail(f"{name} has a model configuration that is not a JSON object, so it is not a Keras model")
    training = None
    if training_text:
        training = _parse_json(training_text, name, "training configuration")
    return config, training if isinstance(training, dict) else None


def check_model_file(path: str | os.PathLike) -> str:
    """Inspect a model file before Keras sees it, without deserialising anything.

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
        The file is missing, a folder, empty, truncated or corrupt, not a Keras model (e.g. a PNG
        renamed ``.h5``, weights only, a zip without ``config.json``), or its configuration names a
        Lambda-like layer, serialized Python code, a module outside Keras, a custom registered object
        or a class that is not a standard Keras one.
    """
    path = Path(path)
    name = path.name
    if not path.exists():
        raise _fail(f"model file {path} does not exist")
    if path.is_dir():
        raise _fail(f"{path} is a folder, not a model file (use a .keras or .h5 file)")
    suffix = path.suffix.lower()
    if suffix not in _MODEL_SUFFIXES:
        raise _fail(f"{name} is not a model file name; use .keras or .h5")
    try:
        size = path.stat().st_size
        header = _file_header(path)
    except OSError as exc:
        raise _fail(f"cannot read {name}: {exc.strerror or exc}") from None
    if size == 0:
        raise _fail(f"{name} is empty (0 bytes), so it is not a model")
    expected = _MODEL_SUFFIXES[suffix]
    if header.startswith(_PNG_MAGIC):
        raise _fail(f"{name} is a PNG image, not a model file")
    is_zip = header.startswith(_ZIP_MAGIC)
    is_h5 = _has_hdf5_signature(header)
    if expected == "keras" and not is_zip:
        if is_h5:
            raise _fail(f"{name} is an HDF5 (.h5) model file with a .keras name; rename it to .h5")
        raise _fail(f"{name} is not a Keras model file (it is not a .keras zip archive, or it is corrupt or truncated)")
    if expected == "h5" and not is_h5:
        if is_zip:
            raise _fail(f"{name} is a .keras zip archive with an .h5 name; rename it to .keras")
        raise _fail(f"{name} is not a Keras model file (it is not an HDF5 file, or it is corrupt or truncated)")

    walker = _ConfigWalker(name)
    if expected == "keras":
        config = _read_keras_zip_config(path)
        walker.walk(config)
    else:
        config, training = _read_h5_config(path)
        walker.walk(config)
        if training is not None:
            # digitpad loads .h5 files with compile=False, so Keras never deserialises the training
            # config; still refuse any serialized code in it (Keras 2 names optimizers "Custom>SGD",
            # so the class allow-list does not apply here).
            _ConfigWalker(name, strict_classes=False).walk(training)
    if not isinstance(config.get("class_name"), str) or not isinstance(config.get("config"), (dict, list)):
        raise _fail(f"{name} has a model configuration without a model class, so it is not a Keras model")
    return expected




# ---------------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------------

def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if hasattr(obj, "item"):
        try:
            return obj.item()
        except Exception:
            pass
    if isinstance(obj, (set, tuple)):
        return list(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)


def _metadata_json(metadata: dict | None) -> str:
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise _fail("model metadata must be a dictionary")
    return json.dumps(metadata, default=_json_default, sort_keys=True)


def read_metadata(path: str | os.PathLike) -> dict:
    """Read digitpad's metadata stored inside a model file, without loading the model.

    Parameters
    ----------
    path
        A ``.keras`` or ``.h5`` file.

    Returns
    -------
    dict
        The metadata (architecture, training config, metrics, data, date, ...) or ``{}`` when the
        file has none (e.g. a model saved by plain Keras).

    Raises
    ------
    ModelFileError
        The file is missing or is not a readable ``.keras``/``.h5`` file.
    """
    path = Path(path)
    if not path.is_file():
        raise _fail(f"model file {path} does not exist")
    suffix = path.suffix.lower()
    text: str | None = None
    try:
        if _MODEL_SUFFIXES.get(suffix) == "keras":
            with zipfile.ZipFile(path) as zf:
                try:
                    info = zf.getinfo(METADATA_ENTRY)
                except KeyError:
                    return {}
                if info.file_size > _MAX_METADATA_BYTES:
                    return {}
                text = zf.read(info).decode("utf-8")
        elif _MODEL_SUFFIXES.get(suffix) == "h5":
            import h5py

            with h5py.File(path, "r") as f:
                if METADATA_ATTR not in f.attrs:
                    return {}
                text = _h5_attr_text(f.attrs[METADATA_ATTR])
        else:
            raise _fail(f"{path.name} is not a model file name; use .keras or .h5")
    except ModelFileError:
        raise
    except Exception as exc:
        raise _fail(f"cannot read the metadata of {path.name}: it is corrupt or not a model file ({exc})") from None
    if text is None or len(text) > _MAX_METADATA_BYTES:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _write_metadata(tmp: Path, fmt: str, text: str) -> None:
    if fmt == "keras":
        with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED) as zf:
            if METADATA_ENTRY in zf.namelist():  # pragma: no cover - Keras never writes it
                raise _fail("the model file already has a digitpad.json entry")
            zf.writestr(METADATA_ENTRY, text)
    else:
        import h5py

        with h5py.File(tmp, "a") as f:
            f.attrs[METADATA_ATTR] = text


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------

def _shape_text(shape: Any) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _single_shape(shape: Any, what: str, name: str) -> tuple:
    if isinstance(shape, list):
        if len(shape) != 1:
            raise _fail(f"{name} has {len(shape)} {what}s; digitpad needs a model with one image input and one output")
        shape = shape[0]
    if isinstance(shape, dict):
        raise _fail(f"{name} has named {what}s; digitpad needs a model with one image input and one output")
    return tuple(None if d is None else int(d) for d in shape)


def _last_activation(model: Any) -> str | None:
    """Name of the final activation of ``model`` from its layer configs, or None if unknown."""
    k = keras()
    layer = model.layers[-1] if getattr(model, "layers", None) else None
    if layer is None:
        return None
    if isinstance(layer, k.Model):
        return _last_activation(layer)
    if isinstance(layer, k.layers.Softmax):
        return "softmax"
    try:
        cfg = layer.get_config()
    except Exception:
        return None
    act = cfg.get("activation")
    if isinstance(act, str):
        return act
    if isinstance(act, dict):
        inner = act.get("config")
        return inner if isinstance(inner, str) else act.get("class_name")
    return None


def _probe_inputs(input_shape: tuple) -> np.ndarray:
    rng = np.random.default_rng(1234)
    n = 6
    x = rng.random((n, 28, 28), dtype=np.float32)
    x[0] = 0.0
    x[1] = 1.0
    x[2] = (x[2] > 0.8).astype(np.float32)
    return x.reshape((n, *input_shape[1:]))


def _adapt(model: Any, fmt: str, name: str) -> tuple[Any, list[str]]:
    """Check the model's input/output and wrap it into a 28x28x1 -> softmax(10) model if needed."""
    k = keras()
    in_shape = _single_shape(model.input_shape, "input", name)
    out_shape = _single_shape(model.output_shape, "output", name)
    if len(in_shape) == 0 or in_shape[0] is not None:
        raise _fail(
            f"{name} has a fixed batch size in its input shape {_shape_text(in_shape)}; "
            "digitpad needs the batch dimension to be free (None)"
        )
    adaptations: list[str] = []
    body = in_shape[1:]
    if body == (28, 28, 1):
        reshape = None
    elif body == (28, 28):
        reshape = (28, 28)
        adaptations.append("input (28, 28) reshaped from 28x28x1")
    elif body == (784,):
        reshape = (784,)
        adaptations.append("input (784,) reshaped from 28x28x1")
    elif body == (1, 28, 28):
        raise _fail(
            f"{name} expects channels-first input {_shape_text(in_shape)}; "
            "digitpad needs a 28x28 grey image input, channels last (28, 28, 1), (28, 28) or (784,)"
        )
    else:
        raise _fail(
            f"{name} expects input of shape {_shape_text(in_shape)}, which is not a 28x28 grey image "
            "((28, 28, 1), (28, 28) or (784,))"
        )
    if len(out_shape) != 2:
        if out_shape and out_shape[-1] == 10:
            raise _fail(
                f"{name} outputs shape {_shape_text(out_shape)} instead of (None, 10): a Dense layer was "
                "applied without Flatten, so it does not give one prediction per image"
            )
        raise _fail(f"{name} outputs shape {_shape_text(out_shape)}, not (None, 10) digit classes")
    if out_shape[1] != 10:
        raise _fail(f"{name} has {out_shape[1]} outputs, not 10 digit classes")

    # NaN/inf weights make every prediction meaningless.
    for w in model.weights:
        values = k.ops.convert_to_numpy(w.value if hasattr(w, "value") else w)
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise _fail(f"{name} cannot be used: its weights contain NaN or infinite values ({w.path})")

    probe = _probe_inputs(in_shape)
    try:
        out = k.ops.convert_to_numpy(model(probe, training=False))
    except Exception as exc:
        raise _fail(f"{name} failed on a test input: {exc}") from None
    if not np.all(np.isfinite(out)):
        raise _fail(f"{name} produces NaN or infinite outputs, so it cannot be used")
    is_probabilities = bool(np.all(out >= -1e-6) and np.allclose(out.sum(axis=1), 1.0, atol=1e-3))
    activation = _last_activation(model)
    add_softmax = not is_probabilities
    if add_softmax:
        kind = "logits" if activation in (None, "linear") else f"{activation} scores"
        adaptations.append(f"softmax added to {kind} output")

    if reshape is None and not add_softmax:
        return model, adaptations

    inp = k.Input((28, 28, 1), name="image")
    x = inp
    if reshape is not None:
        x = k.layers.Reshape(reshape, name="to_model_input")(x)
    x = model(x)
    if add_softmax:
        x = k.layers.Softmax(name="probabilities")(x)
    adapted = k.Model(inp, x, name=f"{model.name}_adapted" if model.name else "adapted")
    if getattr(model, "compiled", False) and getattr(model, "optimizer", None) is not None:
        loss = getattr(model, "loss", None)
        if add_softmax:
            loss = _probability_loss(loss)
        try:
            adapted.compile(optimizer=model.optimizer, loss=loss, metrics=["accuracy"])
        except Exception:
            pass
    return adapted, adaptations


def _probability_loss(loss: Any) -> Any:
    """The same loss on probabilities instead of logits (used when a Softmax was appended)."""
    k = keras()
    if isinstance(loss, k.losses.Loss):
        try:
            cfg = loss.get_config()
            if cfg.get("from_logits"):
                cfg["from_logits"] = False
                return type(loss).from_config(cfg)
        except Exception:
            pass
        return loss
    return "sparse_categorical_crossentropy"


def _has_optimizer_state(model: Any) -> bool:
    if not getattr(model, "compiled", False):
        return False
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return False
    try:
        # A compiled but never trained optimizer has no state worth keeping.
        return bool(opt.built and len(opt.variables) > 0 and int(opt.iterations.numpy()) > 0)
    except Exception:
        return False


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Load a ``.keras`` or ``.h5`` model safely and adapt it to digitpad's convention.

    Parameters
    ----------
    path
        Model file. ``.keras`` files are loaded compiled (the optimizer state is kept); ``.h5``
        files uncompiled (Keras 3 cannot restore their optimizer state; training continues with a
        fresh optimizer).

    Returns
    -------
    LoadedModel
        Input ``(None, 28, 28, 1)`` float in [0, 1], output softmax ``(None, 10)``.

    Raises
    ------
    ModelFileError
        Anything :func:`check_model_file` refuses; Keras failing to load the file; an input that is
        not a 28x28 grey image; an output that is not 10 classes; NaN weights.
    """
    path = Path(path)
    fmt = check_model_file(path)
    name = path.name
    k = keras()
    try:
        with warnings.catch_warnings():
            # e.g. "Skipping variable loading for optimizer" for a compiled but never trained model
            warnings.simplefilter("ignore")
            model = k.saving.load_model(path, compile=(fmt == "keras"), safe_mode=True)
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        if "lambda" in text.lower() or "safe_mode" in text or "unsafe" in text.lower():
            raise _fail(f"{name} contains code that Keras refuses to load in safe mode ({text[:150]})") from None
        raise _fail(f"{name} could not be loaded by Keras: {text[:200]}") from None
    if not isinstance(model, k.Model):
        raise _fail(f"{name} does not contain a Keras model")
    optimizer_state = fmt == "keras" and _has_optimizer_state(model)
    adapted, adaptations = _adapt(model, fmt, name)
    metadata = read_metadata(path)
    arch = metadata.get("arch") if isinstance(metadata.get("arch"), str) else None
    return LoadedModel(
        model=adapted,
        path=path,
        format=fmt,
        adaptations=adaptations,
        metadata=metadata,
        optimizer_state=optimizer_state,
        name=arch or path.stem,
    )


# ---------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------

def _os_error_sentence(exc: BaseException, path: Path) -> str | None:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno is not None:
            if cur.errno == errno.ENOSPC:
                return f"cannot save {path.name}: the disk is full (the previous file, if any, is unchanged)"
            if cur.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                return f"cannot save {path.name}: no permission to write in {path.parent}"
            if cur.errno == errno.ENOENT:
                return f"cannot save {path.name}: the folder {path.parent} does not exist"
            if cur.errno == errno.EDQUOT:
                return f"cannot save {path.name}: the disk quota is exceeded"
            return f"cannot save {path.name}: {cur.strerror or cur}"
        cur = cur.__cause__ or cur.__context__
    text = " ".join(str(exc).split()).lower()
    if "no space" in text or "disk full" in text:
        return f"cannot save {path.name}: the disk is full (the previous file, if any, is unchanged)"
    if "permission denied" in text or "read-only" in text:
        return f"cannot save {path.name}: no permission to write in {path.parent}"
    return None


def _remove_stale_temps(path: Path) -> None:
    """Delete temporary files left by an earlier save of ``path`` that was killed midway."""
    now = time.time()
    try:
        candidates = list(path.parent.glob(f".{path.name}.*{path.suffix}"))
    except OSError:
        return
    for tmp in candidates:
        try:
            if now - tmp.stat().st_mtime > _STALE_TEMP_AGE_S:
                tmp.unlink()
        except OSError:
            pass


def save_model(model: Any, path: str | os.PathLike, *, metadata: dict | None = None) -> Path:
    """Save ``model`` atomically as ``.keras`` or ``.h5`` with digitpad metadata inside.

    Parameters
    ----------
    model
        A Keras model.
    path
        Target file; the suffix picks the format (``.keras`` or ``.h5``).
    metadata
        JSON-serialisable dictionary (architecture, config, metrics, data, date, ...).

    Returns
    -------
    Path
        The saved file.

    Raises
    ------
    ModelFileError
        Unsupported suffix, missing or read-only folder, full disk, or Keras failing to save. The
        previous file (if any) is left intact, no temporary file is left behind and the model in
        memory is unchanged.

    Notes
    -----
    Keras 3 pops ``optimizer`` from the live model's compile config when it writes ``.h5``; the
    compile config is restored afterwards so a later ``.keras`` save still has the optimizer.
    """
    path = Path(path)
    fmt = _MODEL_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise _fail(f"cannot save {path.name}: use .keras or .h5 as the file name suffix")
    k = keras()
    if not isinstance(model, k.Model):
        raise _fail(f"cannot save {path.name}: the object to save is not a Keras model")
    meta_text = _metadata_json(metadata)
    if path.is_dir():
        raise _fail(f"cannot save {path.name}: {path} is a folder")
    if not path.parent.is_dir():
        raise _fail(f"cannot save {path.name}: the folder {path.parent} does not exist")
    _remove_stale_temps(path)
    compile_cfg = getattr(model, "_compile_config", None)
    snapshot = dict(compile_cfg.config) if compile_cfg is not None and isinstance(
        getattr(compile_cfg, "config", None), dict) else None
    try:
        with atomic_path(path) as tmp:
            k.saving.save_model(model, tmp)
            _write_metadata(tmp, fmt, meta_text)
    except ModelFileError:
        raise
    except Exception as exc:
        sentence = _os_error_sentence(exc, path)
        if sentence is None:
            text = " ".join(str(exc).split()) or type(exc).__name__
            sentence = f"cannot save {path.name}: {text[:200]}"
        raise _fail(sentence) from None
    finally:
        if snapshot is not None:
            compile_cfg.config.clear()
            compile_cfg.config.update(snapshot)
    return path


# ---------------------------------------------------------------------------------------------
# Describe (for `digitpad info`)
# ---------------------------------------------------------------------------------------------

def _layer_rows(model: Any, prefix: str = "") -> list[tuple[str, str, str, int]]:
    k = keras()
    rows: list[tuple[str, str, str, int]] = []
    for layer in model.layers:
        if isinstance(layer, k.Model):
            rows.extend(_layer_rows(layer, prefix + layer.name + "/"))
            continue
        try:
            shape = _shape_text(tuple(layer.output.shape))
        except Exception:
            try:
                shape = _shape_text(tuple(layer.compute_output_shape(layer.input.shape)))
            except Exception:
                shape = "?"
        rows.append((prefix + layer.name, type(layer).__name__, shape, int(layer.count_params())))
    return rows


def describe(path: str | os.PathLike) -> dict:
    """Summarise a model file for ``digitpad info``.

    Parameters
    ----------
    path
        A ``.keras`` or ``.h5`` file (loaded safely through :func:`load_model`).

    Returns
    -------
    dict
        ``path``, ``name``, ``format``, ``file_size`` (bytes), ``layers`` (list of
        ``(name, class, output shape, params)``), ``summary`` (text table of the layers),
        ``total_params``, ``trainable_params``, ``input`` (shape as the file defines it and as
        digitpad feeds it), ``output``, ``adaptations``, ``metadata``, ``optimizer`` (class name or
        None) and ``optimizer_state`` (bool).

    Raises
    ------
    ModelFileError
        Whatever :func:`load_model` refuses.
    """
    loaded = load_model(path)
    model = loaded.model
    rows = _layer_rows(model)
    inner_input = None
    inner = [layer for layer in model.layers if isinstance(layer, keras().Model)]
    source = inner[0] if inner and loaded.adaptations else model
    try:
        inner_input = _shape_text(_single_shape(source.input_shape, "input", loaded.path.name))
    except ModelFileError:
        inner_input = "?"
    optimizer = getattr(source, "optimizer", None) if getattr(source, "compiled", False) else None
    widths = [max(len(r[i]) for r in rows + [("Layer", "Class", "Output shape")]) for i in range(3)]
    lines = [f"{'Layer':<{widths[0]}}  {'Class':<{widths[1]}}  {'Output shape':<{widths[2]}}  Params"]
    for r in rows:
        lines.append(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")
    trainable = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    return {
        "path": str(loaded.path),
        "name": loaded.name,
        "format": loaded.format,
        "file_size": loaded.path.stat().st_size,
        "layers": rows,
        "summary": "\n".join(lines),
        "total_params": int(model.count_params()),
        "trainable_params": trainable,
        "input": {"file": inner_input, "digitpad": "(None, 28, 28, 1) float32 in [0, 1]"},
        "output": "(None, 10) softmax probabilities",
        "adaptations": list(loaded.adaptations),
        "metadata": loaded.metadata,
        "optimizer": type(optimizer).__name__ if optimizer is not None else None,
        "optimizer_state": loaded.optimizer_state,
    }
