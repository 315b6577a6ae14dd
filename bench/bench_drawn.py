"""Measure a model on digitpad's drawn-digit benchmark and on the MNIST test set.

Every drawing of :mod:`bench.drawn_benchmark` is saved as a PNG and read back exactly as
``digitpad predict`` reads a file (``load_image`` -> ``normalize_canvas`` -> the Predictor), so
both ink polarities go through the app's own polarity detection. Reported: accuracy per writing
style, per variation and per polarity, the misreadings, the expected calibration error (ECE,
15 bins) of the model's own probabilities and of the calibrated ones (the temperature stored in
the model file, if any), and how sure the model is of the non-digits. A reliability diagram
(PNG) is drawn for both data sets.

Usage::

    python bench/bench_drawn.py [--model models/default.keras] [--diagram docs/reliability.png]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import drawn_benchmark  # noqa: E402
from bench.common import markdown_table  # noqa: E402
from digitpad.core.calibration import (  # noqa: E402
    Reliability,
    apply_temperature,
    reliability,
    temperature_from_metadata,
)


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def measure(model_path: Path, folder: Path, mnist_limit: int | None) -> dict:
    """All figures of one model as a dict (plus the reliability data under ``_rel``)."""
    from digitpad.core.data import load_dataset
    from digitpad.core.inference import LOW_CONFIDENCE, Predictor, recognize_files
    from digitpad.core.modelfile import load_model

    t0 = time.perf_counter()
    written = drawn_benchmark.write(folder)
    loaded = load_model(model_path)
    temperature = temperature_from_metadata(loaded.metadata)
    predictor = Predictor(loaded.model, temperature=1.0)  # the model's own; scaled below
    preds = recognize_files(predictor, [p for p, _ in written])
    digits, nondigits = [], []
    for (_, item), pred in zip(written, preds, strict=True):
        probs = pred.probabilities if not isinstance(pred, Exception) and not pred.blank else None
        (digits if item.label is not None else nondigits).append((item, probs))
    ds = load_dataset(None)
    x, y = ds.x_test, ds.y_test
    if mnist_limit:
        x, y = x[:mnist_limit], y[:mnist_limit]
    mnist_raw = predictor.predict_batch(x)

    blank = np.full(10, 0.1, np.float32)  # a drawing read as blank counts as wrong, 10 % sure
    d_raw = np.stack([p if p is not None else blank for _, p in digits])
    d_y = np.array([it.label for it, _ in digits])
    n_raw = np.stack([p if p is not None else blank for _, p in nondigits])
    out: dict = {"model": str(model_path), "temperature": temperature,
                 "drawn_digits": len(digits), "nondigits": len(nondigits), "mnist_test": len(y)}
    rel: dict[str, dict[str, Reliability]] = {}
    for tag, t in (("raw", None), ("calibrated", temperature)):
        if tag == "calibrated" and temperature is None:
            continue
        dp, mp, npb = (apply_temperature(a, t) for a in (d_raw, mnist_raw, n_raw))
        rel[tag] = {"MNIST test": reliability(mp, y), "drawn benchmark": reliability(dp, d_y)}
        conf = npb.max(axis=1)
        out[tag] = {
            "mnist_accuracy": float(np.mean(mp.argmax(1) == y)),
            "mnist_ece": rel[tag]["MNIST test"].ece,
            "drawn_accuracy": float(np.mean(dp.argmax(1) == d_y)),
            "drawn_ece": rel[tag]["drawn benchmark"].ece,
            "drawn_mean_confidence": float(dp.max(1).mean()),
            "mnist_mean_confidence": float(mp.max(1).mean()),
            "nondigit_mean_confidence": float(conf.mean()),
            "nondigit_below_low_confidence": float(np.mean(conf < LOW_CONFIDENCE)),
        }
    pred_d = d_raw.argmax(1)
    groups = {"style": defaultdict(list), "variation": defaultdict(list),
              "polarity": defaultdict(list)}
    misses: Counter = Counter()
    for (item, _), p in zip(digits, pred_d, strict=True):
        ok = int(p) == item.label
        groups["style"][item.drawing.style].append(ok)
        groups["variation"][item.drawing.variation].append(ok)
        groups["polarity"][item.polarity].append(ok)
        if not ok:
            misses[(item.drawing.style, int(p))] += 1
    for name, g in groups.items():
        out[f"per_{name}"] = {k: float(np.mean(v)) for k, v in g.items()}
    out["misreadings"] = [{"style": s, "read_as": p, "count": c} for (s, p), c in misses.most_common()]
    kinds = defaultdict(list)
    for item, p in nondigits:
        kinds[item.name.split("_")[1]].append(float((p if p is not None else blank).max()))
    out["nondigit_confidence_by_kind"] = {k: float(np.mean(v)) for k, v in kinds.items()}
    out["verdict"] = verdict_rates(written, preds, mnist_raw, temperature, x)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["_rel"] = rel
    return out


def verdict_rates(written, preds, mnist_raw, temperature, mnist_x) -> dict:
    """Share of drawings per family whose verdict is not ``digit`` (calibrated probabilities, the
    bundled detector), of digits (drawn, MNIST test) and of non-digits."""
    from digitpad.core.normalize import normalize_canvas
    from digitpad.core.verdict import DIGIT, judge, judge_many
    from digitpad.core.verdict.detector import default_detector

    detector, note = default_detector()
    norms, probs, fams = [], [], []
    for (_, item), pred in zip(written, preds, strict=True):
        if isinstance(pred, Exception):
            continue
        norms.append(pred.normalized)
        probs.append(None if pred.blank else apply_temperature(pred.probabilities, temperature))
        fams.append("digits" if item.label is not None else item.name.split("_")[1])
    t0 = time.perf_counter()
    verdicts = judge_many(norms, probs, detector)
    per_call_ms = 1000 * (time.perf_counter() - t0) / max(1, len(verdicts))
    flagged = defaultdict(list)
    for fam, v in zip(fams, verdicts, strict=True):
        flagged[fam].append(v.kind != DIGIT)
    mnorms = [normalize_canvas(im) for im in mnist_x]
    mv = judge_many(mnorms, list(apply_temperature(mnist_raw, temperature)), detector)
    nd = [f for k, v in flagged.items() if k != "digits" for f in v]
    one = next(n for n in norms if not n.blank)
    t1 = time.perf_counter()
    for _ in range(200):
        judge(one, probs[0], detector)
    return {
        "detector": "none" if detector is None else f"{detector.backend}, threshold {detector.threshold:.3f}",
        "detector_note": note,
        "nondigits_not_digit": float(np.mean(nd)),
        "drawn_digits_not_digit": float(np.mean(flagged["digits"])),
        "mnist_not_digit": float(np.mean([v.kind != DIGIT for v in mv])),
        "per_family_not_digit": {k: float(np.mean(v)) for k, v in flagged.items() if k != "digits"},
        "verdict_ms_per_drawing_batched": per_call_ms,
        "verdict_ms_one_drawing": 1000 * (time.perf_counter() - t1) / 200,
    }


def _panel(draw: ImageDraw.ImageDraw, box: tuple[int, int, int], title: str,
           rels: dict[str, Reliability], font, small) -> None:
    x0, y0, side = box
    draw.rectangle((x0, y0, x0 + side, y0 + side), outline=(0, 0, 0))
    draw.line((x0, y0 + side, x0 + side, y0), fill=(150, 150, 150), width=1)
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        draw.text((x0 + v * side - 10, y0 + side + 4), f"{v:.2f}", fill=(0, 0, 0), font=small)
        draw.text((x0 - 34, y0 + (1 - v) * side - 6), f"{v:.2f}", fill=(0, 0, 0), font=small)
    colours = {"raw": (200, 60, 60), "calibrated": (40, 90, 200)}
    lines = [title]
    for k, (tag, r) in enumerate(rels.items()):
        c = colours[tag]
        for i in range(len(r.counts)):
            if r.counts[i] == 0:
                continue
            lo, hi = r.edges[i], r.edges[i + 1]
            pad = (hi - lo) * side * (0.1 + 0.4 * k)
            left, right = x0 + lo * side + pad, x0 + lo * side + pad + (hi - lo) * side * 0.4
            top = y0 + (1 - r.accuracy[i]) * side
            draw.rectangle((left, top, right, y0 + side), fill=c if tag == "calibrated" else None,
                           outline=c, width=2)
        lines.append(f"{'own' if tag == 'raw' else 'calibrated'}: ECE {100 * r.ece:.2f} %")
    for n, text in enumerate(lines):
        colour = (0, 0, 0) if n == 0 else colours[list(rels)[n - 1]]
        draw.text((x0 + 8, y0 + 6 + 18 * n), text, fill=colour, font=font if n == 0 else small)
    draw.text((x0 + side / 2 - 60, y0 + side + 22), "confidence (top probability)", fill=(0, 0, 0),
              font=small)


def reliability_png(rel: dict[str, dict[str, Reliability]], path: Path, model: str) -> None:
    """Reliability diagrams (accuracy per confidence bin; the diagonal is perfect calibration)."""
    side, margin = 360, 60
    sets = list(next(iter(rel.values())))
    img = Image.new("RGB", (margin + len(sets) * (side + margin), side + 2 * margin + 30), "white")
    draw = ImageDraw.Draw(img)
    font, small = ImageFont.load_default(size=15), ImageFont.load_default(size=12)
    draw.text((margin, 10), f"Reliability of {model}: accuracy per confidence bin (15 bins); "
              "outline = model's own, filled = calibrated", fill=(0, 0, 0), font=small)
    for n, name in enumerate(sets):
        _panel(draw, (margin + n * (side + margin), margin - 20 + 30, side), name,
               {tag: r[name] for tag, r in rel.items()}, font, small)
    label = Image.new("RGB", (80, 16), "white")  # the y axis title, turned upright
    ImageDraw.Draw(label).text((4, 1), "accuracy", fill=(0, 0, 0), font=small)
    img.paste(label.rotate(90, expand=True), (6, margin + 10 + side // 2 - 40))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def markdown(res: dict) -> str:
    """The figures as Markdown tables."""
    tags = [t for t in ("raw", "calibrated") if t in res]
    head = ["", *("model's own" if t == "raw" else f"calibrated (T = {res['temperature']:.3g})"
                  for t in tags)]
    rows = [[label, *(fmt(res[t][key]) for t in tags)] for label, key, fmt in [
        ("MNIST test accuracy", "mnist_accuracy", _pct),
        ("MNIST test ECE", "mnist_ece", _pct),
        ("MNIST test mean confidence", "mnist_mean_confidence", _pct),
        ("drawn benchmark accuracy", "drawn_accuracy", _pct),
        ("drawn benchmark ECE", "drawn_ece", _pct),
        ("drawn benchmark mean confidence", "drawn_mean_confidence", _pct),
        ("non-digits: mean confidence", "nondigit_mean_confidence", _pct),
        ("non-digits under 60 % confidence", "nondigit_below_low_confidence", _pct),
    ]]
    parts = [markdown_table(head, rows)]
    for name in ("variation", "style", "polarity"):
        d = res[f"per_{name}"]
        parts.append(markdown_table([name, "accuracy"], [[k, _pct(v)] for k, v in d.items()]))
    v = res["verdict"]
    parts.append(f"Verdict (detector: {v['detector']}): non-digits given a verdict other than "
                 f"'digit' {_pct(v['nondigits_not_digit'])}; drawn digits {_pct(v['drawn_digits_not_digit'])}; "
                 f"MNIST test digits {_pct(v['mnist_not_digit'])}; "
                 f"{v['verdict_ms_one_drawing']:.3f} ms per drawing (ink + detector)")
    parts.append(markdown_table(["non-digit family", "verdict not 'digit'"],
                                [[k, _pct(x)] for k, x in v["per_family_not_digit"].items()]))
    miss = res["misreadings"][:15]
    if miss:
        parts.append(markdown_table(["style", "read as", "count"],
                                    [[m["style"], m["read_as"], m["count"]] for m in miss]))
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default.keras")
    parser.add_argument("--diagram", type=Path, default=None, help="reliability diagram PNG")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--md", type=Path, default=None)
    parser.add_argument("--mnist-limit", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="digitpad-drawn-") as tmp:
        res = measure(args.model, Path(tmp), args.mnist_limit)
    rel = res.pop("_rel")
    text = markdown(res)
    print(text)
    if args.diagram:
        reliability_png(rel, args.diagram, args.model.name)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    if args.md:
        args.md.write_text(f"# Drawn benchmark: {args.model.name}\n\n{text}\n")


if __name__ == "__main__":
    main()
