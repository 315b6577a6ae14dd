"""``digitpad info``: what is inside a model file (loaded safely: no code from it runs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO

from digitpad.cli.argtypes import nonempty
from digitpad.cli.exits import EXIT_OK
from digitpad.cli.quiet import quiet_tensorflow
from digitpad.cli.render import info_text, write_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``info``."""
    i = sub.add_parser(
        "info",
        help="describe a model file",
        description="Format, size, architecture and training metadata, input/output adaptation, "
        "optimizer state and layer table of a model file. The file is checked and loaded safely; "
        "no code from it runs.",
    )
    i.add_argument("model", type=nonempty, metavar="MODEL", help="model file (.keras or .h5)")
    i.add_argument("--json", action="store_true", help="print a JSON object")


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Print :func:`digitpad.core.modelfile.describe` of the file, as text or JSON."""
    from digitpad.core.modelfile import describe

    quiet_tensorflow()
    info = dict(describe(Path(args.model).expanduser()))
    if args.json:
        write_json(info, out)
    else:
        print(info_text(info), file=out, flush=True)
    return EXIT_OK
