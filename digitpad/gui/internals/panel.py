"""The live internals of the Recognize tab: toggles, views, the pad overlay and the coalesced jobs.

:class:`InternalsPanel` is told every prediction the Recognize tab shows
(:meth:`~InternalsPanel.show_prediction`) and the digit clicked in the bars
(:meth:`~InternalsPanel.set_target`). While a view is switched on it computes, off the GUI thread
and latest-only (:class:`~digitpad.gui.internals.coalesce.LatestOnly`: one job in flight, one
pending), the activations and the attribution of the drawing, and draws them: feature maps in
:class:`~digitpad.gui.internals.activations_view.ActivationsView`, the heatmap over the 28×28
input in :class:`~digitpad.gui.internals.attribution_view.AttributionView` and over the pad in
:class:`~digitpad.gui.internals.attribution_view.PadHeatOverlay`. The live bars never wait for it.

Each view is switched by a checkable ``QAction`` (:attr:`activations_action`,
:attr:`attribution_action`; the tab shows them as buttons, the window's View menu lists them);
their state is remembered in the settings (``view/activations``, ``view/attribution``).
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from digitpad.gui.current_model import CurrentModel
from digitpad.gui.internals.activations_view import ActivationsView
from digitpad.gui.internals.attribution_view import AttributionView, PadHeatOverlay
from digitpad.gui.internals.coalesce import LatestOnly
from digitpad.gui.internals.compute import InternalsResult, ModelTools, compute_internals
from digitpad.gui.settings import app_settings

#: Pause between two internals computations while the pen moves (bench/bench_internals.py: the
#: worker otherwise holds both cores of a small machine and the bars' repaint waits for one).
INTERNALS_GAP_MS = 80

ACTIVATIONS_KEY = "view/activations"
ATTRIBUTION_KEY = "view/attribution"


class InternalsPanel(QWidget):
    """Activations and attribution of the drawing, for the predicted or a clicked digit.

    Parameters
    ----------
    pad
        The Recognize tab's DrawPad (the attribution overlay becomes its child).
    current
        The owner of the model in use; its runner runs the jobs.
    """

    def __init__(self, pad: QWidget, current: CurrentModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.current = current
        self._settings = app_settings()
        self._latest = LatestOnly(current.runner, name="internals", gap_ms=INTERNALS_GAP_MS,
                                  parent=self)
        self._tools: ModelTools | None = None
        self._failed: str | None = None     # why the model in use cannot be explained
        self._prediction = None
        self._canvas_shape: tuple[int, int] | None = None
        self._pinned: int | None = None     # a digit clicked in the bars
        self.last_result: InternalsResult | None = None

        self.activations_action = self._action(
            "Show &Activations", ACTIVATIONS_KEY, QKeySequence("Ctrl+Shift+A"),
            "Show the feature maps of each layer for the drawing, live")
        self.attribution_action = self._action(
            "Show A&ttribution", ATTRIBUTION_KEY, QKeySequence("Ctrl+Shift+H"),
            "Show which strokes pushed the network towards the digit (a heatmap), live")
        self.toggles = QWidget()
        row = QHBoxLayout(self.toggles)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Inside the model:"))
        self.toggle_buttons: dict[str, QToolButton] = {}
        for action, text in ((self.activations_action, "Activations"),
                             (self.attribution_action, "Attribution")):
            action.setIconText(text)   # the button's text (it follows the action's on toggling)
            button = QToolButton()
            button.setDefaultAction(action)
            row.addWidget(button)
            self.toggle_buttons[text] = button
        row.addStretch(1)

        self.attribution_view = AttributionView()
        self.activations_view = ActivationsView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.attribution_view)
        layout.addWidget(self.activations_view, 1)
        self.overlay = PadHeatOverlay(pad)
        self.setMinimumWidth(240)
        current.changed.connect(self._on_model_changed)
        self._on_model_changed()
        self._apply_visibility()

    # ---------------------------------------------------------------- public API
    @property
    def coalescer(self) -> LatestOnly:
        """The latest-only runner of the jobs (``in_flight``, ``pending``, ``started``)."""
        return self._latest

    def activations_on(self) -> bool:
        return self.activations_action.isChecked()

    def attribution_on(self) -> bool:
        return self.attribution_action.isChecked()

    def target(self) -> int | None:
        """The digit explained: the clicked one, else the predicted one (None when blank)."""
        if self._pinned is not None:
            return self._pinned
        p = self._prediction
        return None if p is None or p.blank else int(p.digit)

    def show_prediction(self, prediction, canvas_shape: tuple[int, int]) -> None:
        """The Recognize tab shows ``prediction`` of a picture of ``canvas_shape``: follow it."""
        self._prediction = prediction
        self._canvas_shape = tuple(int(n) for n in canvas_shape[:2])
        self._request()

    def clear(self) -> None:
        """No prediction (no model yet): empty the views."""
        self._prediction = None
        self._request()

    @Slot(int)
    def set_target(self, digit: int) -> None:
        """Explain ``digit`` (a bar was clicked); the same digit again follows the prediction."""
        self._pinned = None if self._pinned == int(digit) else int(digit)
        self._request()

    # ------------------------------------------------------------------ internals
    def _action(self, text: str, key: str, shortcut: QKeySequence, tip: str) -> QAction:
        action = QAction(text, self)
        action.setCheckable(True)
        action.setChecked(self._settings.value(key, False, type=bool))
        action.setShortcut(shortcut)
        action.setToolTip(f"{tip} ({shortcut.toString(QKeySequence.SequenceFormat.NativeText)})")
        action.setStatusTip(tip)
        action.toggled.connect(lambda on, k=key: self._on_toggled(k, on))
        return action

    def _on_toggled(self, key: str, on: bool) -> None:
        self._settings.setValue(key, bool(on))
        self._apply_visibility()
        self._request()

    def _apply_visibility(self) -> None:
        self.activations_view.setVisible(self.activations_on())
        self.attribution_view.setVisible(self.attribution_on())
        self.setVisible(self.activations_on() or self.attribution_on())
        if not self.attribution_on():
            self.overlay.clear_heat()

    @Slot()
    def _on_model_changed(self) -> None:
        model = self.current.model
        if self._tools is not None and self._tools.model is model:
            return  # only the entry's path or saved state changed
        self._tools = ModelTools(model) if model is not None else None
        self._failed = None
        self._latest.cancel_pending()
        self.activations_view.set_layers([])
        self._clear_views()

    def _request(self) -> None:
        p = self._prediction
        wanted = self.activations_on() or self.attribution_on()
        if not wanted:
            self._latest.cancel_pending()
            return
        if p is None or p.blank or self._tools is None or self._failed is not None:
            self._latest.cancel_pending()
            self._clear_views(self._failed or "")
            return
        self._latest.submit(
            compute_internals, self._tools, p.normalized, self._canvas_shape, self.target(),
            activations=self.activations_on(), attribution=self.attribution_on(),
            on_done=self._draw, on_error=partial(self._on_failed, self._tools),
        )

    def _draw(self, result: InternalsResult) -> None:
        if result.tools is not self._tools:
            return  # computed for a model no longer in use
        p = self._prediction
        if p is None or p.blank:
            return  # cleared meanwhile
        self.last_result = result
        if result.activations is not None and self.activations_on():
            self.activations_view.show_activations(result.activations)
        if result.heatmap is not None and self.attribution_on():
            self.attribution_view.show_heatmap(result.image28, result.heatmap,
                                               self._caption(result))
            self.overlay.show_heat(result.canvas_heat, result.canvas_rgba)

    def _caption(self, result: InternalsResult) -> str:
        method = result.method.replace("_", " ")
        if self._pinned is not None and result.target == self._pinned:
            why = "clicked; click it again to follow the prediction"
        else:
            why = "the prediction; click a bar to explain another digit"
        return f"What pushed the network towards <b>{result.target}</b> ({why})" + (
            f" · {method}" if method else "")

    def _clear_views(self, caption: str = "") -> None:
        self.activations_view.clear_activations()
        self.attribution_view.clear_heatmap(caption)
        self.overlay.clear_heat()

    def _on_failed(self, tools: ModelTools, reason: str) -> None:
        if tools is not self._tools:
            return
        self._failed = f"Cannot look inside this model: {reason}"
        self._clear_views(self._failed)
