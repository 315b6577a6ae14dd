"""Error types of the digitpad core.

Every error a user can cause (a bad file, bad data, an impossible setting) is raised as a
:class:`DigitpadError` whose message is one clear sentence. The command line prints it as
``digitpad: error: <message>`` and the GUI shows it in a message box; neither shows a traceback.
"""

from __future__ import annotations


class DigitpadError(Exception):
    """Base class: a problem the user can understand and fix, described in one sentence."""


class DataError(DigitpadError):
    """A data source is missing, malformed or inconsistent (shapes, dtypes, labels, pixel range)."""


class ImageError(DigitpadError):
    """An image file cannot be read or turned into a 28x28 input."""


class ModelFileError(DigitpadError):
    """A model file is refused: corrupt, not a model, unsafe, or not a 28x28 -> 10 classifier."""


class ArchitectureError(DigitpadError):
    """An unknown architecture or a model definition that cannot work (Dense without Flatten)."""


class TrainingError(DigitpadError):
    """Training cannot start or had to stop (bad hyper-parameters, NaN loss, ...)."""


class DeviceError(DigitpadError):
    """The requested compute device is not available."""
