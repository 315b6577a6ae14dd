"""The drawing pad's undo history: content snapshots and the ``QUndoCommand`` that swaps them.

Every edit of the pad (a stroke, a clear, an opened image) is one :class:`PadEdit` on the pad's
``QUndoStack``: it holds the content before and after and hands one of them to the pad on
``undo()`` / ``redo()``. Snapshots share the (finished, never modified) strokes and images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QImage, QUndoCommand

from digitpad.gui.strokes import Stroke


@dataclass(frozen=True)
class PadContent:
    """What is on the pad: an optional image (canvas-sized, 8-bit grey) under finished strokes."""

    strokes: tuple[Stroke, ...] = ()
    base: QImage | None = None

    def is_empty(self) -> bool:
        return not self.strokes and self.base is None

    def with_stroke(self, stroke: Stroke) -> PadContent:
        return PadContent(self.strokes + (stroke,), self.base)


EMPTY = PadContent()

ApplyContent = Callable[[PadContent, bool], None]
"""``apply(content, drawn)``: show ``content``; ``drawn`` is True when the pixels already show it."""


class PadEdit(QUndoCommand):
    """One undoable edit: ``redo`` shows ``after``, ``undo`` shows ``before``.

    ``drawn=True`` says the pad already painted ``after`` (a stroke is painted while it is drawn),
    so the first ``redo`` (run by ``QUndoStack.push``) does not render it again.
    """

    def __init__(
        self, text: str, before: PadContent, after: PadContent, apply: ApplyContent, *,
        drawn: bool = False,
    ) -> None:
        super().__init__(text)
        self.before = before
        self.after = after
        self._apply = apply
        self._drawn = drawn

    def redo(self) -> None:
        drawn, self._drawn = self._drawn, False
        self._apply(self.after, drawn)

    def undo(self) -> None:
        self._apply(self.before, False)
