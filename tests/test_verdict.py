"""The verdict: ink rules (dot, dash, blank), confidence rules (unsure names both digits), the
detector (trained here, small) and a missing or corrupt detector file."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.core.normalize import normalize_canvas
from digitpad.core.strokes import draw_digit, render_strokes
from digitpad.core.verdict import (
    BLANK,
    DIGIT,
    NOT_A_DIGIT,
    UNSURE,
    decide,
    default_detector,
    forget_default_detector,
    ink_stats,
    judge,
)

CONFIDENT_4 = np.array([0.01, 0.01, 0.01, 0.01, 0.9, 0.01, 0.01, 0.02, 0.01, 0.01])


def _canvas(strokes, width=20.0):
    return render_strokes([np.asarray(s, float) for s in strokes], width)


def test_blank_pad_is_blank():
    v = decide(normalize_canvas(np.zeros((280, 280), np.uint8)), None)
    assert v.kind == BLANK and v.words == "Draw a digit" and v.digit is None and v.top3 == ()


@pytest.mark.parametrize("width", [6.0, 20.0, 45.0])
def test_a_dot_is_not_a_digit_even_when_the_model_is_sure(width):
    n = normalize_canvas(_canvas([[(140, 140)]], width))
    v = decide(n, CONFIDENT_4)
    assert v.kind == NOT_A_DIGIT and v.words == "Not a digit" and "dot" in v.reason
    assert v.digit == 4  # the top guess is still reported


@pytest.mark.parametrize("angle", [0.0, 20.0, -30.0])
def test_a_dash_is_not_a_digit(angle):
    a = np.radians(angle)
    d = 60 * np.array([np.cos(a), np.sin(a)])
    n = normalize_canvas(_canvas([[(140 - d[0], 140 - d[1]), (140 + d[0], 140 + d[1])]]))
    assert ink_stats(n).is_dash
    v = decide(n, CONFIDENT_4)
    assert v.kind == NOT_A_DIGIT and "dash" in v.reason


def test_an_upright_bar_stays_a_one():
    n = normalize_canvas(_canvas([[(140, 40), (140, 240)]]))
    s = ink_stats(n)
    assert not s.is_dash and not s.is_dot and s.angle < 5
    probs = np.full(10, 0.01)
    probs[1] = 0.91
    assert decide(n, probs).kind == DIGIT


def test_rendered_digits_pass_the_ink_rules():
    flagged = []
    for style in ("1_bar", "7_crossed", "0_oval", "8_two_loops", "4_closed"):
        for variation in ("clean", "fat_marker", "small_offcentre", "hairline"):
            d = draw_digit(style, variation, np.random.default_rng([55, len(flagged), len(style)]))
            s = ink_stats(normalize_canvas(d.canvas))
            if s.is_dot or s.is_dash:
                flagged.append((style, variation))
    assert flagged == []


def test_unsure_names_the_two_close_digits():
    n = normalize_canvas(_canvas([[(140, 40), (140, 240)], [(100, 80), (140, 40)]]))
    probs = np.full(10, 0.01)
    probs[1], probs[7] = 0.5, 0.42
    v = decide(n, probs)
    assert v.kind == UNSURE and v.alternatives == (1, 7) and v.words == "1 or 7?"
    assert [d for d, _ in v.top3] == [1, 7, 0]
    probs[1], probs[7] = 0.85, 0.07
    assert decide(n, probs).kind == DIGIT and decide(n, probs).words == "It's a 1"


def test_low_confidence_everywhere_is_not_a_digit():
    n = normalize_canvas(_canvas([[(60, 60), (200, 80), (90, 200), (220, 220)]]))
    v = decide(n, np.full(10, 0.1))
    assert v.kind == NOT_A_DIGIT and "sure" in v.reason


def test_detector_score_over_threshold_makes_it_not_a_digit():
    n = normalize_canvas(_canvas([[(140, 40), (140, 240)]]))
    probs = np.full(10, 0.01)
    probs[1] = 0.91
    assert decide(n, probs, detector_score=0.9, threshold=0.8).kind == NOT_A_DIGIT
    assert decide(n, probs, detector_score=0.7, threshold=0.8).kind == DIGIT


def test_to_dict_is_plain_json():
    import json

    n = normalize_canvas(_canvas([[(140, 40), (140, 240)]]))
    probs = np.full(10, 0.01)
    probs[1] = 0.91
    d = decide(n, probs).to_dict()
    assert json.loads(json.dumps(d))["kind"] == "digit" and d["top3"][0]["digit"] == 1


def test_missing_detector_degrades_with_one_sentence(tmp_path):
    forget_default_detector()
    det, note = default_detector(tmp_path / "nope.keras")
    assert det is None and note.endswith("uses ink and confidence only.") and "\n" not in note


def test_corrupt_detector_degrades_with_one_sentence(tmp_path):
    bad = tmp_path / "detector.keras"
    bad.write_bytes(b"PK\x03\x04 this is not a zip at all")
    det, note = default_detector(bad)
    assert det is None and "unavailable" in note and "\n" not in note
    # judge() with no detector still gives a verdict
    n = normalize_canvas(_canvas([[(140, 140)]]))
    assert judge(n, CONFIDENT_4, detector=None).kind == NOT_A_DIGIT


@pytest.mark.slow
def test_a_ten_class_model_is_refused_as_detector(tmp_path, model_file):
    det, note = default_detector(model_file)
    assert det is None and "one score" in note


@pytest.mark.slow
def test_small_detector_trained_here_separates_digits_from_nondigits(tmp_path, mnist_small):
    from digitpad.core.modelfile import save_model
    from digitpad.core.verdict.detector import METADATA_KEY, load_detector
    from digitpad.core.verdict.training import (
        make_training_data,
        rendered_negatives,
        train_detector,
    )

    data = make_training_data(mnist_small.x_train[:1200], 300, 900, seed=11)
    model, report = train_detector(data, epochs=2, seed=0)
    path = save_model(model, tmp_path / "detector.keras", metadata={METADATA_KEY: report})
    det = load_detector(path)
    assert det.threshold == pytest.approx(report["threshold"])
    digits = det.score_batch(mnist_small.x_test[:300])
    others = det.score_batch(rendered_negatives(150, seed=12))
    # a real separation: non-digits score far above digits
    assert np.median(others) > 0.5 > np.median(digits)
    one = det.score(mnist_small.x_test[0] / 255.0)
    assert one == pytest.approx(float(digits[0]), abs=1e-4)  # fast path == batch path
