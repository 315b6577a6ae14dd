"""Safe loading and saving of Keras model files (``.keras`` and legacy ``.h5``).

Loading never runs code stored in a file. Two lines of defence:

1. :func:`check_model_file` (:mod:`.safety`) inspects the file with ``zipfile``/``h5py``/``json``
   only (:mod:`.formats`), before Keras sees it: it refuses missing, empty, truncated or corrupt
   files, files that are not models, and any model configuration that names a ``Lambda``-like layer,
   serialized Python code, a Python module outside Keras, a custom (non-Keras) registered object or a
   class that is not a standard Keras one.
2. :func:`load_model` (:mod:`.io`) then calls ``keras.saving.load_model`` with ``safe_mode=True``
   (always) and turns every exception into a :class:`~digitpad.core.errors.ModelFileError` with one
   sentence.

A loaded model is checked and adapted to the digitpad convention (:mod:`.adapt`): input float32
``(N, 28, 28, 1)`` in [0, 1], output softmax probabilities ``(N, 10)``.

Saving is atomic and stores digitpad's metadata inside the file (:mod:`.metadata`).
:func:`describe` returns what a file holds as data; the command line renders it.
"""

from __future__ import annotations

from digitpad.core.modelfile.describe import describe
from digitpad.core.modelfile.formats import MODEL_SUFFIXES, format_for_suffix
from digitpad.core.modelfile.io import LoadedModel, load_model, save_model
from digitpad.core.modelfile.metadata import METADATA_ATTR, METADATA_ENTRY, read_metadata
from digitpad.core.modelfile.safety import check_model_file

__all__ = [
    "LoadedModel",
    "check_model_file",
    "load_model",
    "save_model",
    "read_metadata",
    "describe",
    "format_for_suffix",
    "METADATA_ENTRY",
    "METADATA_ATTR",
    "MODEL_SUFFIXES",
]
