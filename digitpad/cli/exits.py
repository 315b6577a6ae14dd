"""The program name and the exit statuses every ``digitpad`` command answers with."""

from __future__ import annotations

from digitpad.cli.terminal_text import shown

PROG = "digitpad"
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) collapsed to one space."""
    return " ".join(str(text).split())


def error_line(text: object) -> str:
    """The one sentence an error is reported as: ``digitpad: error: <text>``.

    Whitespace runs become one space, and control characters (from a file name or a file's
    contents quoted in the sentence) are shown as escapes, never sent to the terminal.
    """
    return f"{PROG}: error: {shown(one_line(text), backslash=False)}"
