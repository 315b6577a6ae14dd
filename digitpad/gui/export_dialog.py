"""File → Export Model…: write the model in use as TFLite, ONNX or SavedModel, verified.

The export runs as a task of the app's :class:`~digitpad.gui.tasks.TaskRunner`
(:func:`digitpad.core.export.export_model`: written beside the target, verified with the format's
own runtime on 1,000 MNIST test images, then renamed into place). The dialog shows the verified
maximum difference, or the one sentence of why nothing was written. A format whose optional
dependencies are missing is offered disabled, its tooltip naming the install command.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.errors import DigitpadError
from digitpad.core.export import FORMATS, check_available, export_model
from digitpad.gui.tasks import Task, TaskRunner, shared_runner

FORMAT_LABELS = {"tflite": "TFLite (LiteRT)", "onnx": "ONNX (onnxruntime)",
                 "savedmodel": "TensorFlow SavedModel (folder)"}


def _export(model: Any, fmt: str, out: str) -> Any:
    """Worker thread: export and verify."""
    return export_model(model, fmt, out)


class ExportDialog(QDialog):
    """Choose a format and a target, export, and show the verification.

    ``ask_path(format, suggested) -> path | None`` is the file-dialog seam (tests pass their
    own). :attr:`result` holds the last :class:`~digitpad.core.export.ExportResult`,
    :attr:`error` the last failure's sentence.
    """

    def __init__(self, model: Any, name: str, parent: QWidget | None = None, *,
                 runner: TaskRunner | None = None, source_path: str | None = None,
                 ask_path: Callable[[str, str], str | None] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Model")
        self.model = model
        self._runner = runner if runner is not None else shared_runner()
        self._ask_path = ask_path or self._file_dialog
        self._stem = Path(source_path).stem if source_path else "digitpad-model"
        self._folder = str(Path(source_path).parent) if source_path else str(Path.home())
        self._task: Task | None = None
        self.result: Any = None
        self.error: str | None = None

        self.format_combo = QComboBox(self)
        for key, label in FORMAT_LABELS.items():
            self.format_combo.addItem(label, key)
            try:
                check_available(FORMATS[key])
            except DigitpadError as exc:
                item = self.format_combo.model().item(self.format_combo.count() - 1)
                item.setEnabled(False)
                item.setToolTip(str(exc))
        self.path_edit = QLineEdit(self)
        self.browse_button = QPushButton("Browse…", self)
        self.export_button = QPushButton("Export", self)
        self.result_label = QLabel(f"Model: {name}", self)
        self.result_label.setWordWrap(True)
        self.format_combo.currentIndexChanged.connect(lambda _i: self._suggest())
        self.browse_button.clicked.connect(self._browse)
        self.export_button.clicked.connect(self.export)

        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Format:", self.format_combo)
        form.addRow("Export to:", path_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.result_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)
        self._suggest()
        self.resize(560, 180)

    @property
    def fmt(self) -> str:
        """The chosen format name."""
        return str(self.format_combo.currentData())

    def set_format(self, fmt: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(fmt))

    def is_running(self) -> bool:
        return self._task is not None

    def export(self) -> None:
        """Start the export of the model to the path shown."""
        out = self.path_edit.text().strip()
        if self._task is not None or not out:
            return
        self.result, self.error = None, None
        self.result_label.setText(f"Exporting and verifying {Path(out).name}…")
        self.export_button.setEnabled(False)
        self._task = self._runner.start(_export, self.model, self.fmt, out, name="export-model",
                                        on_done=self._on_done, on_error=self._on_error,
                                        on_finished=self._on_finished)

    # ----------------------------------------------------------------- callbacks
    def _on_done(self, result: Any) -> None:
        self.result = result
        self.result_label.setText(f"Exported to {result.path}.\n{result.verification.text()}.")

    def _on_error(self, reason: str) -> None:
        self.error = reason
        self.result_label.setText(f"Nothing was exported: {reason}")

    def _on_finished(self) -> None:
        self._task = None
        self.export_button.setEnabled(True)

    # ----------------------------------------------------------------- paths
    def _suggest(self) -> None:
        module = FORMATS[self.fmt]
        self.path_edit.setText(str(Path(self._folder) / f"{self._stem}{module.SUFFIX or '_savedmodel'}"))

    def _browse(self) -> None:
        path = self._ask_path(self.fmt, self.path_edit.text())
        if path:
            self.path_edit.setText(path)

    def _file_dialog(self, fmt: str, suggested: str) -> str | None:
        if FORMATS[fmt].IS_FOLDER:
            return QFileDialog.getSaveFileName(self, "Export SavedModel Folder", suggested)[0] or None
        suffix = FORMATS[fmt].SUFFIX
        path = QFileDialog.getSaveFileName(self, "Export Model", suggested, f"*{suffix}")[0]
        if path and not path.lower().endswith(suffix):
            path += suffix
        return path or None


def open_export_dialog(win: Any) -> ExportDialog | None:
    """File → Export Model…: a dialog exporting the window's model in use (``win.current``)."""
    current = win.current
    entry = current.entry
    if entry is None:
        win.status.say("Nothing to export: no model is in use yet.")
        return None
    dialog = ExportDialog(entry.model, entry.name, win, runner=win.runner, source_path=entry.path)
    dialog.show()
    return dialog
