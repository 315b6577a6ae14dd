"""``digitpad predict``: the digit in each image file; one model load, one batched prediction."""

from __future__ import annotations

import argparse
from typing import IO, Any

from digitpad.cli.argtypes import nonempty
from digitpad.cli.exits import EXIT_ERROR, EXIT_OK, PROG
from digitpad.cli.models import load, model_path
from digitpad.cli.render import write_json_lines
from digitpad.cli.terminal_text import shown
from digitpad.core.errors import DigitpadError
from digitpad.core.tfsetup import stderr_silenced

LITERT_MIN_IMAGES = 100  # above this many images, let Predictor try LiteRT


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``predict``."""
    p = sub.add_parser(
        "predict",
        help="recognise digits in image files",
        description="Recognise the digit in each image (any size, light or dark ink). Prints "
        "path<TAB>digit<TAB>confidence<TAB>verdict per image (digit is 'blank' for an empty "
        "image; the verdict is 'digit', 'unsure: 1 or 7?', 'not a digit' or 'blank'). A file "
        "that cannot be read is reported and the others are still predicted; the exit status is "
        "then 1.",
    )
    p.add_argument("images", nargs="+", type=nonempty, metavar="IMAGE", help="image files")
    p.add_argument("--model", type=nonempty, metavar="PATH", help="model file (default: the bundled model)")
    p.add_argument("--json", action="store_true", help="print a JSON list")


def _read_images(paths: list[str]) -> tuple[list[dict[str, Any]], list[Any], list[int], dict]:
    """One entry per path (an error, a blank or a batch slot), the images, their slots and the
    normalisation of each readable entry (by slot) for the verdict."""
    import numpy as np

    from digitpad.core.normalize import normalize_image

    entries: list[dict[str, Any]] = []
    images: list[Any] = []
    slots: list[int] = []
    norms: dict[int, Any] = {}
    for image_path in paths:
        entry: dict[str, Any] = {"path": image_path}
        try:
            norm = normalize_image(image_path)
        except DigitpadError as exc:
            entry["error"] = str(exc)
        except (OSError, ValueError) as exc:
            entry["error"] = f"cannot read the image: {exc}."
        else:
            norms[len(entries)] = norm
            if norm.blank or norm.image is None:
                entry.update(digit="blank", confidence=0.0, probabilities=None,
                             verdict=verdict_json(None))
            else:
                slots.append(len(entries))
                images.append(np.asarray(norm.image, dtype=np.float32))
        entries.append(entry)
    return entries, images, slots, norms


def verdict_json(verdict: Any) -> dict[str, Any]:
    """The ``"verdict"`` object of one image (a blank one when ``verdict`` is None)."""
    if verdict is None:
        return {"kind": "blank", "text": "Draw a digit", "digit": None, "alternatives": [],
                "top3": [], "reason": "nothing is drawn.", "detector_score": None}
    return verdict.to_dict()


def verdict_text(v: dict[str, Any]) -> str:
    """The verdict as the text output's last field: ``digit``, ``unsure: 1 or 7?``, ..."""
    return f"unsure: {v['text']}" if v["kind"] == "unsure" else v["kind"]


def add_verdicts(entries: list[dict[str, Any]], norms: dict, probs_by_slot: dict) -> str | None:
    """Add ``"verdict"`` to every readable entry (batched detector run); the detector's note.

    ``probs_by_slot`` maps entry index to its probabilities (absent for blank images).
    """
    from digitpad.core.verdict import judge_many
    from digitpad.core.verdict.detector import default_detector

    with stderr_silenced():
        detector, note = default_detector()
    slots = sorted(probs_by_slot)
    for slot, v in zip(slots, judge_many([norms[s] for s in slots],
                                         [probs_by_slot[s] for s in slots], detector), strict=True):
        entries[slot]["verdict"] = verdict_json(v)
    return note


def _entry_line(e: dict[str, Any]) -> str:
    """``path<TAB>digit<TAB>confidence<TAB>verdict``; tabs, newlines and control characters in the file name
    (or the error sentence quoting it) are escaped so that each image stays one line of 4 fields."""
    path = shown(e["path"])
    if "error" in e:
        return f"{path}\terror: {shown(e['error'], backslash=False)}"
    if e["digit"] == "blank":
        return f"{path}\tblank\t{0.0:.3f}\tblank"
    return f"{path}\t{e['digit']}\t{e['confidence']:.3f}\t{verdict_text(e['verdict'])}"


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Print path, digit and confidence per image (or a JSON list); exit 1 if any image failed."""
    import numpy as np

    from digitpad.core.inference import Predictor

    loaded = load(model_path(args.model))
    entries, images, slots, norms = _read_images(list(args.images))
    note = None
    if images:
        # Converting to LiteRT costs ~0.4-1 s and pays off only over many images; a handful of
        # files is done sooner by the tf.function backend (~0.1-0.3 s to set up).
        backend = "auto" if len(images) > LITERT_MIN_IMAGES else "tf.function"
        with stderr_silenced():
            predictor = Predictor(loaded, backend=backend)  # applies its stored temperature
        probs = np.asarray(predictor.predict_batch(np.stack(images)), dtype=np.float64)
        for slot, row in zip(slots, probs, strict=True):
            digit = int(np.argmax(row))
            entries[slot].update(
                digit=digit,
                confidence=round(float(row[digit]), 6),
                probabilities=[round(float(v), 6) for v in row],
            )
        note = add_verdicts(entries, norms, dict(zip(slots, probs, strict=True)))
    if args.json:
        write_json_lines(entries, out)
    else:
        for e in entries:
            print(_entry_line(e), file=out)
        out.flush()
    if note and not args.json:
        print(f"{PROG}: note: {note}", file=err)
    bad = sum("error" in e for e in entries)
    if bad:
        print(f"{PROG}: error: {bad} of {len(entries)} image(s) could not be read.", file=err)
        return EXIT_ERROR
    return EXIT_OK
