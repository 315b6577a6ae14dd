"""Ink statistics of one drawing: how big, how round, how thick and how straight its ink is.

These need no model: they come from the ink crop that MNIST-style normalisation already made
(:attr:`~digitpad.core.normalize.Normalized.cropped`), reduced to at most :data:`WORK_SIDE` pixels
on its longest side. They recognise the marks that are plainly not digits whatever a classifier
says -- a **dot** (a solid round mark, as thick as it is wide) and a **dash** (one straight,
thin, mostly horizontal bar) -- and feed the verdict's other rules.

Pure numpy and Pillow; well under a millisecond for a pad drawing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from digitpad.core.normalize import Normalized

#: Longest side of the binary ink picture the statistics are measured on.
WORK_SIDE = 48
#: Coverage above which a work pixel counts as ink.
INK_CUT = 0.35
#: A dot overlaps the ellipse of its bounding box at least this much ...
DISK = 0.9
#: ... and is at most this many times as long as it is broad.
DOT_LENGTH = 1.2
#: Marks at most this many pixels across count as dots when solid (roundness unmeasurable).
TINY = 12
#: A dash overlaps the ideal round-capped bar along its axis at least this much ...
BAR = 0.85
#: ... and is at least this many times as long as it is broad (a squat solid blob may be a
#: small digit drawn with a fat pen).
MIN_DASH = 1.5
#: A straight stroke at most this many times as long as broad is a dash even when upright.
STUB_LENGTH = 2.2
#: A straight stroke further than this from vertical (degrees) is a dash, not a 1.
DASH_ANGLE = 45.0


@dataclass(frozen=True)
class InkStats:
    """What the ink of one drawing looks like (lengths in the input's pixels).

    Attributes
    ----------
    height, width : int
        Size of the ink's bounding box.
    fill : float
        Fraction of the bounding box that is ink (0..1).
    length, breadth : float
        Extent of the ink along its main axis and across it.
    solidity : float
        Ink area over ``length * breadth`` (a straight bar or a dot ~0.8..1, a digit much less).
    disk : float
        Overlap (intersection over union) of the ink with the ellipse filling its bounding box.
    bar : float
        Overlap of the ink with a round-capped bar along its main axis, ``breadth`` thick.
    angle : float
        Angle of the main axis from vertical, degrees in [0, 90].
    """

    height: int
    width: int
    fill: float
    length: float
    breadth: float
    solidity: float
    angle: float
    disk: float
    bar: float

    @property
    def is_dot(self) -> bool:
        """A solid round mark: straight and about as long as it is broad."""
        if self.length > DOT_LENGTH * self.breadth:
            return False
        tiny = max(self.height, self.width) <= TINY  # too few pixels to measure roundness
        return self.disk >= DISK or (tiny and self.solidity >= 0.65)

    @property
    def is_dash(self) -> bool:
        """One straight bar lying more than :data:`DASH_ANGLE` degrees from vertical, or so
        short and stubby that it cannot be a 1."""
        if self.bar < BAR or self.length < MIN_DASH * self.breadth or self.is_dot:
            return False
        return self.angle >= DASH_ANGLE or self.length <= STUB_LENGTH * self.breadth

    def to_dict(self) -> dict[str, float]:
        """Plain JSON-able numbers."""
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _work_binary(cropped: np.ndarray) -> np.ndarray:
    h, w = cropped.shape
    k = WORK_SIDE / max(h, w)
    if k < 1.0:
        size = (max(1, round(w * k)), max(1, round(h * k)))
        img = Image.fromarray(np.ascontiguousarray(cropped, dtype=np.float32), mode="F")
        cropped = np.asarray(img.resize(size, Image.Resampling.BOX), dtype=np.float32)
    return cropped > INK_CUT


def ink_stats(normalized: Normalized) -> InkStats | None:
    """The :class:`InkStats` of a normalised drawing (None when it is blank).

    Parameters
    ----------
    normalized
        From :func:`~digitpad.core.normalize.normalize_canvas`.
    """
    if normalized.blank or normalized.cropped is None:
        return None
    cropped = np.asarray(normalized.cropped, dtype=np.float32)
    h, w = cropped.shape
    ink = _work_binary(cropped)
    if not ink.any():  # faint ink only: measure it as it is
        ink = cropped > 0
    wh, ww = ink.shape
    scale = max(h, w) / max(wh, ww)  # input pixels per work pixel
    ys, xs = np.nonzero(ink)
    fill = float(len(ys)) / float(wh * ww)
    y = (ys - ys.mean()) * (h / wh)
    x = (xs - xs.mean()) * (w / ww)
    cyy, cxx, cxy = float(y @ y), float(x @ x), float(x @ y)
    theta = 0.5 * math.atan2(2 * cxy, cyy - cxx)  # main axis, measured from vertical
    along = y * math.cos(theta) + x * math.sin(theta)
    across = -y * math.sin(theta) + x * math.cos(theta)
    length = float(along.max() - along.min()) + scale
    breadth = float(across.max() - across.min()) + scale
    angle = abs(math.degrees(theta))
    angle = 180.0 - angle if angle > 90.0 else angle
    area = len(ys) * (h / wh) * (w / ww)
    solidity = min(1.0, area / (length * breadth))
    # overlap with the ideal dot (the bbox ellipse) and the ideal bar (a capsule on the axis)
    gy, gx = np.mgrid[0:wh, 0:ww]
    ey = (gy + 0.5) / wh * 2 - 1
    ex = (gx + 0.5) / ww * 2 - 1
    disk = _iou(ink, ey * ey + ex * ex <= 1.0)
    py = (gy - ys.mean()) * (h / wh)
    px = (gx - xs.mean()) * (w / ww)
    a_lo, a_hi = float(along.min()), float(along.max())
    t = np.clip(py * math.cos(theta) + px * math.sin(theta), a_lo, a_hi)
    dy, dx = py - t * math.cos(theta), px - t * math.sin(theta)
    r = (breadth - scale) / 2 + 0.5 * scale
    bar = _iou(ink, dy * dy + dx * dx <= r * r)
    return InkStats(h, w, fill, length, breadth, solidity, angle, disk, bar)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int(np.count_nonzero(a | b))
    return float(np.count_nonzero(a & b)) / union if union else 0.0
