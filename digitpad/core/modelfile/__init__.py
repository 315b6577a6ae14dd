"""Safe loading and saving of Keras model files (``.keras`` and legacy ``.h5``).

Loading never runs code stored in a file, and never lets a file make digitpad build something
huge. The named file is read exactly once, into a private snapshot (:mod:`.snapshot`: a regular
file only, never a FIFO or device; a private folder), and everything after reads that snapshot:

1. :func:`check_model_file` / :func:`~.safety.check_snapshot` (:mod:`.safety`) inspect it with
   ``zipfile``/``h5py``/``json`` only (:mod:`.formats`), before Keras sees it: missing, empty,
   truncated, corrupt or encrypted files, files that are not models, files that declare more than
   the limits of :mod:`.limits` (weights, layers, nesting, unpacked size, layer outputs - the
   weights a config declares are worked out by :mod:`.declared` from the JSON alone), and any
   model configuration that names a ``Lambda``-like layer, serialized Python code, a Python module
   outside Keras, a custom (non-Keras) registered object or a class that is not a standard Keras
   one are refused.
2. :func:`load_model` (:mod:`.io`) then gives Keras the *same* snapshot with ``safe_mode=True``
   (always) and turns every exception into a :class:`~digitpad.core.errors.ModelFileError` with
   one sentence.

A loaded model is checked and adapted to the digitpad convention (:mod:`.adapt`): input float32
``(N, 28, 28, 1)`` in [0, 1], output softmax probabilities ``(N, 10)`` - raw-pixel inputs, logits,
sigmoid scores and low-precision outputs are converted, and each adaptation is reported.

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
