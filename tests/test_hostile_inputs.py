"""Hostile images and data sources (issue 13): one sentence each, no child process, bounded memory.

Every case of :data:`tests.image_corpus.CASES` is built at test time and handed to the loader
that would get it from the command line or the window (``load_image`` for ``predict`` and the
window's "Open image", ``load_dataset`` for ``--data``). While it runs, starting a process is
recorded (``subprocess.Popen`` is replaced by a recorder that refuses), the process's children
are listed from ``/proc`` before and after, and Python/numpy allocations are traced.
"""

from __future__ import annotations

import os
import subprocess
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from image_corpus import CASES, EPS_LOOP, Case, fifo, idx_bytes
from PIL import Image

import digitpad.core.data.image_folder as image_folder
from digitpad.core.data import load_dataset, read_idx
from digitpad.core.errors import DataError, ImageError
from digitpad.core.images import load_image

#: Most memory (traced Python and numpy allocations) refusing any case may take.
PEAK_LIMIT = 64 * 1024 * 1024


def _children() -> set[int]:
    """Process ids whose parent is this process, from /proc."""
    me, kids = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # exited meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:
            kids.add(int(entry))
    return kids


@pytest.fixture
def watched(monkeypatch):
    """Refuse and record any ``subprocess.Popen``; yield the record; assert no new child process."""
    started: list[object] = []

    class Refused:
        def __init__(self, args, *rest, **kw):
            started.append(args)
            raise OSError("digitpad must not start a process here")

    before = _children()
    monkeypatch.setattr(subprocess, "Popen", Refused)
    yield started
    assert started == []
    assert _children() <= before


def _one_sentence(msg: str, says: tuple[str, ...]) -> None:
    assert "\n" not in msg and msg.endswith(".") and "Traceback" not in msg
    assert "unexpected" not in msg.lower() and "please report" not in msg.lower()
    for fragment in says:
        assert fragment in msg


def _refuse(case: Case, source: Path) -> str:
    loader, error = (load_image, ImageError) if case.loader == "image" else (load_dataset, DataError)
    tracemalloc.start()
    try:
        with pytest.raises(error) as err:
            loader(source)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT, f"{case.name}: {peak / 1e6:.0f} MB"
    return str(err.value)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_is_refused_in_one_sentence(tmp_path, watched, case):
    source = case.build(tmp_path)
    if not os.path.lexists(source):
        pytest.skip(f"{source} does not exist on this system")
    _one_sentence(_refuse(case, source), case.says)


def test_the_postscript_case_is_live(tmp_path):
    """Control: Pillow left to itself takes the .png for EPS, whose loading runs Ghostscript."""
    path = tmp_path / "loop.png"
    path.write_bytes(EPS_LOOP)
    with Image.open(path) as img:  # identification only; img.load() would start gs
        assert img.format == "EPS"


def test_the_overflow_cases_are_live():
    """Control: fixed-width arithmetic, as the old size check used, wraps these shapes."""
    assert int(np.prod((65_536,) * 4, dtype=np.int64)) == 0
    assert int(np.prod((2**32 - 1,) * 3, dtype=np.int64)) != (2**32 - 1) ** 3


def _digit_folder(root: Path, mnist_small) -> Path:
    for digit in (0, 1):
        (root / str(digit)).mkdir(parents=True)
        for k, i in enumerate(np.flatnonzero(mnist_small.y_train == digit)[:3]):
            Image.fromarray(mnist_small.x_train[i]).save(root / str(digit) / f"{k}.png")
    return root


def test_image_folder_with_hostile_files_loads_the_good_ones(tmp_path, watched, mnist_small):
    root = _digit_folder(tmp_path / "digits", mnist_small)
    (root / "0" / "loop.png").write_bytes(EPS_LOOP)
    fifo(root / "1", "pipe.png")
    (root / "1" / "urandom.png").symlink_to("/dev/urandom")
    (root / "²").mkdir()  # a look-alike class folder next to real ones is not a class
    Image.fromarray(mnist_small.x_train[0]).save(root / "²" / "x.png")
    ds = load_dataset(root)
    assert ds.y_train.tolist() == [0, 0, 0, 1, 1, 1]
    assert "3 unreadable" in ds.source


def test_image_folder_with_too_many_files_is_refused_after_a_bounded_look(
    tmp_path, monkeypatch, watched
):
    monkeypatch.setattr(image_folder, "MAX_FOLDER_FILES", 20)
    (tmp_path / "big" / "7").mkdir(parents=True)
    for i in range(25):
        (tmp_path / "big" / "7" / f"{i}.png").write_bytes(b"")
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path / "big")
    _one_sentence(str(err.value), ("hold more than 20 files", "use an IDX or .npz file"))


def test_read_idx_refuses_a_fifo_and_reads_exactly_what_the_header_declares(tmp_path, watched):
    with pytest.raises(DataError) as err:
        read_idx(fifo(tmp_path, "labels-idx1-ubyte"))
    _one_sentence(str(err.value), ("labels-idx1-ubyte", "FIFO"))
    path = tmp_path / "ok-idx1-ubyte"
    path.write_bytes(idx_bytes((3,), bytes([1, 2, 3])))
    arr = read_idx(path)
    assert arr.tolist() == [1, 2, 3] and not arr.flags.writeable
