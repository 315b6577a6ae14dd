"""Where one whole ``digitpad train --arch fast`` process spends its time, phase by phase.

It does what the command does, in the same order and with the same defaults (validation split
0.1, calibration, test evaluation, run history, saving), and prints one JSON line of seconds per
phase, measured from the start of the interpreter's run of this file:

``python`` (interpreter start to this file, measured by the caller, not here), ``import
digitpad``, ``import tensorflow`` (TensorFlow and Keras), ``data`` (bundled MNIST decoded),
``model`` (building and compiling), ``first call`` (tracing the train function and its first
8 batches), ``epoch`` (the rest of the epoch and the validation), ``calibration``, ``test
evaluation``, ``save``.

Usage::

    python bench/train_phases.py --out /tmp/fast.keras
"""

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    marks: list[tuple[str, float]] = []

    def mark(name: str) -> None:
        marks.append((name, time.perf_counter()))

    import digitpad.cli.main  # noqa: F401  (what the command imports first)

    mark("import digitpad")
    from digitpad.cli.quiet import quiet_tensorflow
    from digitpad.core.tfsetup import keras, tf

    quiet_tensorflow()
    tf()
    keras()
    mark("import tensorflow")
    from digitpad.core.data.combine import load_datasets
    from digitpad.core.modelfile import save_model
    from digitpad.core.training import TrainConfig, TrainingSession

    dataset = load_datasets(None)
    mark("data")
    seen: set[str] = set()

    def progress(p) -> None:
        if p.kind == "start":
            mark("model")
        elif p.kind == "batch" and "first call" not in seen:
            seen.add("first call")
            mark("first call")
        elif p.kind == "epoch":
            mark("epoch")
        elif p.kind == "message" and p.message.startswith("confidence calibrated"):
            mark("calibration")
        elif p.kind == "end":
            mark("test evaluation")

    session = TrainingSession(TrainConfig(arch="fast", seed=args.seed), dataset=dataset,
                              on_progress=progress)
    result = session.run()
    save_model(result.model, args.out, metadata=result.metadata())
    mark("save")
    out, last = {}, T0
    for name, t in marks:
        out[name] = round(t - last, 3)
        last = t
    out["total (this file)"] = round(last - T0, 3)
    out["test_accuracy"] = result.test_accuracy
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
