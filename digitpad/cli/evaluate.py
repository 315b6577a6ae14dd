"""``digitpad evaluate``: accuracy, loss, per-class accuracy and confusion matrix of a model."""

from __future__ import annotations

import argparse
from typing import IO, Any

from digitpad.cli.argtypes import nonempty, positive_int
from digitpad.cli.exits import EXIT_OK
from digitpad.cli.models import load, model_path
from digitpad.cli.render import confusion_table, fmt_metric, fmt_percent, table, write_json
from digitpad.cli.terminal_text import shown
from digitpad.core.errors import DigitpadError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``evaluate``."""
    e = sub.add_parser(
        "evaluate",
        help="accuracy, loss, per-class accuracy and confusion matrix",
        description="Evaluate a model on the test split of a data source (the whole set when it "
        "has no test split).",
    )
    e.add_argument("--model", type=nonempty, metavar="PATH", help="model file (default: the bundled model)")
    e.add_argument("--data", type=nonempty, metavar="SOURCE", help="data source (default: bundled MNIST)")
    e.add_argument(
        "--limit", type=positive_int, metavar="N", help="evaluate a random subset of N images"
    )
    e.add_argument(
        "--misclassified", metavar="DIR",
        help="write the misread images into DIR as PNGs named "
        "<index>_true<digit>_pred<digit>_<confidence>.png",
    )
    e.add_argument("--json", action="store_true", help="print a JSON object")


def _report_text(report: dict[str, Any]) -> str:
    confusion = report["confusion"]
    per_class = report["per_class"]
    n, accuracy = report["n"], report["accuracy"]
    counts = [int(sum(row)) for row in confusion]
    rows = [  # a digit the data has no images of has no accuracy: say so, not "nan %"
        [d, counts[d], fmt_percent(per_class[d], "no images" if counts[d] == 0 else "?")]
        for d in range(len(per_class))
    ]
    return "\n".join(
        [
            f"model:    {shown(report['model'])}",
            f"data:     {shown(report['data'])}",
            f"accuracy: {fmt_percent(accuracy)}  ({int(round(accuracy * n))}/{n} correct)",
            f"loss:     {fmt_metric(report['loss'])}",
            "",
            "per-class accuracy:",
            table(["digit", "images", "accuracy"], rows, right=[True, True, True]),
            "",
            "confusion matrix (rows: true digit, columns: predicted digit):",
            confusion_table(confusion),
        ]
        + (
            [f"\nmisread images written: {report['misclassified']['written']} "
             f"into {shown(report['misclassified']['folder'])}"]
            if "misclassified" in report else []
        )
    )


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Evaluate the model on the test split (or the whole set), optionally a random subset."""
    import numpy as np

    from digitpad.cli.predict import LITERT_MIN_IMAGES
    from digitpad.core.data import load_dataset
    from digitpad.core.evaluation import evaluate_model, write_misclassified
    from digitpad.core.inference import Predictor
    from digitpad.core.tfsetup import stderr_silenced

    path = model_path(args.model)
    loaded = load(path)
    dataset = load_dataset(args.data)
    x, y, split = dataset.evaluation_split()
    idx = np.arange(len(x))
    if args.limit is not None and args.limit < len(x):
        idx = np.sort(np.random.default_rng(0).permutation(len(x))[: args.limit])
        x, y = x[idx], y[idx]
    with stderr_silenced():  # LiteRT pays off over many images (see predict)
        predictor = Predictor(loaded, backend="auto" if len(x) > LITERT_MIN_IMAGES
                              else "tf.function")
    res = evaluate_model(predictor, x, y, source=dataset.source)
    report = {
        "model": str(path),
        "data": f"{dataset.source} ({split} split, {res.n} images)",
        "n": int(res.n),
        "accuracy": float(res.accuracy),
        "loss": float(res.loss),
        "per_class": res.per_class,
        "confusion": np.asarray(res.confusion).astype(int).tolist(),
    }
    if args.misclassified:
        try:
            written = write_misclassified(res, x, args.misclassified, indices=idx)
        except OSError as exc:
            raise DigitpadError(f"cannot write the misread images into {args.misclassified}: "
                                f"{exc.strerror or exc}.") from None
        report["misclassified"] = {"folder": args.misclassified, "written": len(written)}
    if args.json:
        write_json(report, out)
    else:
        print(_report_text(report), file=out, flush=True)
    return EXIT_OK
