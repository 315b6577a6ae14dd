"""``digitpad archs``: the registered architectures with their parameter counts and defaults."""

from __future__ import annotations

import argparse
from typing import IO, Any

from digitpad.cli.exits import EXIT_OK
from digitpad.cli.quiet import quiet_tensorflow
from digitpad.cli.render import table, write_json

HEADERS = ("name", "params", "optimizer", "lr", "batch", "epochs", "description")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``archs``."""
    a = sub.add_parser(
        "archs",
        help="list the registered architectures",
        description="List the registered architectures.",
    )
    a.add_argument("--json", action="store_true", help="print a JSON list")


def records() -> list[dict[str, Any]]:
    """One dict per registered architecture, in registry order."""
    from digitpad.core.archs import ARCHS, param_count

    return [
        {
            "name": name,
            "params": int(param_count(name)),
            "optimizer": spec.optimizer,
            "learning_rate": float(spec.learning_rate),
            "batch_size": int(spec.batch_size),
            "epochs": int(spec.epochs),
            "schedule": spec.schedule,
            "augment": bool(spec.augment),
            "description": spec.description,
        }
        for name, spec in ARCHS.items()
    ]


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Print the architectures as a table, or as JSON with ``--json``."""
    quiet_tensorflow()
    found = records()
    if args.json:
        write_json(found, out)
        return EXIT_OK
    rows = [
        [
            r["name"],
            f"{r['params']:,}",
            r["optimizer"],
            f"{r['learning_rate']:g}",
            r["batch_size"],
            r["epochs"],
            r["description"],
        ]
        for r in found
    ]
    print(
        table(HEADERS, rows, right=[False, True, False, True, True, True, False]),
        file=out,
        flush=True,
    )
    return EXIT_OK
