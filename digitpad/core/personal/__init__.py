"""The personal data set: the user's own labelled drawings, kept under ``user_data_dir()``.

* :mod:`.store` -- the ``0/`` ... ``9/`` layout, :class:`DrawingStore` (save with undo, relabel,
  delete, counts) and :func:`scan`;
* :mod:`.strokes_file` -- the strokes JSON (points, widths, timing), read back strictly;
* :mod:`.load` -- :func:`load_drawings` for measuring and fine-tuning (any ``0/ … 9/`` image folder);
* :mod:`.transfer` -- import and export as a folder or a zip (zip input is untrusted).

Nothing here leaves the machine. Fine-tuning on the drawings is :mod:`digitpad.core.finetune`.
"""

from __future__ import annotations

from digitpad.core.personal.load import Drawings, load_drawings
from digitpad.core.personal.store import (
    CANVAS_SUFFIX,
    INPUT_SUFFIX,
    STROKES_SUFFIX,
    DrawingFiles,
    DrawingStore,
    Listing,
    drawings_dir,
    scan,
)
from digitpad.core.personal.strokes_file import PenStroke, decode_strokes, encode_strokes
from digitpad.core.personal.transfer import (
    ImportReport,
    export_folder,
    export_zip,
    import_folder,
    import_zip,
)

__all__ = [
    "CANVAS_SUFFIX", "INPUT_SUFFIX", "STROKES_SUFFIX", "DrawingFiles", "DrawingStore", "Drawings",
    "ImportReport", "Listing", "PenStroke", "decode_strokes", "drawings_dir", "encode_strokes",
    "export_folder", "export_zip", "import_folder", "import_zip", "load_drawings", "scan",
]
