"""Evaluating a model on the 10,000 MNIST test images: digitpad's ``evaluate_model`` (batched
through the Predictor's LiteRT fast path) against ``model.predict`` on the same data.

Both are timed end to end on the same model in the same process (``evaluate_model`` includes the
metrics and per-image results; ``model.predict`` only the probabilities), after one untimed warm-up
run each; the predictor is built before timing (its set-up is reported separately). Prints a
Markdown table with median / min seconds, CPU seconds of the calling thread, and the speed-up
ratio; checks that both give the same predicted digits. Goal: 10,000 images in <= 2 s.

    python bench/bench_evaluate.py [--model PATH] [--repeats 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import machine_line, markdown_table, write_json  # noqa: E402


def _timed(fn, repeats: int) -> tuple[list[float], list[float], object]:
    fn()  # warm-up: tracing, interpreter allocation
    wall, cpu, result = [], [], None
    for _ in range(repeats):
        c0, t0 = time.thread_time(), time.perf_counter()
        result = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    return wall, cpu, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model file (default: the bundled model)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    from digitpad.core.data import load_dataset, to_model_input
    from digitpad.core.evaluation import evaluate_model
    from digitpad.core.inference import Predictor
    from digitpad.core.modelfile import load_model
    from digitpad.core.paths import bundled_model_path

    model = load_model(args.model or bundled_model_path()).model
    ds = load_dataset(None)
    x, y = ds.x_test, ds.y_test
    predictor = Predictor(model)
    inputs = to_model_input(x)

    fast_wall, fast_cpu, ev = _timed(lambda: evaluate_model(predictor, x, y), args.repeats)
    base_wall, base_cpu, probs = _timed(
        lambda: model.predict(inputs, batch_size=1024, verbose=0), args.repeats
    )
    same = bool(np.array_equal(ev.y_pred, np.asarray(probs).argmax(axis=1)))
    ratio = float(np.median(base_wall) / np.median(fast_wall))
    rows = [
        [f"evaluate_model ({predictor.backend})", f"{np.median(fast_wall):.3f}",
         f"{min(fast_wall):.3f}", f"{np.median(fast_cpu):.3f}", f"{ratio:.2f}x"],
        ["model.predict (baseline)", f"{np.median(base_wall):.3f}", f"{min(base_wall):.3f}",
         f"{np.median(base_cpu):.3f}", "1.00x"],
    ]
    print(f"{len(x)} MNIST test images, {args.repeats} runs each; {machine_line()}")
    print(f"predictor set-up: {predictor.setup_ms:.0f} ms ({predictor.description}); "
          f"same predicted digits: {same}; accuracy {ev.accuracy:.4f}")
    print(markdown_table(["path", "median s", "min s", "CPU s (thread)", "speed-up"], rows))
    if args.json:
        write_json(args.json, {
            "images": int(len(x)), "backend": predictor.backend, "same_predictions": same,
            "evaluate_model_s": fast_wall, "model_predict_s": base_wall, "speedup": ratio,
        })
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
