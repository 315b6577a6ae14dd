"""``digitpad export``: write a model as TFLite, ONNX or SavedModel, verified before it is kept."""

from __future__ import annotations

import argparse
from typing import IO

from digitpad.cli.exits import EXIT_OK
from digitpad.cli.models import load, model_path
from digitpad.cli.render import human_size, write_json

FORMAT_NAMES = ("tflite", "onnx", "savedmodel")
DESCRIPTION = (
    "Export a model for use elsewhere: tflite (run with LiteRT), onnx (onnxruntime; needs "
    "pip install 'digitpad[export]') or savedmodel (a TensorFlow SavedModel folder). After "
    "writing, the export is loaded with its own runtime and its probabilities on 1,000 MNIST "
    "test images are compared with the Keras model's: the largest difference (at most 1e-5) is "
    "printed. An export that does not verify is removed; the target is left as it was."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``export``."""
    e = sub.add_parser("export", help="export a model (tflite, onnx, savedmodel), verified",
                       description=DESCRIPTION)
    e.add_argument("model", metavar="MODEL", help="the model file (.keras or .h5)")
    e.add_argument("--format", required=True, choices=FORMAT_NAMES, type=str.lower,
                   help="tflite, onnx or savedmodel")
    e.add_argument("--out", required=True, metavar="PATH",
                   help="the .tflite / .onnx file, or the SavedModel folder, to write")
    e.add_argument("--json", action="store_true", help="print a JSON object")


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Export, verify and report."""
    from digitpad.core.export import check_available, check_out_path, export_model, get_format
    from digitpad.core.tfsetup import quiet_native_stderr

    fmt = get_format(args.format)
    check_available(fmt)  # a missing optional dependency: one sentence, before any work
    check_out_path(fmt, args.out)
    loaded = load(model_path(args.model))
    with quiet_native_stderr():  # LiteRT and tf2onnx print C++ log lines
        result = export_model(loaded.model, fmt.NAME, args.out)
    check = result.verification
    if args.json:
        write_json({"model": str(loaded.path), "format": result.format,
                    "path": str(result.path.resolve()), "size_bytes": result.size_bytes,
                    "runtime": check.runtime, "images": check.n_images,
                    "max_diff": check.max_diff, "tolerance": check.tolerance,
                    "verified": True}, out)
        return EXIT_OK
    print(f"exported {loaded.path.name} as {result.format} to {result.path.resolve()} "
          f"({human_size(result.size_bytes)})", file=out)
    print(check.text(), file=out, flush=True)
    return EXIT_OK
