"""``digitpad sweep``: train one run per value of one hyper-parameter and compare them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import IO, Any

from digitpad.cli.argtypes import fraction, nonneg_int, positive_float, positive_int
from digitpad.cli.exits import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, PROG, one_line
from digitpad.cli.progress import ProgressPrinter
from digitpad.cli.quiet import quiet_tensorflow
from digitpad.cli.render import fmt_duration, fmt_percent, table, write_json
from digitpad.cli.sigint import StopOnSigint
from digitpad.core.errors import DigitpadError
from digitpad.core.training.sweep_values import SWEEP_PARAMS, canonical_param, format_value

DESCRIPTION = (
    "Vary one hyper-parameter over a list of values, everything else fixed: one training run "
    "per value, one after another, a line per run as it finishes, then a table (value, train, "
    "validation and test accuracy, time, parameters). Every run is added to the run history. "
    "Ctrl-C stops the run in progress and keeps the finished ones (exit status 130)."
)
STOP_NOTICE = "stopping the sweep after the current batch (finished runs are kept)…"

# the option that sets each sweepable parameter (refused when the sweep sets that parameter)
FIXED_OPTIONS = {"dropout": "dropout", "learning_rate": "lr", "batch_size": "batch_size",
                 "epochs": "epochs", "optimizer": "optimizer", "augment": "augment",
                 "arch": "arch"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sweep`` and its options."""
    s = sub.add_parser("sweep", help="train one run per value of a hyper-parameter",
                       description=DESCRIPTION)
    add = s.add_argument
    add("--param", required=True, metavar="NAME",
        help=f"the parameter to vary: {', '.join(SWEEP_PARAMS)}")
    add("--values", required=True, metavar="V1,V2,…",
        help="comma-separated values, e.g. 0.0,0.1,0.2 (augment: on,off; arch: names)")
    add("--arch", metavar="NAME", help="architecture (default: fast)")
    add("--epochs", type=positive_int, metavar="N", help="epochs (default: the architecture's)")
    add("--batch-size", type=positive_int, metavar="N", help="batch size")
    add("--lr", type=positive_float, metavar="X", help="learning rate")
    add("--optimizer", type=str.lower, metavar="NAME", help="optimizer")
    add("--augment", action=argparse.BooleanOptionalAction, default=None,
        help="random shifts/rotations of the training images")
    add("--dropout", type=fraction, metavar="RATE",
        help="every Dropout layer's rate (architectures with dropout)")
    add("--val-split", type=fraction, default=0.1, metavar="F",
        help="validation fraction (default: 0.1)")
    add("--data", metavar="SOURCE", help="data source (default: bundled MNIST)")
    add("--device", default="auto", metavar="DEV", help="cpu, gpu, gpu:N or auto (default)")
    add("--seed", type=nonneg_int, default=0, metavar="N", help="random seed (default: 0)")
    add("--limit", "--train-limit", dest="limit", type=positive_int, metavar="N",
        help="train each run on a random subset of N training images")
    add("--test-limit", type=positive_int, metavar="N",
        help="test on a random subset of N test images")
    add("--json", action="store_true",
        help="print the rows as a JSON list on stdout (the per-run lines go to stderr)")
    add("--csv", metavar="FILE", help="also write the rows to a CSV file")


def base_config(args: argparse.Namespace, param: str) -> Any:
    """The fixed part of the sweep's configuration; an option that sets ``param`` is refused."""
    from digitpad.core.training import TrainConfig

    option = FIXED_OPTIONS[param]
    if getattr(args, option) is not None:
        flag = "--" + option.replace("_", "-")
        raise DigitpadError(f"{flag} cannot be combined with --param {param}: the sweep sets it.")
    return TrainConfig(
        arch=args.arch or "fast", epochs=args.epochs, batch_size=args.batch_size,
        optimizer=args.optimizer, learning_rate=args.lr, augment=args.augment,
        dropout=args.dropout, val_split=args.val_split, seed=args.seed, device=args.device,
        data=args.data, train_limit=args.limit, test_limit=args.test_limit,
    )


def check_csv_path(text: str) -> Path:
    """Refuse an unusable ``--csv`` before anything trains."""
    path = Path(text).expanduser()
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise DigitpadError(f"--csv {path} is a folder, not a file name.")
    if not parent.is_dir():
        raise DigitpadError(f"cannot write {path}: the folder {parent} does not exist.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DigitpadError(f"cannot write {path}: the folder {parent} is not writable.")
    return path


def run_line(row: Any, runs: int, param: str) -> str:
    """The line printed when a run finishes."""
    parts = [f"run {row.index + 1}/{runs}", f"{param}={format_value(row.value)}",
             f"train {fmt_percent(row.train_accuracy)}", f"val {fmt_percent(row.val_accuracy)}",
             f"test {fmt_percent(row.test_accuracy)}", fmt_duration(row.seconds)]
    if row.status.value != "completed":
        parts.append(f"({row.status.value}: {one_line(row.reason)})")
    return "  ".join(parts)


def result_table(result: Any) -> str:
    """The table of a sweep's rows."""
    headers = [result.param, "status", "train acc", "val acc", "test acc", "time", "params"]
    rows = [[format_value(r.value), r.status.value, fmt_percent(r.train_accuracy),
             fmt_percent(r.val_accuracy), fmt_percent(r.test_accuracy), fmt_duration(r.seconds),
             f"{r.params:,}"] for r in result.rows]
    return table(headers, rows, right=[False, False, True, True, True, True, True])


class SweepPrinter:
    """Turns :class:`~digitpad.core.training.sweep.SweepProgress` events into terminal lines."""

    def __init__(self, lines: IO[str], err: IO[str]) -> None:
        self.lines = lines
        self.inner = ProgressPrinter(err, err)  # the bar of the run in progress, its epoch lines

    def __call__(self, p: Any) -> None:
        if p.kind in ("batch", "run") and p.progress is not None:
            self.inner(p.progress)
        elif p.kind == "run_start":
            left = f"; sweep time left {fmt_duration(p.eta_s)}" if p.eta_s is not None else ""
            self.inner.note(f"run {p.index + 1}/{p.runs}: {p.param}={format_value(p.value)}{left}")
        elif p.kind == "run_end" and p.row is not None:
            self.inner.clear()
            print(run_line(p.row, p.runs, p.param), file=self.lines, flush=True)


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run a sweep from the command line."""
    from digitpad.core.training.sweep import Sweep

    param = canonical_param(args.param)
    csv_path = check_csv_path(args.csv) if args.csv else None
    base = base_config(args, param)
    sweep = Sweep(base, param, args.values, record=True)  # TrainingError: before anything trains
    lines = err if args.json else out

    quiet_tensorflow()
    from digitpad.core.data import load_dataset
    from digitpad.core.tfsetup import describe_device, resolve_device

    device = describe_device(resolve_device(args.device))
    sweep.dataset = load_dataset(args.data)
    values = ", ".join(format_value(v) for v in sweep.values)
    print(f"device: {device}", file=lines)
    print(f"data: {sweep.dataset.source}", file=lines)
    print(f"sweep: {param} over {values} ({len(sweep.values)} run(s)) with {base.arch}",
          file=lines, flush=True)
    printer = SweepPrinter(lines, err)
    sweep.on_progress = printer
    with StopOnSigint(sweep.request_stop, printer.inner.note_from_signal,
                      first_notice=STOP_NOTICE) as guard:
        result = sweep.run()
    printer.inner.clear()
    print("", file=lines)
    print(result_table(result), file=lines)
    if result.best is not None:
        best = result.best
        print(f"best: {param}={format_value(best.value)} (validation "
              f"{fmt_percent(best.val_accuracy)}, test {fmt_percent(best.test_accuracy)})",
              file=lines, flush=True)
    for note in sweep.record_errors:
        print(f"{PROG}: note: {note}", file=err)
    if args.json:
        write_json(result.table(), out)
    if csv_path is not None:
        from digitpad.core.run_table import write_csv

        try:
            write_csv(csv_path, result.table())
        except OSError as exc:
            raise DigitpadError(f"cannot write {csv_path}: {exc.strerror or exc}.") from None
        print(f"wrote {csv_path.resolve()}", file=lines, flush=True)
    if result.stopped or guard.interrupted:
        print(f"stopped by user after {len(result.rows)} of {len(sweep.values)} run(s)",
              file=lines, flush=True)
        return EXIT_INTERRUPTED
    failed = [r for r in result.rows if r.status.value == "failed"]
    if failed:
        print(f"{PROG}: error: {len(failed)} of {len(result.rows)} run(s) failed: "
              f"{one_line(failed[0].reason)}", file=err, flush=True)
        return EXIT_ERROR
    return EXIT_OK
