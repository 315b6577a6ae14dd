"""The ``digitpad`` entry point: assemble the parser from the command modules, dispatch, and turn
every failure into an exit status and at most one sentence on stderr."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Callable, Sequence
from typing import IO, NoReturn

from digitpad import __version__
from digitpad.cli import (
    archs,
    evaluate,
    explain,
    export,
    finetune,
    gui,
    info,
    predict,
    robustness,
    sweep,
    train,
)
from digitpad.cli.exits import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PROG, error_line
from digitpad.cli.quiet import quiet_environment
from digitpad.core.errors import DigitpadError
from digitpad.core.tfsetup import debug_enabled

Command = Callable[[argparse.Namespace, IO[str], IO[str]], int]

# name -> module with add_parser(sub) and run(args, out, err); the order of `digitpad --help`
MODULES = {
    "gui": gui,
    "train": train,
    "finetune": finetune,
    "sweep": sweep,
    "evaluate": evaluate,
    "robustness": robustness,
    "predict": predict,
    "explain": explain,
    "info": info,
    "export": export,
    "archs": archs,
}
COMMANDS: dict[str, Command] = {name: module.run for name, module in MODULES.items()}


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one ``digitpad: error:`` line naming the ``--help`` to read.

    Subcommand parsers are made of the same class (``add_subparsers`` uses ``type(self)``).
    """

    def error(self, message: str) -> NoReturn:
        """Print ``digitpad: error: <message> (see digitpad <command> --help)`` and exit 2."""
        self.exit(EXIT_USAGE, error_line(f"{message} (see {self.prog} --help)") + "\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``digitpad`` argument parser (exposed for documentation and tests)."""
    parser = OneLineParser(
        prog=PROG,
        description="Draw a digit, see what a neural network thinks it is, and train that network "
        "yourself. Without a subcommand the desktop app opens.",
        epilog="Exit status: 0 ok, 1 error, 2 usage error, 130 interrupted (train saves first). "
        "Set DIGITPAD_DEBUG=1 to see tracebacks and TensorFlow's logs.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in MODULES.values():
        module.add_parser(sub)
    return parser


def _print_error(err: IO[str], text: object) -> None:
    print(error_line(text), file=err, flush=True)


def _dispatch(command: str, args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    try:
        return COMMANDS[command](args, out, err)
    except DigitpadError as exc:
        if debug_enabled():
            raise
        _print_error(err, exc)
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            err.write("\n")
            err.flush()
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `digitpad predict *.png | head`: the reader went away; stop quietly.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    except MemoryError:
        if debug_enabled():
            raise
        _print_error(err, "out of memory.")
    except Exception as exc:  # never a traceback for the user
        if debug_enabled():
            raise
        message = " ".join(str(exc).split()) or "no details"
        _print_error(err, f"unexpected {type(exc).__name__}: {message} (please report)")
    return EXIT_ERROR


def _tolerant_streams() -> None:
    """Let stdout write any text: a character the terminal's encoding lacks, or a byte of a file
    name that is not UTF-8, becomes a backslash escape instead of a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(Exception):
                stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``digitpad`` command line.

    Parameters
    ----------
    argv
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 ok, 1 error, 2 usage error, 130 interrupted.
    """
    _tolerant_streams()
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help, --version, usage errors
        code = exc.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    command = args.command or "gui"
    if command != "gui":
        quiet_environment()
    return _dispatch(command, args, sys.stdout, sys.stderr)
