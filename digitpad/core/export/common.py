"""What every export format shares: the error type, the tolerance and optional dependencies."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
from collections.abc import Iterator
from types import ModuleType

from digitpad.core.errors import DigitpadError

#: Largest absolute difference allowed between an export's probabilities and the Keras model's.
TOLERANCE = 1e-5
#: How many MNIST test images an export is verified on.
VERIFY_IMAGES = 1000
#: The command that installs the optional exporters and runtimes.
INSTALL_HINT = "pip install 'digitpad[export]'"


class ExportError(DigitpadError):
    """A model cannot be exported, or the written export does not verify (one sentence)."""


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`ExportError` naming the install command.

    Parameters
    ----------
    module
        The module to import, e.g. ``"onnxruntime"``.
    purpose
        What needs it, e.g. ``"ONNX export"`` (the start of the error sentence).
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise missing(module, purpose) from None


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (found without importing it; its parents are)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing(module: str, purpose: str) -> ExportError:
    """The one-sentence error for a module that is not installed."""
    package = module.split(".")[0].replace("_", "-")
    return ExportError(f"{purpose} needs the {package} package, which is not installed; "
                       f"install it with: {INSTALL_HINT}.")


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence Python-level prints (Keras' exporters print the model's signature)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield
