"""The Evaluate and Model tabs of the main window: their construction and wiring.

:func:`add_insight_tabs` creates ``win.evaluate_tab``
(:class:`~digitpad.gui.evaluate.EvaluateTab`) and ``win.model_tab``
(:class:`~digitpad.gui.model_view.ModelView`) over the window's runner and CurrentModel, adds them
after the Train tab and opens a test image clicked in the Evaluate tab's gallery in the Recognize
tab (pad, preview, bars, verdict). Like :func:`digitpad.gui.actions.build_menus`, it only wires:
the tabs keep their behaviour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from digitpad.gui import evaluate, model_view
from digitpad.gui.evaluate import EvaluateTab
from digitpad.gui.model_view import ModelView
from digitpad.gui.my_drawings import MyDrawingsView

if TYPE_CHECKING:
    from digitpad.gui.main_window import MainWindow


def add_insight_tabs(win: MainWindow) -> None:
    """Add the Evaluate and Model tabs to ``win.tabs`` (as ``win.evaluate_tab``, ``win.model_tab``)."""
    win.evaluate_tab = EvaluateTab(runner=win.runner, current=win.current)
    win.model_tab = ModelView(runner=win.runner, current=win.current)
    for tab, title, tip in ((win.evaluate_tab, "Evaluate", evaluate.tab.TAB_TIP),
                            (win.model_tab, "Model", model_view.TAB_TIP)):
        win.tabs.setTabToolTip(win.tabs.addTab(tab, title), tip)
    win.my_drawings = MyDrawingsView(runner=win.runner, current=win.current)  # issue 11
    win.tabs.setTabToolTip(win.tabs.addTab(win.my_drawings, "My drawings"),
                           "Your labelled drawings: the model's accuracy on them, fine-tuning")
    win.recognize_tab.label_bar.labelled.connect(win.my_drawings.refresh)

    def open_in_recognize(image: np.ndarray) -> None:
        win.tabs.setCurrentWidget(win.recognize_tab)
        win.recognize_tab.show_array(image)
        win.status.say("Opened a test image from the Evaluate tab")

    win.evaluate_tab.open_image_requested.connect(open_in_recognize)
