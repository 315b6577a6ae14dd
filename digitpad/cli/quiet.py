"""Keep TensorFlow's logging and Python warnings off the terminal (unless ``DIGITPAD_DEBUG=1``)."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings

from digitpad.core.tfsetup import debug_enabled, stderr_silenced


def quiet_environment() -> None:
    """Set TensorFlow's C++ log levels and ignore warnings; call before TensorFlow loads."""
    if debug_enabled():
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ["ABSL_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("GLOG_minloglevel", "3")
    warnings.simplefilter("ignore")


def quiet_tensorflow() -> None:
    """Import TensorFlow with stderr silenced, then lower its Python-side loggers to ERROR."""
    if debug_enabled():
        return
    from digitpad.core.tfsetup import tf

    # TensorFlow writes absl "I0000 ..." lines straight to file descriptor 2 while it loads,
    # whatever TF_CPP_MIN_LOG_LEVEL says: load it with the descriptor pointed at /dev/null.
    # Device discovery (cuInit on a machine without a GPU driver) logs at ERROR level too.
    with stderr_silenced():
        tf_module = tf()
        with contextlib.suppress(Exception):
            tf_module.config.list_physical_devices()
    with contextlib.suppress(Exception):
        tf_module.get_logger().setLevel(logging.ERROR)
    with contextlib.suppress(Exception):
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    warnings.simplefilter("ignore")
