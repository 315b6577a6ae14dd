"""Lazy, quiet TensorFlow/Keras import and compute-device selection.

Nothing in ``digitpad.core`` imports TensorFlow at module level; code that needs it calls
:func:`tf` or :func:`keras` at the point of use. The first call sets TensorFlow's environment
(quiet C++ logs, Keras on the TensorFlow backend) and imports it, which takes a few seconds.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from types import ModuleType

from digitpad.core.errors import DeviceError

_lock = threading.Lock()


def _prepare_environment() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")


def debug_enabled() -> bool:
    """True when ``DIGITPAD_DEBUG`` asks for tracebacks and TensorFlow's own logs."""
    return os.environ.get("DIGITPAD_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


@contextlib.contextmanager
def stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the duration (C++ libraries that print).

    Does nothing when :func:`debug_enabled`.
    """
    if debug_enabled():
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
        finally:
            os.close(devnull)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def quiet_native_stderr() -> contextlib.AbstractContextManager:
    """:func:`stderr_silenced` when it is safe, else a no-op context.

    Redirecting a descriptor is process-wide, so it is safe only when called from the main thread
    of a process with no other Python thread (the command line). A GUI works in Qt threads,
    invisible to ``threading``, while its main thread may be writing to stderr: never there.
    """
    alone = threading.current_thread() is threading.main_thread() and threading.active_count() == 1
    return stderr_silenced() if alone else contextlib.nullcontext()


def tf() -> ModuleType:
    """Import and return ``tensorflow`` (quietly, once).

    TensorFlow 2.21 writes absl ``I0000 …`` lines (oneDNN, CUDA stubs) straight to file
    descriptor 2 while it loads, whatever ``TF_CPP_MIN_LOG_LEVEL`` says, and device discovery logs
    ``cuInit`` failures on machines without a GPU driver: the first import and the first device
    listing run with descriptor 2 silenced where that is safe (:func:`quiet_native_stderr`; never
    with ``DIGITPAD_DEBUG=1``).
    """
    with _lock:
        if "tensorflow" in sys.modules:
            return sys.modules["tensorflow"]
        _prepare_environment()
        with quiet_native_stderr():
            import tensorflow

            with contextlib.suppress(Exception):
                tensorflow.config.list_physical_devices()
        return tensorflow


def keras() -> ModuleType:
    """Import and return ``keras`` (Keras 3 on the TensorFlow backend)."""
    tf()
    import keras as _keras

    return _keras


def list_gpus() -> list[str]:
    """Names of the GPUs TensorFlow can use (empty on a machine without one)."""
    try:
        return [d.name for d in tf().config.list_physical_devices("GPU")]
    except Exception:  # a broken CUDA install must not stop CPU use
        return []


def resolve_device(device: str = "auto") -> str:
    """Turn ``cpu``, ``gpu``, ``gpu:N`` or ``auto`` into a TensorFlow device string.

    Returns
    -------
    str
        ``"/CPU:0"`` or ``"/GPU:N"``.

    Raises
    ------
    DeviceError
        ``gpu`` was asked for and no GPU is present.
    """
    device = (device or "auto").strip().lower()
    if device == "cpu":
        return "/CPU:0"
    gpus = list_gpus()
    if device == "auto":
        return "/GPU:0" if gpus else "/CPU:0"
    if device.startswith("gpu"):
        index = 0
        if ":" in device:
            try:
                index = int(device.split(":", 1)[1])
            except ValueError:
                raise DeviceError(f"device {device!r} is not cpu, gpu, gpu:N or auto.") from None
        if not gpus:
            raise DeviceError(
                "device 'gpu' was requested but TensorFlow sees no GPU on this machine "
                "(use --device cpu or auto)."
            )
        if index >= len(gpus):
            raise DeviceError(
                f"device 'gpu:{index}' was requested but only {len(gpus)} GPU(s) exist."
            )
        return f"/GPU:{index}"
    raise DeviceError(f"device {device!r} is not cpu, gpu, gpu:N or auto.")


def describe_device(tf_device: str) -> str:
    """Human-readable name of a TensorFlow device string, e.g. ``"CPU"`` or ``"GPU:0 (…)"``."""
    if tf_device.upper().startswith("/GPU"):
        index = int(tf_device.split(":")[1])
        try:
            details = tf().config.experimental.get_device_details(
                tf().config.list_physical_devices("GPU")[index]
            )
            name = details.get("device_name")
        except Exception:
            name = None
        return f"GPU:{index}" + (f" ({name})" if name else "")
    return "CPU"
