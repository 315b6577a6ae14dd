"""Status-bar messages that belong to a tab (so one tab's news never lingers over another).

Usage::

    status = TabStatus(window.statusBar(), window.tabs, default=recognize_tab)
    status.say("Model ready: fast")              # the default tab's; shown at once
    status.say("Epoch 3/5", train_tab)           # shown now only if the Train tab is visible
    # switching tabs shows that tab's last message, or clears the bar
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QStatusBar, QTabWidget, QWidget


class TabStatus(QObject):
    """The last message of each tab, shown in ``bar`` while that tab is visible.

    Messages of the ``default`` tab (the window's own news: models and files the user opened)
    are shown at once whichever tab is visible: the user just asked for them.
    """

    def __init__(self, bar: QStatusBar, tabs: QTabWidget, default: QWidget) -> None:
        super().__init__(bar)
        self._bar = bar
        self._tabs = tabs
        self._default = default
        self._messages: dict[QWidget, str] = {}
        tabs.currentChanged.connect(self._on_tab_changed)

    def say(self, text: str, tab: QWidget | None = None) -> None:
        """Set ``tab``'s message (default tab when None); an empty text clears it."""
        tab = tab if tab is not None else self._default
        self._messages[tab] = text
        if tab is self._default or tab is self._tabs.currentWidget():
            self._show(text)

    def message(self, tab: QWidget) -> str:
        """The last message of ``tab``."""
        return self._messages.get(tab, "")

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        self._show(self._messages.get(self._tabs.widget(index), ""))

    def _show(self, text: str) -> None:
        if text:
            self._bar.showMessage(text)
        else:
            self._bar.clearMessage()
