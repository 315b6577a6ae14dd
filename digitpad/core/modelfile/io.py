"""Loading and saving model files: :class:`LoadedModel`, :func:`load_model`, :func:`save_model`.

Loading never runs code stored in a file: the file is read once into a private snapshot
(:mod:`~digitpad.core.modelfile.snapshot`), :func:`~digitpad.core.modelfile.safety.check_snapshot`
audits that snapshot, then Keras loads the *same* snapshot with ``safe_mode=True`` (always) and
every exception becomes a one-sentence :class:`~digitpad.core.errors.ModelFileError`. Saving is atomic (temporary file in the
target folder, then ``os.replace``) and stores digitpad's metadata inside the file.
"""

from __future__ import annotations

import errno
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digitpad.core.atomic import atomic_path
from digitpad.core.errors import ModelFileError
from digitpad.core.modelfile import metadata as stored_metadata
from digitpad.core.modelfile.adapt import adapt
from digitpad.core.modelfile.formats import format_for_suffix
from digitpad.core.modelfile.layers import sum_normalization
from digitpad.core.modelfile.safety import check_snapshot
from digitpad.core.modelfile.sentences import fail
from digitpad.core.modelfile.snapshot import private_snapshot
from digitpad.core.tfsetup import keras

STALE_TEMP_AGE_S = 60.0   # a temporary file of an earlier save older than this was left by a kill


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


def has_optimizer_state(model: Any) -> bool:
    """True when ``model`` is compiled with an optimizer that has trained (state worth keeping)."""
    if not getattr(model, "compiled", False):
        return False
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return False
    try:
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
        Anything :func:`~digitpad.core.modelfile.safety.check_model_file` refuses (not a regular
        file, over a size limit, code, corrupt, ...); Keras failing to load the file; an input
        that is not a 28x28 grey image; an output that is not 10 classes; NaN weights.
    """
    path = Path(path)
    name = path.name
    with private_snapshot(path) as copy:   # the bytes checked are the bytes Keras reads
        fmt = check_snapshot(copy, name)
        model = _keras_load(copy, fmt, name)
        metadata = stored_metadata.read_snapshot_metadata(copy, name)
    k = keras()
    if not isinstance(model, k.Model):
        raise fail(f"{name} does not contain a Keras model")
    optimizer_state = fmt == "keras" and has_optimizer_state(model)
    try:
        adapted, adaptations = adapt(model, name)
    except ModelFileError:
        raise
    except Exception as exc:   # a structure adapt() has no rule for: still one sentence
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise fail(f"{name} loaded, but digitpad cannot adapt it to 28x28 images and 10 "
                   f"classes ({text[:150]})") from None
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


def _keras_load(copy: Path, fmt: str, name: str) -> Any:
    """``keras.saving.load_model`` of the checked snapshot ``copy``, safe mode on; one sentence."""
    k = keras()
    sum_normalization()   # registered, so models adapted and saved by digitpad load again
    try:
        with warnings.catch_warnings():
            # e.g. "Skipping variable loading for optimizer" for a compiled but never trained model
            warnings.simplefilter("ignore")
            return k.saving.load_model(copy, compile=(fmt == "keras"), safe_mode=True)
    except RecursionError:
        raise fail(f"{name} is nested too deeply for Keras to load") from None
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        if "lambda" in text.lower() or "safe_mode" in text or "unsafe" in text.lower():
            raise fail(f"{name} contains code that Keras refuses to load in safe mode ({text[:150]})") from None
        raise fail(f"{name} could not be loaded by Keras: {text[:200]}") from None


def os_error_sentence(exc: BaseException, path: Path) -> str | None:
    """What went wrong saving ``path`` in words, from the first OSError in ``exc``'s chain (or its text)."""
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


def remove_stale_temps(path: Path) -> None:
    """Delete temporary files left by an earlier save of ``path`` that was killed midway."""
    now = time.time()
    try:
        candidates = list(path.parent.glob(f".{path.name}.*{path.suffix.lower()}"))
    except OSError:
        return
    for tmp in candidates:
        try:
            if now - tmp.stat().st_mtime > STALE_TEMP_AGE_S:
                tmp.unlink()
        except OSError:
            pass   # gone already, or not ours to delete: the next save tries again


def save_model(model: Any, path: str | os.PathLike, *, metadata: dict | None = None) -> Path:
    """Save ``model`` atomically as ``.keras`` or ``.h5`` with digitpad metadata inside.

    Parameters
    ----------
    model
        A Keras model.
    path
        Target file; the suffix picks the format (``.keras``, or ``.h5``/``.hdf5``).
    metadata
        JSON-serialisable dictionary (architecture, config, metrics, data, date, ...), converted
        through :func:`digitpad.core.jsonable.to_jsonable`.

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
    fmt = format_for_suffix(path)
    if fmt is None:
        raise fail(f"cannot save {path.name}: use .keras or .h5 as the file name suffix")
    k = keras()
    if not isinstance(model, k.Model):
        raise fail(f"cannot save {path.name}: the object to save is not a Keras model")
    meta_text = stored_metadata.metadata_json(metadata)
    if path.is_dir():
        raise fail(f"cannot save {path.name}: {path} is a folder")
    if not path.parent.is_dir():
        raise fail(f"cannot save {path.name}: the folder {path.parent} does not exist")
    remove_stale_temps(path)
    compile_cfg = getattr(model, "_compile_config", None)
    snapshot = dict(compile_cfg.config) if compile_cfg is not None and isinstance(
        getattr(compile_cfg, "config", None), dict) else None
    try:
        with atomic_path(path, suffix=path.suffix.lower()) as tmp:  # Keras wants .keras/.h5
            k.saving.save_model(model, tmp)
            stored_metadata.write_metadata(tmp, fmt, meta_text)
    except ModelFileError:
        raise
    except Exception as exc:
        sentence = os_error_sentence(exc, path)
        if sentence is None:
            text = " ".join(str(exc).split()) or type(exc).__name__
            sentence = f"cannot save {path.name}: {text[:200]}"
        raise fail(sentence) from None
    finally:
        if snapshot is not None:
            compile_cfg.config.clear()
            compile_cfg.config.update(snapshot)
    return path


__all__ = ["LoadedModel", "load_model", "save_model", "has_optimizer_state", "os_error_sentence",
           "remove_stale_temps"]
