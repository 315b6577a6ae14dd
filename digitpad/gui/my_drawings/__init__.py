"""The My drawings view: the personal data set as a gallery, and fine-tuning on it.

* :mod:`.gallery` -- :class:`MyDrawingsView`: thumbnails by digit, relabel, delete, import,
  export, the current model's accuracy with the misread drawings marked;
* :mod:`.finetune_panel` -- :class:`FinetunePanel`: fine-tune in the TaskRunner with a live loss
  plot, the before/after table, and "Use tuned model" (``CurrentModel.use``).
"""

from __future__ import annotations

from digitpad.gui.my_drawings.finetune_panel import FinetunePanel
from digitpad.gui.my_drawings.gallery import MyDrawingsView

__all__ = ["FinetunePanel", "MyDrawingsView"]
