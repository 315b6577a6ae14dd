"""``digitpad gui`` (and ``digitpad`` alone): start the desktop app, imported only now."""

from __future__ import annotations

import argparse
from typing import IO

from digitpad.cli.argtypes import nonempty
from digitpad.cli.display import display_problem
from digitpad.cli.exits import EXIT_ERROR, EXIT_OK, PROG, error_line
from digitpad.core.tfsetup import debug_enabled

GUI_MISSING = (
    "digitpad: the desktop app is not available yet; use a subcommand (see digitpad --help)"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gui``."""
    g = sub.add_parser(
        "gui", help="open the desktop app (the default)", description="Open the desktop app."
    )
    g.add_argument(
        "files", nargs="*", type=nonempty, metavar="FILE", help="a model (.keras/.h5) and/or images to open"
    )


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Start the desktop app with the files given; a missing Qt or display is one sentence.

    Without a display Qt would abort the process (exit 134 after several lines of its own), so
    that is asked first, before Qt is even imported.
    """
    problem = display_problem()
    if problem is not None:
        print(error_line(problem), file=err, flush=True)
        return EXIT_ERROR
    try:
        from digitpad.gui.app import main as gui_main
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        if missing == "digitpad.gui" or missing.startswith("digitpad.gui."):
            print(GUI_MISSING, file=err)
            return EXIT_ERROR
        if debug_enabled():
            raise
        print(
            f"{PROG}: error: the desktop app cannot start because {missing or exc} "
            "is not installed.",
            file=err,
        )
        return EXIT_ERROR
    # Pass the files explicitly: the app would otherwise read sys.argv (which holds "gui").
    result = gui_main(list(getattr(args, "files", None) or []))
    return int(result) if isinstance(result, int) else EXIT_OK
