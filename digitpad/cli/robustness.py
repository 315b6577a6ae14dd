"""``digitpad robustness``: a model's accuracy as the test digits are rotated, shifted, scaled,
thickened or thinned and noised."""

from __future__ import annotations

import argparse
from typing import IO, Any

from digitpad.cli.argtypes import positive_int
from digitpad.cli.exits import EXIT_OK
from digitpad.cli.models import load, model_path
from digitpad.cli.render import fmt_percent, table, write_json
from digitpad.core.tfsetup import stderr_silenced

DEFAULT_LIMIT = 1000


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``robustness``."""
    r = sub.add_parser(
        "robustness",
        help="accuracy under rotation, shift, scale, stroke thickness and noise",
        description="Perturb a random subset of the test images (rotate -45..45 degrees, shift "
        "right/left, scale, thicken/thin the strokes, add Gaussian noise) and print the model's "
        "accuracy at each strength. The subset and the noise depend only on --seed, so two "
        "models' curves can be compared.",
    )
    r.add_argument("--model", metavar="PATH", help="model file (default: the bundled model)")
    r.add_argument("--data", metavar="SOURCE", help="data source (default: bundled MNIST)")
    r.add_argument("--limit", type=positive_int, default=DEFAULT_LIMIT, metavar="N",
                   help=f"use a random subset of N test images (default {DEFAULT_LIMIT})")
    r.add_argument("--seed", type=int, default=0, help="chooses the subset and the noise")
    r.add_argument("--json", action="store_true", help="print a JSON object")


def _report_text(report: dict[str, Any]) -> str:
    lines = [f"model: {report['model']}", f"data:  {report['data']}"]
    for name, curve in report["curves"].items():
        rows = [[f"{v:g}", fmt_percent(a)]
                for v, a in zip(curve["values"], curve["accuracies"], strict=True)]
        lines += ["", f"{name} ({curve['unit']}):",
                  table([curve["unit"], "accuracy"], rows, right=[True, True])]
    return "\n".join(lines)


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Print the accuracy curves (or a JSON object)."""
    from digitpad.core.data import load_dataset
    from digitpad.core.inference import Predictor
    from digitpad.core.robustness import robustness_curves

    path = model_path(args.model)
    loaded = load(path)
    dataset = load_dataset(args.data)
    x, y, split = dataset.evaluation_split()
    with stderr_silenced():
        predictor = Predictor(loaded)
    curves = robustness_curves(predictor, x, y, n=args.limit, seed=args.seed)
    n = min(args.limit, len(x))
    report = {
        "model": str(path),
        "data": f"{dataset.source} ({split} split, {n} images)",
        "n": n,
        "seed": args.seed,
        "curves": {name: curve.to_dict() for name, curve in curves.items()},
    }
    if args.json:
        write_json(report, out)
    else:
        print(_report_text(report), file=out, flush=True)
    return EXIT_OK
