"""The ``digitpad`` command line.

``digitpad`` with no arguments (or ``digitpad gui``) opens the desktop app. Subcommands::

    digitpad train     train a model (progress bar with ETA, a line per epoch; Ctrl-C saves)
    digitpad evaluate  accuracy, loss, per-class accuracy and confusion matrix of a model
    digitpad predict   recognise digits in image files
    digitpad info      what is inside a model file
    digitpad archs     the registered architectures

Exit status: 0 success; 1 an error (printed as ``digitpad: error: <reason>``, never a traceback
unless ``DIGITPAD_DEBUG=1``), or at least one image in ``predict`` could not be read; 2 a usage
error; 130 interrupted by Ctrl-C (for ``train``: after the weights trained so far were saved).

One module per command (``train``, ``evaluate``, ``predict``, ``info``, ``archs``, ``gui``), each
with ``add_parser(sub)`` and ``run(args, out, err) -> int``; :mod:`digitpad.cli.main` assembles
and dispatches them. TensorFlow is imported only by the commands that need it, so ``--help`` and
``--version`` answer at once.
"""

from __future__ import annotations

from digitpad.cli.exits import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PROG
from digitpad.cli.gui import GUI_MISSING
from digitpad.cli.main import COMMANDS, build_parser, main
from digitpad.cli.progress import ProgressPrinter

__all__ = [
    "main",
    "build_parser",
    "COMMANDS",
    "ProgressPrinter",
    "GUI_MISSING",
    "PROG",
    "EXIT_OK",
    "EXIT_ERROR",
    "EXIT_USAGE",
    "EXIT_INTERRUPTED",
]
