"""The Qt-free stroke renderer: pad-like drawings, seeded, round-capped, both polarities."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad.core.images import load_image
from digitpad.core.normalize import normalize_canvas
from digitpad.core.strokes import (
    CANVAS_SIZE,
    DIGIT_STYLES,
    NONDIGIT_KINDS,
    STYLE_NAMES,
    VARIATIONS,
    Pose,
    draw_digit,
    draw_nondigit,
    place,
    render_strokes,
)
from digitpad.core.strokes.train_styles import draw_train_digit, train_glyph


def ink_box(a: np.ndarray, cut: int = 127) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(a.max(axis=1) > cut)
    cols = np.flatnonzero(a.max(axis=0) > cut)
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def test_every_style_and_variation_draws_inside_the_canvas():
    rng = np.random.default_rng(11)
    for style in STYLE_NAMES:
        for variation in VARIATIONS:
            d = draw_digit(style, variation, rng)
            assert d.canvas.shape == (CANVAS_SIZE, CANVAS_SIZE) and d.canvas.dtype == np.uint8
            assert d.label == DIGIT_STYLES[style][0] and d.variation == variation
            assert d.canvas.max() == 255  # solid ink somewhere
            border = np.concatenate([d.canvas[0], d.canvas[-1], d.canvas[:, 0], d.canvas[:, -1]])
            assert border.max() == 0, (style, variation)  # nothing cut off at the edge


def test_same_seed_same_drawing_other_seed_other_drawing():
    a = draw_digit("7_crossed", "tremor", np.random.default_rng(5)).canvas
    b = draw_digit("7_crossed", "tremor", np.random.default_rng(5)).canvas
    c = draw_digit("7_crossed", "tremor", np.random.default_rng(6)).canvas
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_a_dot_is_a_round_disc_of_the_pen_width():
    canvas = render_strokes([np.array([[140.0, 140.0]])], 40.0)
    area = float((canvas > 127).sum())
    assert area == pytest.approx(math.pi * 20.0**2, rel=0.05)
    top, left, bottom, right = ink_box(canvas)
    assert bottom - top == pytest.approx(40, abs=2) and right - left == pytest.approx(40, abs=2)


def test_a_line_has_the_pen_width_and_round_caps():
    canvas = render_strokes([np.array([[60.0, 140.0], [220.0, 140.0]])], 20.0)
    top, left, bottom, right = ink_box(canvas)
    assert bottom - top == pytest.approx(20, abs=2)
    assert right - left == pytest.approx(160 + 20, abs=2)  # the caps reach half a width out
    corner = canvas[top, left]  # a round cap leaves the corner of its square empty
    assert corner < 64 and canvas[140, left + 1] > 127


def test_edges_are_anti_aliased():
    canvas = render_strokes([np.array([[40.0, 40.5], [240.0, 230.3]])], 12.0)
    grey = ((canvas > 0) & (canvas < 255)).sum()
    assert grey > 200  # soft edges like the pad's, not a hard binary stroke


def test_pose_rotation_turns_the_stroke():
    bar = (np.array([[0.5, 0.0], [0.5, 1.0]]),)
    rng = np.random.default_rng(0)
    for degrees in (0.0, 25.0, -25.0):
        pose = Pose(height=200, cx=140, cy=140, rotation=degrees, sx=1, sy=1, shear=0,
                    width=10, tremor=0)
        (pts,) = place(bar, pose, rng, warp=False)
        dx, dy = pts[-1] - pts[0]  # bottom end minus top end
        # counter-clockwise on screen: the bottom end moves right for a positive angle
        assert math.degrees(math.atan2(dx, dy)) == pytest.approx(degrees, abs=0.5)
        assert math.hypot(dx, dy) == pytest.approx(200, rel=0.01)


def test_variations_change_what_they_say():
    def mean_over(variation: str, measure) -> float:
        rng = np.random.default_rng(3)
        return float(np.mean([measure(draw_digit("4_closed", variation, rng)) for _ in range(6)]))

    def extent(d):
        t, lft, b, r = ink_box(d.canvas)
        return max(b - t, r - lft)

    assert mean_over("small_offcentre", extent) < 0.6 * mean_over("clean", extent)
    width = lambda d: d.pose.width  # noqa: E731
    ink = lambda d: float((d.canvas > 127).mean())  # noqa: E731
    assert mean_over("fat_marker", width) > 30 > 10 > mean_over("hairline", width)
    assert mean_over("fat_marker", ink) > 2 * mean_over("clean", ink) > 4 * mean_over("hairline", ink)


def test_both_polarities_read_back_as_the_same_drawing(tmp_path):
    d = draw_digit("9_curved", "clean", np.random.default_rng(8))
    for polarity in ("light", "dark"):
        path = tmp_path / f"{polarity}.png"
        Image.fromarray(d.saved(polarity)).save(path)
        back = load_image(path)  # the app's reader detects the polarity
        assert np.abs(back - d.canvas / 255.0).max() < 0.01
    assert np.array_equal(d.saved("dark"), 255 - d.canvas)
    with pytest.raises(ValueError):
        d.saved("grey")


def test_normalised_drawing_is_an_mnist_like_digit():
    d = draw_digit("2_loop", "small_offcentre", np.random.default_rng(2))
    n = normalize_canvas(d.canvas)
    assert not n.blank
    assert max(n.scaled.shape) == 20


def test_non_digits_of_every_kind():
    rng = np.random.default_rng(4)
    names = set()
    for kind in NONDIGIT_KINDS:
        for variation in ("clean", "fat_marker"):
            d = draw_nondigit(kind, rng, variation)
            assert d.label is None and d.canvas.max() == 255
            names.add(d.style.split()[0])
    assert {"letter", "dot", "dash", "blob", "scribble"} <= names
    dot = draw_nondigit("dot", np.random.default_rng(1))
    top, left, bottom, right = ink_box(dot.canvas)
    assert bottom - top < 60 and right - left < 60  # a dot stays a dot


def test_unknown_names_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(KeyError, match="1_flag_base"):
        draw_digit("1_hooked", "clean", rng)
    with pytest.raises(ValueError, match="hairline"):
        draw_digit("1_bar", "upside-down", rng)
    with pytest.raises(KeyError, match="scribble"):
        draw_nondigit("emoji", rng)


def test_training_families_draw_every_digit_inside_the_canvas_and_are_seeded():
    rng = np.random.default_rng(21)
    for digit in range(10):
        for variation in VARIATIONS:
            d = draw_train_digit(digit, variation, rng)
            assert d.label == digit and d.style == f"{digit}_train"
            assert d.canvas.max() == 255
            border = np.concatenate([d.canvas[0], d.canvas[-1], d.canvas[:, 0], d.canvas[:, -1]])
            assert border.max() == 0, (digit, variation)
            assert not normalize_canvas(d.canvas).blank
    a = draw_train_digit(7, "clean", np.random.default_rng([3, 1])).canvas
    b = draw_train_digit(7, "clean", np.random.default_rng([3, 1])).canvas
    c = draw_train_digit(7, "clean", np.random.default_rng([3, 2])).canvas
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    with pytest.raises(ValueError, match="0..9"):
        draw_train_digit(10, "clean", rng)


def test_training_families_vary_the_shape_not_only_the_pose():
    """A family holds several styles: 1s plain and flagged, with and without a base; 7s crossed
    and plain; 4s open (two strokes) and closed (one); 5s in one stroke and two."""
    rng = np.random.default_rng(4)

    def stroke_counts(digit: int) -> set[int]:
        return {len(train_glyph(digit, rng)[1]) for _ in range(200)}

    assert stroke_counts(1) == {1, 2}
    assert stroke_counts(7) == {1, 2}
    assert stroke_counts(4) == {1, 2}
    assert stroke_counts(5) == {1, 2}
    # a 1's first point: at the top for a plain bar, lower and to the left for a flag
    starts = np.array([train_glyph(1, rng)[1][0][0] for _ in range(200)])
    assert (starts[:, 1] < 0.12).any() and (starts[:, 1] > 0.2).any()
    # no training glyph is one of the benchmark's fixed skeletons
    bench = [np.vstack(DIGIT_STYLES[s][1]()) for s in STYLE_NAMES]
    for digit in range(10):
        for _ in range(20):
            pts = np.vstack(train_glyph(digit, rng)[1])
            assert all(p.shape != pts.shape or not np.allclose(p, pts, atol=0.01) for p in bench)


def test_the_training_drawings_tool_refuses_the_benchmark_seed(tmp_path):
    tool = Path(__file__).resolve().parent.parent / "tools" / "make_stroke_digits.py"
    out = tmp_path / "s.npz"
    bad = subprocess.run([sys.executable, str(tool), str(out), "--count", "5", "--seed",
                          "7402911"], capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "benchmark's seed" in bad.stderr and not out.exists()
    ok = subprocess.run([sys.executable, str(tool), str(out), "--count", "30"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    with np.load(out) as f:
        assert f["x_train"].shape == (30, 28, 28) and f["x_train"].dtype == np.uint8
        assert set(f["y_train"].tolist()) <= set(range(10)) and f["x_train"].max() > 200
