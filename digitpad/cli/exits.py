"""The program name and the exit statuses every ``digitpad`` command answers with."""

from __future__ import annotations

PROG = "digitpad"
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) collapsed to one space."""
    return " ".join(str(text).split())


def error_line(text: object) -> str:
    """The one sentence an error is reported as: ``digitpad: error: <text>``."""
    return f"{PROG}: error: {one_line(text)}"
