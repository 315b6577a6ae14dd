"""Inference latency of digitpad against ``model.predict``, measured in one run on one machine.

Measures, on the same model in the same process:

* ``model.predict`` on one image (the baseline: the classic tutorials' "predict a new image" step),
* a direct Keras call ``model(x, training=False)``,
* digitpad's ``tf.function`` fallback (``Predictor(backend="tf.function").predict_one``),
* digitpad's LiteRT fast path (``Predictor().predict_one``),
* the full path a drawing takes: a 280x280 canvas -> MNIST-style normalisation -> probabilities
  (``recognize``), and normalisation alone,
* batched throughput for 1000 images: ``model.predict`` against ``Predictor.predict_batch``,

checks that LiteRT's probabilities equal Keras's (max abs difference on real MNIST test images)
and prints a Markdown table with median, p99, calls/s and the speed-up against ``model.predict``.

Usage::

    python bench/bench_inference.py [--model PATH] [--json PATH] [--quick]

Default model: the bundled ``models/default.keras`` if it exists, else the ``fast`` architecture
from the registry (untrained: latency does not depend on the weights), else a small CNN defined
here.
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

from bench.common import (  # noqa: E402
    fmt_ms,
    machine_description,
    machine_line,
    markdown_table,
    time_calls,
    write_json,
)

GOAL_MODEL_P99_MS = 0.3
GOAL_CANVAS_P99_MS = 1.0
GOAL_SPEEDUP = 200.0
GOAL_DIFF = 1e-5


def _local_cnn():
    """A small CNN (the issue's lean design), used when neither a bundled model nor archs exist."""
    from digitpad.core.tfsetup import keras

    k = keras()
    k.utils.set_random_seed(0)
    return k.Sequential(
        [
            k.Input((28, 28, 1)),
            k.layers.Conv2D(16, 5, strides=2, padding="same", activation="relu"),
            k.layers.Conv2D(32, 3, padding="same", activation="relu"),
            k.layers.MaxPooling2D(),
            k.layers.Flatten(),
            k.layers.Dense(128, activation="relu"),
            k.layers.Dense(10, activation="softmax"),
        ],
        name="bench_small_cnn",
    )


def load_bench_model(path: str | None):
    """Return (model, description) following the --model / bundled / archs / local order."""
    from digitpad.core.paths import bundled_model_path

    if path is None and bundled_model_path().exists():
        path = str(bundled_model_path())
    if path is not None:
        try:
            from digitpad.core.modelfile import load_model

            loaded = load_model(path)
            return loaded.model, f"{path} ({loaded.format})"
        except ImportError:
            from digitpad.core.tfsetup import keras

            return keras().models.load_model(path, safe_mode=True), path
    try:
        from digitpad.core.archs import build_model

        return build_model("fast"), "archs 'fast' (untrained weights)"
    except ImportError:
        return _local_cnn(), "local small CNN (untrained weights)"


def make_canvases(x_uint8: np.ndarray, count: int = 64) -> list[np.ndarray]:
    """280x280 uint8 canvases with real MNIST digits drawn large and off-centre."""
    rng = np.random.default_rng(0)
    canvases = []
    for i in range(count):
        scale = int(rng.integers(4, 9))
        big = np.kron(x_uint8[i % len(x_uint8)], np.ones((scale, scale), np.uint8))
        canvas = np.zeros((280, 280), np.uint8)
        top = int(rng.integers(0, 280 - big.shape[0] + 1))
        left = int(rng.integers(0, 280 - big.shape[1] + 1))
        canvas[top : top + big.shape[0], left : left + big.shape[1]] = big
        canvases.append(canvas)
    return canvases


def run(model_path: str | None, quick: bool = False) -> dict:
    from digitpad.core.data import load_dataset, to_model_input
    from digitpad.core.inference import Predictor, recognize
    from digitpad.core.normalize import normalize_canvas
    from digitpad.core.tfsetup import tf

    tf()  # import before timing anything
    scale = 0.2 if quick else 1.0

    def n(calls: int) -> int:
        return max(10, int(calls * scale))

    model, model_desc = load_bench_model(model_path)
    data = load_dataset(None)
    x_test = data.x_test[:1000]
    x_float = to_model_input(x_test)  # (1000, 28, 28, 1) float32
    singles = [x_float[i : i + 1] for i in range(64)]
    canvases = make_canvases(x_test)

    t0 = time.perf_counter()
    lite = Predictor(model)
    lite_setup_ms = (time.perf_counter() - t0) * 1000
    tff = Predictor(model, backend="tf.function")

    # equality on real MNIST test images
    keras_probs = np.concatenate(
        [np.asarray(model(x_float[i : i + 250], training=False)) for i in range(0, 1000, 250)]
    )
    one_by_one = np.stack([lite.predict_one(x_float[i, ..., 0]) for i in range(len(x_float))])
    diff_one = float(np.abs(one_by_one - keras_probs).max())
    diff_batch = float(np.abs(lite.predict_batch(x_float) - keras_probs).max())
    diff_tf = float(np.abs(tff.predict_batch(x_float) - keras_probs).max())

    timings = []
    timings.append(
        time_calls(
            "model.predict (baseline)",
            lambda i: model.predict(singles[i % 64], verbose=0),
            n(40),
            warmup=3,
        )
    )
    timings.append(
        time_calls(
            "Keras direct call model(x)", lambda i: model(singles[i % 64], training=False), n(300)
        )
    )
    timings.append(
        time_calls(
            "tf.function predict_one", lambda i: tff.predict_one(singles[i % 64][0]), n(2000)
        )
    )
    timings.append(
        time_calls(
            f"{lite.backend} predict_one",
            lambda i: lite.predict_one(singles[i % 64][0]),
            n(20000),
            warmup=500,
        )
    )
    timings.append(
        time_calls(
            "normalize_canvas 280x280 only", lambda i: normalize_canvas(canvases[i % 64]), n(5000)
        )
    )
    timings.append(
        time_calls(
            f"canvas 280x280 -> probs ({lite.backend})",
            lambda i: recognize(lite, canvases[i % 64]),
            n(5000),
            warmup=200,
        )
    )
    base = timings[0]

    # batch throughput: 1000 images
    reps = 3 if quick else 5
    batch_predict = time_calls(
        "model.predict 1000 images",
        lambda i: model.predict(x_float, batch_size=256, verbose=0),
        reps,
        warmup=1,
    )
    batch_lite = time_calls(
        f"{lite.backend} predict_batch 1000 images",
        lambda i: lite.predict_batch(x_float),
        reps,
        warmup=1,
    )

    by_name = {t.name: t for t in timings}
    model_alone = by_name[f"{lite.backend} predict_one"]
    canvas = by_name[f"canvas 280x280 -> probs ({lite.backend})"]
    return {
        "machine": machine_description(),
        "model": model_desc,
        "params": int(model.count_params()),
        "backend": lite.backend,
        "fallback_reason": lite.fallback_reason,
        "predictor_setup_ms": lite_setup_ms,
        "max_abs_diff": {
            "litert_one_vs_keras": diff_one,
            "litert_batch_vs_keras": diff_batch,
            "tf_function_vs_keras": diff_tf,
        },
        "timings": timings,
        "batch": {"baseline": batch_predict, "digitpad": batch_lite, "images": len(x_float)},
        "speedup_model_alone_median": base.median_ms / model_alone.median_ms,
        "speedup_model_alone_p99": base.p99_ms / model_alone.p99_ms,
        "speedup_canvas_median": base.median_ms / canvas.median_ms,
        "goals": {
            f"model alone p99 <= {GOAL_MODEL_P99_MS} ms": model_alone.p99_ms <= GOAL_MODEL_P99_MS,
            f"canvas to probabilities p99 <= {GOAL_CANVAS_P99_MS} ms": canvas.p99_ms
            <= GOAL_CANVAS_P99_MS,
            f"probabilities equal to Keras within {GOAL_DIFF:g}": max(diff_one, diff_batch)
            <= GOAL_DIFF,
            f">= {GOAL_SPEEDUP:g}x faster than model.predict (median)": base.median_ms
            / model_alone.median_ms
            >= GOAL_SPEEDUP,
        },
    }


def report(result: dict) -> str:
    base = result["timings"][0]
    rows = []
    for t in result["timings"]:
        rows.append(
            [
                t.name,
                t.n,
                fmt_ms(t.median_ms),
                fmt_ms(t.p99_ms),
                fmt_ms(t.cpu_p99_ms),
                f"{t.calls_per_s:,.0f}",
                f"{base.median_ms / t.median_ms:,.1f}x",
            ]
        )
    lines = [
        "## Inference latency (one image)",
        "",
        f"Machine: {machine_line(result['machine'])}",
        f"Model: {result['model']}, {result['params']:,} parameters; digitpad backend: {result['backend']}"
        + (f" (fallback: {result['fallback_reason']})" if result["fallback_reason"] else ""),
        f"Predictor set-up (convert + verify): {result['predictor_setup_ms']:.0f} ms",
        "",
        markdown_table(
            ["path", "calls", "median ms", "p99 ms", "p99 CPU ms*", "calls/s", "vs model.predict"],
            rows,
        ),
        "",
        "*CPU time of the calling thread: for LiteRT (one thread) and normalisation it is all the work, so a",
        "wall-clock p99 far above it means the thread waited for a core (other processes on the machine);",
        "TensorFlow paths also run on TF's own thread pool, which this column does not see.",
        "",
    ]
    b = result["batch"]
    per_base = b["baseline"].median_ms / b["images"] * 1000
    per_dp = b["digitpad"].median_ms / b["images"] * 1000
    lines += [
        f"## Batch ({b['images']} images)",
        "",
        markdown_table(
            ["path", "median ms", "us / image", "vs model.predict"],
            [
                [b["baseline"].name, fmt_ms(b["baseline"].median_ms), f"{per_base:.1f}", "1.0x"],
                [
                    b["digitpad"].name,
                    fmt_ms(b["digitpad"].median_ms),
                    f"{per_dp:.1f}",
                    f"{per_base / per_dp:.1f}x",
                ],
            ],
        ),
        "",
        "## Equality with Keras (1000 real MNIST test images, max abs difference of probabilities)",
        "",
    ]
    lines += [f"- {k}: {v:.3g}" for k, v in result["max_abs_diff"].items()]
    lines += ["", "## Goals", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {goal}" for goal, ok in result["goals"].items()]
    lines.append(
        f"- speed-up of the model alone: {result['speedup_model_alone_median']:,.0f}x (median), "
        f"{result['speedup_model_alone_p99']:,.0f}x (p99); canvas path: {result['speedup_canvas_median']:,.0f}x (median)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", help="a .keras or .h5 model file (default: bundled model, else 'fast')"
    )
    parser.add_argument("--json", help="also write the results as JSON to this path")
    parser.add_argument(
        "--quick", action="store_true", help="fewer calls (a rough figure in a few seconds)"
    )
    args = parser.parse_args(argv)
    result = run(args.model, quick=args.quick)
    print(report(result))
    if args.json:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
