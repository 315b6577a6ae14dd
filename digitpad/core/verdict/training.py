"""Training data and training of the "is this a digit?" detector (:mod:`.detector`).

Positives: MNIST training digits and rendered stroke digits (every writing style of
:mod:`digitpad.core.strokes.glyphs` under every variation). Negatives: synthetic non-digits of
:mod:`digitpad.core.strokes.negatives_train`. Every drawing is generated from the root seed
:data:`~digitpad.core.strokes.negatives_train.TRAIN_SEED` -- never the benchmark's -- and
normalised exactly as a drawing on the pad is, so the detector sees what the classifier sees.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from digitpad.core.normalize import normalize_canvas
from digitpad.core.strokes import STYLE_NAMES, VARIATIONS, draw_digit
from digitpad.core.strokes.negatives_train import ALL_KINDS, TRAIN_SEED, training_negative

#: Largest share of held-out digits the chosen threshold may call "not a digit".
TARGET_FALSE_REJECT = 0.004


@dataclass(frozen=True)
class DetectorData:
    """Model inputs (N, 28, 28) float32 and labels (1 = not a digit)."""

    x: np.ndarray
    y: np.ndarray


def _normalized(canvases) -> list[np.ndarray]:
    out = []
    for c in canvases:
        n = normalize_canvas(c)
        if not n.blank:
            out.append(n.image)
    return out


def rendered_digits(count: int, seed: int = TRAIN_SEED) -> np.ndarray:
    """``count`` stroke digits cycling through every (style, variation), normalised (N, 28, 28)."""
    cells = [(i, j) for i in range(len(STYLE_NAMES)) for j in range(len(VARIATIONS))]
    canvases = []
    for n in range(count):
        i, j = cells[n % len(cells)]
        rng = np.random.default_rng([seed, 2, i, j, n // len(cells)])
        canvases.append(draw_digit(STYLE_NAMES[i], VARIATIONS[j], rng).canvas)
    return np.stack(_normalized(canvases))


def rendered_negatives(count: int, seed: int = TRAIN_SEED) -> np.ndarray:
    """``count`` training non-digits cycling through every kind and variation (N, 28, 28)."""
    kinds = len(ALL_KINDS)
    canvases = [training_negative(n, VARIATIONS[(n // kinds) % len(VARIATIONS)], seed=seed).canvas
                for n in range(count)]
    return np.stack(_normalized(canvases))


def make_training_data(mnist_x: np.ndarray, n_drawn: int, n_negatives: int,
                       seed: int = TRAIN_SEED) -> DetectorData:
    """Shuffled positives (``mnist_x`` uint8 or float images + ``n_drawn`` stroke digits) and
    ``n_negatives`` non-digits."""
    m = np.asarray(mnist_x, dtype=np.float32)
    if m.size and m.max() > 1.0:
        m = m / 255.0
    pos = [m.reshape(-1, 28, 28)]
    if n_drawn:
        pos.append(rendered_digits(n_drawn, seed))
    neg = rendered_negatives(n_negatives, seed)
    x = np.concatenate([*pos, neg]).astype(np.float32)
    y = np.concatenate([np.zeros(sum(len(p) for p in pos)), np.ones(len(neg))]).astype(np.float32)
    order = np.random.default_rng([seed, 3]).permutation(len(x))
    return DetectorData(x[order], y[order])


def choose_threshold(scores_of_digits: np.ndarray, target: float = TARGET_FALSE_REJECT) -> float:
    """The score above which at most ``target`` of these digits fall (never below 0.5)."""
    s = np.sort(np.asarray(scores_of_digits, dtype=np.float64))
    if s.size == 0:
        return 0.5
    q = float(np.quantile(s, 1.0 - target))
    return float(min(0.995, max(0.5, q + 1e-4)))


def train_detector(data: DetectorData, *, epochs: int = 6, batch_size: int = 128,
                   validation: float = 0.1, seed: int = 0, verbose: int = 0) -> tuple[object, dict]:
    """Train a fresh detector; returns ``(model, report)``.

    The report holds the threshold chosen on the held-out split (:func:`choose_threshold`), the
    held-out false-reject and detection rates, the sizes and the seconds taken.
    """
    from digitpad.core.tfsetup import keras
    from digitpad.core.verdict.detector import build_detector_model

    k = keras()
    k.utils.set_random_seed(seed)
    start = time.perf_counter()
    n_val = max(1, int(len(data.x) * validation))
    xv, yv = data.x[:n_val, ..., None], data.y[:n_val]
    xt, yt = data.x[n_val:, ..., None], data.y[n_val:]
    model = build_detector_model()
    model.compile(optimizer=k.optimizers.Adam(2e-3), loss="binary_crossentropy")
    model.fit(xt, yt, epochs=epochs, batch_size=batch_size, verbose=verbose, shuffle=True)
    sv = np.asarray(model(xv, training=False)).reshape(-1)
    digits, others = sv[yv == 0], sv[yv == 1]
    threshold = choose_threshold(digits)
    report = {
        "threshold": threshold,
        "train_images": int(len(xt)),
        "held_out_digits": int(len(digits)),
        "held_out_nondigits": int(len(others)),
        "held_out_false_reject": float(np.mean(digits > threshold)) if len(digits) else None,
        "held_out_detected": float(np.mean(others > threshold)) if len(others) else None,
        "epochs": epochs,
        "seconds": round(time.perf_counter() - start, 1),
    }
    return model, report
