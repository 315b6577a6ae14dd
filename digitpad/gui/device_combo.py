"""The Train tab's device chooser: Auto, CPU and the GPUs TensorFlow finds.

The GPUs are looked up once, in the background (a task of the app's TaskRunner); until then the
GPU entry says "detecting…", and where there is none it is greyed out with the reason.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QWidget

NO_GPU_REASON = "No GPU detected by TensorFlow"


class DeviceCombo(QComboBox):
    """Where TensorFlow trains: ``currentData()`` is ``"auto"``, ``"cpu"`` or ``"gpu:N"``.

    Parameters
    ----------
    runner
        The task runner that asks TensorFlow for its GPUs.
    wanted
        The device to select once it is known to be available (e.g. from the settings).
    """

    def __init__(self, runner: Any, wanted: str = "auto", parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip("Where TensorFlow trains the model.")
        self.gpus: list[str] | None = None  # None until TensorFlow has answered
        self._wanted = wanted
        self._fill()
        from digitpad.core.tfsetup import list_gpus

        runner.start(list_gpus, name="digitpad-gpus", on_done=self._on_gpus)

    def device(self) -> str:
        """The chosen device (``"auto"`` while nothing is chosen)."""
        return str(self.currentData() or "auto")

    def _on_gpus(self, gpus: list[str]) -> None:
        self.gpus = list(gpus)
        self._wanted = self.device() if self.currentIndex() > 0 else self._wanted
        self._fill()

    def _fill(self) -> None:
        self.blockSignals(True)
        self.clear()
        self.addItem("Auto (GPU if available)", "auto")
        self.addItem("CPU", "cpu")
        if self.gpus is None:
            self.addItem("GPU (detecting…)", "gpu")
            self._disable(self.count() - 1, "Looking for GPUs…")
        elif not self.gpus:
            self.addItem("GPU", "gpu")
            self._disable(self.count() - 1, NO_GPU_REASON)
        else:
            for i, gpu in enumerate(self.gpus):
                self.addItem(f"GPU:{i} ({gpu})", f"gpu:{i}")
        index = self.findData(self._wanted)
        model = self.model()
        if index < 0 or (isinstance(model, QStandardItemModel) and not model.item(index).isEnabled()):
            index = 0
        self.setCurrentIndex(index)
        self.blockSignals(False)

    def _disable(self, row: int, reason: str) -> None:
        model = self.model()
        if isinstance(model, QStandardItemModel) and model.item(row) is not None:
            model.item(row).setEnabled(False)
            model.item(row).setToolTip(reason)
