"""The personal data set: labelled drawings on disk, loading, import/export, hostile zips."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from digitpad.core.data import load_dataset
from digitpad.core.errors import DataError
from digitpad.core.personal import (
    DrawingStore,
    PenStroke,
    decode_strokes,
    drawings_dir,
    export_zip,
    import_folder,
    import_zip,
    load_drawings,
)
from digitpad.core.strokes import draw_digit


def _drawing(style: str, seed: int):
    d = draw_digit(style, "clean", np.random.default_rng(seed))
    strokes = [PenStroke(20.0, [(float(x), float(y), 1.0) for x, y in s],
                         [0.01 * i for i in range(len(s))]) for s in d.strokes]
    return d.label, d.canvas, strokes


def test_save_writes_three_files_and_undo_removes_them():
    store = DrawingStore()
    assert store.root == drawings_dir()
    label, canvas, strokes = _drawing("7_crossed", 1)
    files = store.save(label, canvas, strokes)
    folder = store.root / "7"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([files.image.name, files.canvas.name, files.strokes.name])
    assert np.asarray(Image.open(files.canvas)).shape == (280, 280)
    assert np.asarray(Image.open(files.image)).shape == (28, 28)
    back = decode_strokes(files.strokes.read_bytes())
    assert len(back) == len(strokes) and back[0].times[1] == pytest.approx(0.01)
    assert store.counts()[7] == 1
    assert store.undo_last() == files
    assert list(folder.iterdir()) == [] and store.counts() == [0] * 10
    assert store.undo_last() is None


def test_blank_pad_is_refused():
    with pytest.raises(DataError, match="blank"):
        DrawingStore().save(3, np.zeros((280, 280), np.uint8))


def test_folder_round_trips_through_load_dataset_relabel_delete(tmp_path):
    store = DrawingStore(tmp_path / "d")
    saved = [store.save(*_drawing(s, i)) for i, s in enumerate(["1_flag", "4_closed", "4_open"])]
    ds = load_dataset(store.root)
    assert sorted(ds.y_train.tolist()) == [1, 4, 4] and "unreadable" not in ds.source
    mine = load_drawings(store.root)
    assert mine.counts()[4] == 2 and mine.message() is None
    own = np.asarray(Image.open(saved[0].image))
    assert np.array_equal(mine.x[mine.y.tolist().index(1)], own)
    moved = store.relabel(saved[1], 9)
    assert moved.image.parent.name == "9" and not saved[1].image.exists()
    store.delete(moved)
    assert store.counts() == [0, 1, 0, 0, 1, 0, 0, 0, 0, 0]


def test_corrupt_files_are_skipped_and_named(tmp_path):
    store = DrawingStore(tmp_path / "d")
    store.save(*_drawing("2_loop", 3))
    (store.root / "2" / "broken.png").write_bytes(b"\x89PNG not really")
    (store.root / "2" / "notes.txt").write_text("hello")
    bad = store.save(*_drawing("3_round", 4))
    bad.strokes.write_text("{not json")
    mine = load_drawings(store.root)
    assert len(mine) == 2  # the bad strokes file leaves its image usable
    text = mine.message()
    assert "broken.png" in text and "notes.txt" in text and "strokes" in text
    assert (store.root / "2" / "broken.png").exists()  # never deleted


def test_png_only_folder_and_export_import_zip(tmp_path):
    src = tmp_path / "hand"
    (src / "5").mkdir(parents=True)
    label, canvas, _ = _drawing("5_two_strokes", 5)
    Image.fromarray(255 - canvas).save(src / "5" / "five.png")  # dark ink on paper
    mine = load_drawings(src)
    assert mine.y.tolist() == [5] and mine.strokes == [None]
    store = DrawingStore(tmp_path / "d")
    assert import_folder(store, src).added[5] == 1
    store.save(*_drawing("9_curved", 6))
    export_zip(store, tmp_path / "all.zip")
    other = DrawingStore(tmp_path / "e")
    report = import_zip(other, tmp_path / "all.zip")
    assert report.total == 2 and other.counts()[9] == 1 and not report.skipped


def test_hostile_zip_members_are_refused(tmp_path):
    path = tmp_path / "evil.zip"
    buf = io.BytesIO()
    Image.fromarray(np.full((28, 28), 200, np.uint8)).save(buf, "PNG")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../3/escape.png", buf.getvalue())
        zf.writestr("/abs/3/x.png", buf.getvalue())
        zf.writestr("3/bomb.png", b"\0" * 5_000_000)
        zf.writestr("3/fake.png", b"not an image at all")
        link = zipfile.ZipInfo("3/link.png")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
    store = DrawingStore(tmp_path / "d")
    report = import_zip(store, path)
    assert report.total == 0
    reasons = dict(report.skipped)
    assert set(reasons) == {"../3/escape.png", "/abs/3/x.png", "3/bomb.png", "3/fake.png",
                            "3/link.png"}
    assert "compressed" in reasons["3/bomb.png"] and "regular" in reasons["3/link.png"]
    assert not (tmp_path / "3").exists()


def test_not_a_zip_is_one_sentence(tmp_path):
    (tmp_path / "x.zip").write_text("nope")
    with pytest.raises(DataError, match="zip"):
        import_zip(DrawingStore(tmp_path / "d"), tmp_path / "x.zip")
