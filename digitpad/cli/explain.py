"""``digitpad explain``: the digit in each image and which of its pixels made the model say so."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO, Any

from digitpad.cli.argtypes import ig_steps
from digitpad.cli.exits import EXIT_ERROR, EXIT_OK, PROG
from digitpad.cli.models import load, model_path
from digitpad.cli.predict import add_verdicts, verdict_json
from digitpad.cli.render import write_json_lines
from digitpad.core.errors import DigitpadError
from digitpad.core.tfsetup import stderr_silenced


def digit(text: str) -> int:
    """A digit 0..9 (argparse type)."""
    if text.strip() not in tuple("0123456789"):
        raise argparse.ArgumentTypeError(f"must be a digit 0..9, got {text!r}")
    return int(text)


#: Integrated-gradient points per image on the command line (not live: exactness over speed; the
#: window's live view uses the Attributor's default, 32; at most ``argtypes.MAX_IG_STEPS``).
CLI_STEPS = 128


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``explain``."""
    p = sub.add_parser(
        "explain",
        help="recognise digits and show which pixels decided",
        description="Recognise the digit in each image and attribute the decision to the pixels "
        "of the 28x28 image the model saw (integrated gradients from a black image). Prints "
        "path<TAB>digit<TAB>confidence<TAB>explained digit per image; --json gives the input and "
        "the heatmap (28x28, non-negative, summing to 1). A file that cannot be read is reported "
        "and the others are still explained; the exit status is then 1.",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    p.add_argument("--model", metavar="PATH", help="model file (default: the bundled model)")
    p.add_argument("--target", type=digit, metavar="D",
                   help="explain digit D instead of the predicted one")
    p.add_argument("--steps", type=ig_steps, default=CLI_STEPS, metavar="N",
                   help=f"points on the path from black to the image (default {CLI_STEPS}; more: "
                   "the attributions add up more exactly to the probability gained, slower)")
    p.add_argument("--out", metavar="DIR", help="write an overlay PNG per image into DIR")
    p.add_argument("--json", action="store_true", help="print a JSON list")


def _read(image_path: str) -> tuple[dict[str, Any], Any]:
    """``(entry, image28 or None)`` for one file; the entry holds the error or the blank verdict."""
    from digitpad.core.normalize import normalize_image

    entry: dict[str, Any] = {"path": image_path}
    try:
        norm = normalize_image(image_path)
    except DigitpadError as exc:
        entry["error"] = str(exc)
        return entry, None
    except (OSError, ValueError) as exc:
        entry["error"] = f"cannot read the image: {exc}."
        return entry, None
    if norm.blank or norm.image is None:
        entry.update(digit="blank", verdict=verdict_json(None), confidence=0.0,
                     probabilities=None, target=None, method=None, steps=None, input=None,
                     heatmap=None)
        return entry, None
    entry["_norm"] = norm  # for the verdict; removed before output
    return entry, norm.image


def _overlay_path(folder: Path, image_path: str, used: set[str]) -> Path:
    """``<stem>_explain.png`` in ``folder``, numbered when two images share a stem."""
    stem = Path(image_path).stem or "image"
    name, n = f"{stem}_explain.png", 1
    while name in used:
        n += 1
        name = f"{stem}_explain_{n}.png"
    used.add(name)
    return folder / name


def _write_overlay(path: Path, image28: Any, heatmap: Any) -> None:
    from PIL import Image

    from digitpad.core.atomic import atomic_path
    from digitpad.core.explain import overlay_rgb

    with atomic_path(path) as tmp:
        Image.fromarray(overlay_rgb(image28, heatmap)).save(tmp, format="PNG")


def _writable(folder: Path) -> None:
    """Create ``folder`` (DigitpadError with one sentence when that fails)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DigitpadError(f"cannot create the folder {folder}: {exc.strerror or exc}.") from None


def _entry_line(e: dict[str, Any]) -> str:
    if "error" in e:
        return f"{e['path']}\terror: {e['error']}"
    if e["digit"] == "blank":
        return f"{e['path']}\tblank\t{0.0:.3f}"
    line = f"{e['path']}\t{e['digit']}\t{e['confidence']:.3f}\texplained: {e['target']}"
    return line + (f"\toverlay: {e['overlay']}" if "overlay" in e else "")


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Explain each image (text lines or a JSON list); exit 1 if any image failed."""
    import numpy as np

    from digitpad.cli.predict import LITERT_MIN_IMAGES
    from digitpad.core.explain import Attributor
    from digitpad.core.inference import Predictor

    loaded = load(model_path(args.model))
    read = [_read(p) for p in args.images]
    todo = [(entry, image) for entry, image in read if image is not None]
    folder = Path(args.out).expanduser() if args.out else None
    if todo:
        backend = "auto" if len(todo) > LITERT_MIN_IMAGES else "tf.function"
        with stderr_silenced():
            predictor = Predictor(loaded, backend=backend)
            attributor = Attributor(loaded.model, steps=args.steps)
        probs = np.asarray(predictor.predict_batch(np.stack([im for _, im in todo])), np.float64)
        if folder is not None:
            _writable(folder)
        used: set[str] = set()
        for (entry, image), row in zip(todo, probs, strict=True):
            best = int(np.argmax(row))
            target = best if args.target is None else int(args.target)
            heatmap = attributor(image, target)
            entry.update(
                digit=best,
                verdict=None,
                confidence=round(float(row[best]), 6),
                probabilities=[round(float(v), 6) for v in row],
                target=target,
                method=attributor.method,
                steps=attributor.steps,
                input=np.round(image.astype(np.float64), 6).tolist(),
                heatmap=np.round(heatmap.astype(np.float64), 7).tolist(),
            )
            if folder is not None:
                path = _overlay_path(folder, entry["path"], used)
                try:
                    _write_overlay(path, image, heatmap)
                except OSError as exc:
                    raise DigitpadError(f"cannot write {path}: {exc.strerror or exc}.") from None
                entry["overlay"] = str(path)
    if todo:
        slots = [i for i, (e, im) in enumerate(read) if im is not None]
        entries = [e for e, _ in read]
        add_verdicts(entries, {i: entries[i]["_norm"] for i in slots},
                     dict(zip(slots, probs, strict=True)))
    for e, _ in read:
        e.pop("_norm", None)
    if args.json:
        write_json_lines([e for e, _ in read], out)
    else:
        for e, _ in read:
            print(_entry_line(e), file=out)
        out.flush()
    bad = sum("error" in e for e, _ in read)
    if bad:
        print(f"{PROG}: error: {bad} of {len(read)} image(s) could not be read.", file=err)
        return EXIT_ERROR
    return EXIT_OK
