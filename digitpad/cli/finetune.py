"""``digitpad finetune``: train a model further on MNIST plus a folder of your own drawings."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO

from digitpad.cli.argtypes import epochs, nonempty
from digitpad.cli.exits import EXIT_INTERRUPTED, EXIT_OK, PROG
from digitpad.cli.models import load, model_path
from digitpad.cli.outpath import check_out_path
from digitpad.cli.progress import ProgressPrinter
from digitpad.cli.render import fmt_percent, table, write_json
from digitpad.cli.sigint import StopOnSigint
from digitpad.cli.terminal_text import shown

DESCRIPTION = (
    "Fine-tune a model on MNIST plus a folder of your drawings (0/ … 9/ sub-folders of images, "
    "e.g. the personal data set the app keeps, or PNGs alone). A part of each digit's drawings "
    "is held out; accuracy on them and on the MNIST test set is shown before and after. The "
    "starting model is not changed; the tuned one is saved to --out."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``finetune``."""
    f = sub.add_parser("finetune", help="fine-tune a model on your own drawings",
                       description=DESCRIPTION)
    f.add_argument("--model", type=nonempty, metavar="PATH",
                   help="model to start from (default: the bundled model)")
    f.add_argument("--drawings", type=nonempty, metavar="FOLDER", required=True,
                   help="folder with sub-folders 0/ … 9/ of drawings")
    f.add_argument("--epochs", type=epochs, metavar="N", help="epochs (default: 4)")  # = FinetuneConfig().epochs (tested)
    f.add_argument("--out", type=nonempty, metavar="PATH",
                   help="where to save the tuned model (default: ./<model>-finetuned.keras)")
    f.add_argument("--json", action="store_true", help="print a JSON object")


def _text(report: dict) -> str:
    before, after = report["before"], report["after"]
    rows = [
        ["held-out drawings", fmt_percent(before["drawings_accuracy"], "–"),
         fmt_percent(after["drawings_accuracy"], "–")],
        ["MNIST test", fmt_percent(before["mnist_accuracy"]), fmt_percent(after["mnist_accuracy"])],
    ]
    lines = [table(["accuracy on", "before", "after"], rows, right=[False, True, True]),
             f"held out: {report['held_out']} drawing(s); trained on "
             f"{report['trained_drawings']} drawing(s) and {report['trained_images']} images"]
    if not report["mnist_within_bound"]:
        lines.append(f"warning: MNIST test accuracy fell by {report['mnist_drop_points']:.2f} "
                     "points (more than 0.2); try fewer epochs.")
    lines.append(f"saved tuned model to {shown(report['out'])}")
    return "\n".join(lines)


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Fine-tune, print the before/after table (or JSON), save the tuned model."""
    from digitpad.core.finetune import FinetuneConfig, Finetuner
    from digitpad.core.modelfile import save_model
    from digitpad.core.personal import load_drawings
    from digitpad.core.training import RunStatus

    path = model_path(args.model)
    target = Path(args.out).expanduser() if args.out else Path(f"{path.stem}-finetuned.keras")
    target = check_out_path(target)
    drawings = load_drawings(args.drawings)
    if drawings.message():
        print(f"{PROG}: note: {drawings.message()}", file=err, flush=True)
    loaded = load(path)
    arch = str(loaded.metadata.get("arch") or "fast")
    from digitpad.core.archs import ARCHS

    config = FinetuneConfig(arch=arch if arch in ARCHS else "fast")
    if args.epochs is not None:
        config.epochs = args.epochs
    printer = ProgressPrinter(err if args.json else out, err)
    tuner = Finetuner(loaded.model, drawings, config=config, on_progress=printer,
                      base_metadata=loaded.metadata)
    with StopOnSigint(tuner.request_stop, printer.note_from_signal) as guard:
        result = tuner.run()
        printer.clear()
        saved = save_model(result.model, target, metadata=result.metadata)
    report = {"model": str(path), "drawings": str(drawings.folder), **result.to_dict(),
              "out": str(Path(saved).resolve())}
    if args.json:
        write_json(report, out)
    else:
        print(_text(report), file=out, flush=True)
    stopped = result.status is RunStatus.STOPPED or guard.interrupted
    return EXIT_INTERRUPTED if stopped else EXIT_OK
