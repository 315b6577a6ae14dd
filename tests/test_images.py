"""Image loading: every pixel mode, EXIF rotation, animations, alpha strokes, polarity, bad and huge files."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps, features

import digitpad.core.images as images
from digitpad.core.errors import ImageError
from digitpad.core.images import (
    IMAGE_FORMATS,
    IMAGE_SUFFIXES,
    MAX_PIXELS,
    is_image_path,
    load_image,
)
from digitpad.core.normalize import normalize_canvas, normalize_image


@pytest.fixture(scope="module")
def digit(mnist_small) -> np.ndarray:
    """A real MNIST digit (uint8 28x28, ink bright), stretched so its brightest pixel is 255."""
    d = mnist_small.x_test[0].astype(np.float64)
    return np.rint(d * 255.0 / d.max()).astype(np.uint8)


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def check_digit(loaded: np.ndarray, digit: np.ndarray, min_corr: float = 0.98) -> None:
    assert loaded.dtype == np.float32 and loaded.ndim == 2
    assert loaded.min() >= 0.0 and loaded.max() <= 1.0
    assert loaded.shape == digit.shape
    assert corr(loaded, digit) > min_corr


def one_sentence(err: pytest.ExceptionInfo, name: str) -> str:
    msg = str(err.value)
    assert name in msg
    assert "\n" not in msg and msg.endswith(".")
    return msg


# ---------------------------------------------------------------------------------------------
# pixel modes and formats


def _write(tmp_path: Path, name: str, img: Image.Image, **kw) -> Path:
    path = tmp_path / name
    img.save(path, **kw)
    return path


def test_grey_png_is_returned_as_is(tmp_path, digit):
    path = _write(tmp_path, "l.png", Image.fromarray(digit))
    np.testing.assert_allclose(load_image(path), digit / 255.0, atol=1e-6)


@pytest.mark.parametrize(
    "mode,name",
    [
        ("L", "l.bmp"),
        ("RGB", "rgb.png"),
        ("RGB", "rgb.jpg"),
        ("RGB", "rgb.tif"),
        ("CMYK", "cmyk.jpg"),
        ("CMYK", "cmyk.tif"),
        ("P", "palette.png"),
        ("P", "palette.gif"),
        ("1", "bilevel.png"),
        ("YCbCr", "ycbcr.jpg"),
    ],
)
def test_modes_and_formats(tmp_path, digit, mode, name):
    img = Image.fromarray(digit)
    img = img.point(lambda v: 255 if v > 100 else 0).convert("1") if mode == "1" else img.convert(mode)
    path = _write(tmp_path, name, img)
    with Image.open(path) as check:
        if mode in ("P", "1", "CMYK"):
            assert check.mode == mode
    check_digit(load_image(path), digit, 0.95 if mode == "1" or name.endswith(".jpg") else 0.98)


@pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WebP")
def test_webp(tmp_path, digit):
    check_digit(load_image(_write(tmp_path, "d.webp", Image.fromarray(digit), lossless=True)), digit)


def test_16_bit_png(tmp_path, digit):
    path = _write(tmp_path, "i16.png", Image.fromarray(digit.astype(np.uint16) * 257))
    with Image.open(path) as check:
        assert check.mode.startswith("I")
    check_digit(load_image(path), digit)


def test_12_bit_data_in_16_bit_png_is_stretched(tmp_path, digit):
    path = _write(tmp_path, "i12.png", Image.fromarray(digit.astype(np.uint16) * 16))
    out = load_image(path)
    check_digit(out, digit)
    assert out.max() == pytest.approx(1.0)


def test_32_bit_integer_and_float_tiff(tmp_path, digit):
    check_digit(load_image(_write(tmp_path, "i.tif", Image.fromarray(digit.astype(np.int32) * 1000))), digit)
    check_digit(load_image(_write(tmp_path, "f.tif", Image.fromarray(digit.astype(np.float32) / 255))), digit)
    wild = digit.astype(np.float32) * 7.5 - 300.0  # floats far outside [0, 1], negative too
    check_digit(load_image(_write(tmp_path, "w.tif", Image.fromarray(wild))), digit)


def test_dark_ink_on_light_paper_is_inverted(tmp_path, digit):
    paper = np.full((28, 28), 215, np.uint8)
    photo = np.clip(paper.astype(int) - digit.astype(int) * 180 // 255, 0, 255).astype(np.uint8)
    rng = np.random.default_rng(0)
    noisy = np.clip(photo + rng.normal(0, 3, photo.shape), 0, 255).astype(np.uint8)
    rgb = np.stack([noisy, noisy, (noisy * 0.9).astype(np.uint8)], axis=2)  # yellowish paper
    out = load_image(_write(tmp_path, "paper.jpg", Image.fromarray(rgb), quality=95))
    check_digit(out, digit, 0.95)
    assert np.median(out) < 0.05  # the paper became background
    assert out.max() == pytest.approx(1.0)  # the darkest ink became full ink


def test_light_ink_on_dark_is_kept(tmp_path, digit):
    out = load_image(_write(tmp_path, "chalk.png", Image.fromarray(digit)))
    assert out[digit > 200].min() > 0.7


# ---------------------------------------------------------------------------------------------
# alpha


def test_alpha_only_strokes_black_on_transparent(tmp_path, digit):
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = digit  # colour is black everywhere; only alpha carries the drawing
    check_digit(load_image(_write(tmp_path, "a.png", Image.fromarray(rgba, "RGBA"))), digit)


def test_alpha_only_strokes_white_on_transparent(tmp_path, digit):
    rgba = np.full((28, 28, 4), 255, np.uint8)
    rgba[..., 3] = digit
    check_digit(load_image(_write(tmp_path, "w.png", Image.fromarray(rgba, "RGBA"))), digit)


def test_la_strokes(tmp_path, digit):
    la = np.zeros((28, 28, 2), np.uint8)
    la[..., 1] = digit
    check_digit(load_image(_write(tmp_path, "la.png", Image.fromarray(la, "LA"))), digit)


def test_opaque_rgba_uses_colour(tmp_path, digit):
    rgba = np.full((28, 28, 4), 255, np.uint8)
    rgba[..., :3] = (255 - digit)[..., None]  # black ink on opaque white
    check_digit(load_image(_write(tmp_path, "o.png", Image.fromarray(rgba, "RGBA"))), digit)


def test_coloured_drawing_on_transparent_background_is_composited(tmp_path, digit):
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 0] = 255  # red and white ink: colours carry contrast, background transparent
    rgba[..., 1] = np.where(digit > 128, 255, 0)
    rgba[..., 2] = np.where(digit > 128, 255, 0)
    rgba[..., 3] = np.where(digit > 0, 255, 0)
    out = load_image(_write(tmp_path, "c.png", Image.fromarray(rgba, "RGBA")))
    assert out.shape == (28, 28)
    assert (out[digit == 0] < 0.05).all()
    assert (out[digit > 0] > 0.2).all()


def test_palette_with_transparency(tmp_path, digit):
    idx = (digit > 100).astype(np.uint8)  # 0 = background (transparent white), 1 = black ink
    img = Image.fromarray(idx, "P")
    img.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    path = _write(tmp_path, "pt.png", img, transparency=0)
    with Image.open(path) as check:
        assert check.mode == "P" and "transparency" in check.info
    out = load_image(path)
    np.testing.assert_array_equal(out > 0.5, digit > 100)


# ---------------------------------------------------------------------------------------------
# orientation and animation


@pytest.mark.parametrize("suffix", ["jpg", "png"])
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(tmp_path, orientation, suffix):
    stored = np.zeros((20, 40), np.uint8)  # landscape as stored
    stored[2:6, 2:6] = 255  # a mark in the top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    options = {"quality": 100} if suffix == "jpg" else {}  # PNG: an eXIf chunk, read on decoding
    path = _write(tmp_path, f"o{orientation}.{suffix}", Image.fromarray(stored), exif=exif, **options)
    out = load_image(path)
    with Image.open(path) as ref:
        expected = np.asarray(ImageOps.exif_transpose(ref).convert("L"), dtype=np.float32) / 255
    assert out.shape == expected.shape
    assert out.shape == ((40, 20) if orientation in (6, 8) else (20, 40))
    assert corr(out, expected) > 0.99
    ys, xs = np.nonzero(out > 0.5)
    mark = (ys.mean(), xs.mean())
    h, w = out.shape
    where = {3: (h - 4, w - 4), 6: (4, w - 4), 8: (h - 4, 4)}[orientation]
    assert abs(mark[0] - where[0]) < 2 and abs(mark[1] - where[1]) < 2


def test_exif_orientation_is_read_only_after_the_size_guard(tmp_path, monkeypatch):
    """An image over the pixel limit is refused before its EXIF (or pixels) are looked at."""
    exif = Image.Exif()
    exif[0x0112] = 6
    big = _write(tmp_path, "big.png", Image.new("L", (1200, 1000), 0), exif=exif)
    small = _write(tmp_path, "small.png", Image.new("L", (40, 20), 0), exif=exif)
    seen = []
    real = ImageOps.exif_transpose
    monkeypatch.setattr(ImageOps, "exif_transpose", lambda im, **kw: (seen.append(im.size), real(im, **kw))[1])
    monkeypatch.setattr(images, "MAX_PIXELS", 1_000_000)
    with pytest.raises(ImageError, match="too large"):
        load_image(big)
    assert seen == []
    assert load_image(small).shape == (40, 20)  # turned upright by exif_transpose
    assert seen == [(40, 20)]


def test_animated_gif_gives_first_frame(tmp_path, digit):
    first = Image.fromarray(digit)
    second = Image.fromarray(np.rot90(digit).copy())
    path = tmp_path / "anim.gif"
    first.save(path, save_all=True, append_images=[second, first], duration=100, loop=0)
    with Image.open(path) as check:
        assert check.n_frames >= 2
    check_digit(load_image(path), digit, 0.97)


# ---------------------------------------------------------------------------------------------
# tiny, blank, broken


def test_one_by_one_images(tmp_path):
    for value in (0, 255, 128):
        out = load_image(_write(tmp_path, f"p{value}.png", Image.new("L", (1, 1), value)))
        assert out.shape == (1, 1) and out.dtype == np.float32
        assert normalize_canvas(out).blank
    dot = np.zeros((3, 3), np.uint8)
    dot[1, 1] = 255
    n = normalize_image(_write(tmp_path, "dot.png", Image.fromarray(dot)))
    assert not n.blank and n.bbox == (1, 1, 2, 2)


def test_blank_white_page_is_blank(tmp_path):
    assert normalize_image(_write(tmp_path, "white.jpg", Image.new("RGB", (300, 200), "white"))).blank


def test_text_file_renamed_png(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture\n")
    with pytest.raises(ImageError) as err:
        load_image(path)
    assert "not an image" in one_sentence(err, "notes.png")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageError) as err:
        load_image(path)
    assert "empty" in one_sentence(err, "empty.png")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError) as err:
        load_image(tmp_path / "nope.png")
    assert "does not exist" in one_sentence(err, "nope.png")
    with pytest.raises(ImageError) as err:
        load_image(tmp_path)
    assert "folder" in one_sentence(err, tmp_path.name)


@pytest.mark.parametrize("name", ["cut.png", "cut.jpg", "cut.gif"])
def test_truncated_files(tmp_path, name):
    rng = np.random.default_rng(1)
    noise = Image.fromarray(rng.integers(0, 256, (200, 200), dtype=np.uint8))
    full = _write(tmp_path, "full" + Path(name).suffix, noise)
    data = full.read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError) as err:
        load_image(path)
    one_sentence(err, name)


def test_corrupt_png_data(tmp_path, digit):
    good = _write(tmp_path, "good.png", Image.fromarray(digit)).read_bytes()
    bad = bytearray(good)
    start = bad.index(b"IDAT") + 8
    bad[start : start + 20] = b"\xff" * 20  # garbage inside the compressed pixel data
    path = tmp_path / "bad.png"
    path.write_bytes(bytes(bad))
    with pytest.raises(ImageError) as err:
        load_image(path)
    one_sentence(err, "bad.png")


# ---------------------------------------------------------------------------------------------
# huge images


def _peak_rss_reset() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset VmHWM (peak RSS) to the current RSS
        return True
    except OSError:
        return False


def _peak_rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _current_rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def write_sparse_png(path: Path, width: int, height: int, dot: tuple[int, int] | None) -> None:
    """Write a 1-bit greyscale PNG row by row (white, one black square) without holding it in memory."""
    row_bytes = (width + 7) // 8
    white = b"\x00" + b"\xff" * row_bytes
    comp = zlib.compressobj(9)
    chunks = []
    for y in range(height):
        if dot and dot[0] <= y < dot[0] + 50:
            row = bytearray(white)
            for x in range(dot[1], dot[1] + 50):
                row[1 + x // 8] &= ~(0x80 >> (x % 8)) & 0xFF
            chunks.append(comp.compress(bytes(row)))
        else:
            chunks.append(comp.compress(white))
    chunks.append(comp.flush())
    data = b"".join(chunks)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b""))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to measure memory")
@pytest.mark.parametrize("side", [20000, 8000])
def test_huge_png_is_refused_without_exhausting_memory(tmp_path, side):
    path = tmp_path / f"huge{side}.png"
    write_sparse_png(path, side, side, dot=(side // 2, side // 3))
    assert path.stat().st_size < 5_000_000
    assert side * side > MAX_PIXELS
    reset = _peak_rss_reset()
    before = _peak_rss_kb() if reset else _current_rss_kb()
    with pytest.raises(ImageError) as err:
        load_image(path)
    grown_mb = (_peak_rss_kb() - before) / 1024
    assert "too large" in one_sentence(err, path.name)
    assert grown_mb < 500


def test_large_png_is_decoded_and_reduced(tmp_path):
    path = tmp_path / "big.png"
    write_sparse_png(path, 4100, 3000, dot=(1000, 2000))
    out = load_image(path)
    assert max(out.shape) <= images.WORK_SIDE
    assert out.shape == (1000, 1367)  # reduced by 3, the smallest integer factor that fits
    norm = normalize_canvas(out)
    assert not norm.blank
    top, left, bottom, right = norm.bbox
    assert abs(top - 333) <= 1 and abs(left - 666) <= 1 and 15 <= bottom - top <= 18


def test_large_jpeg_is_decoded_reduced_by_draft(tmp_path, monkeypatch, digit):
    """JPEG over the pixel limit: decoded directly at a reduced scale instead of being refused."""
    canvas = np.zeros((1500, 2000), np.uint8)
    canvas[300:1100, 500:1300] = np.asarray(Image.fromarray(digit).resize((800, 800)))
    path = _write(tmp_path, "photo.jpg", Image.fromarray(canvas), quality=90)
    monkeypatch.setattr(images, "MAX_PIXELS", 1_000_000)
    monkeypatch.setattr(images, "WORK_SIDE", 1000)
    decoded_sizes = []
    real_load = Image.Image.load

    def spy_load(self):
        decoded_sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(Image.Image, "load", spy_load)
    out = load_image(path)
    assert out.shape == (750, 1000)
    assert all(w * h <= 1_000_000 for w, h in decoded_sizes)  # never decoded at full size
    halved = np.asarray(Image.fromarray(canvas).reduce(2), dtype=np.float32) / 255
    assert corr(out, halved) > 0.99  # what a full decode followed by a 2x reduction gives
    assert corr(normalize_canvas(out).image, normalize_canvas(halved).image) > 0.95
    # the same pixels as PNG cannot be drafted and are refused under that limit
    png = _write(tmp_path, "photo.png", Image.fromarray(canvas))
    with pytest.raises(ImageError, match="too large"):
        load_image(png)


# ---------------------------------------------------------------------------------------------
# which files are images


def test_image_suffixes_are_the_allowed_formats_of_pillow():
    registered = Image.registered_extensions()
    assert IMAGE_SUFFIXES <= set(registered)
    assert {registered[ext] for ext in IMAGE_SUFFIXES} == set(IMAGE_FORMATS) | {"MPO"}
    assert all(fmt in Image.OPEN for fmt in IMAGE_FORMATS)  # each one Pillow can open
    assert all(ext.startswith(".") and ext == ext.lower() for ext in IMAGE_SUFFIXES)
    assert {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm",
            ".pbm", ".pnm", ".ico", ".tga"} <= IMAGE_SUFFIXES  # the list the window had by hand
    # never a format decoded by another program (EPS: Ghostscript), a stub, or a non-image;
    # .h5 is a Keras model here, not Pillow's HDF5 stub
    assert not {".h5", ".hdf", ".pdf", ".eps", ".ps", ".wmf", ".emf", ".mpg", ".grib"} & IMAGE_SUFFIXES
    assert not {"EPS", "PDF", "WMF", "BUFR", "GRIB", "HDF5", "MPEG"} & set(IMAGE_FORMATS)
    assert is_image_path("scan.PNG") and is_image_path(Path("a/b/photo.jpeg"))
    assert not is_image_path("model.h5") and not is_image_path("notes.txt")
    assert not is_image_path("README")


def test_every_suffix_pillow_can_write_is_read_back(tmp_path, digit):
    """Each image suffix whose format Pillow writes round-trips through load_image."""
    registered = Image.registered_extensions()
    expected = normalize_canvas(digit).image
    written = set()
    for ext in sorted(IMAGE_SUFFIXES):
        if registered[ext] not in Image.SAVE:
            continue
        path = tmp_path / f"digit{ext}"
        for mode in ("L", "RGB", "1", "RGBA"):
            try:
                Image.fromarray(digit).convert(mode).save(path, quality=95)  # JPEG, WebP, AVIF
                break
            except (OSError, ValueError, KeyError):
                continue
        else:
            continue
        written.add(registered[ext])
        loaded = load_image(path)  # ICO comes back at its own icon size
        assert corr(normalize_canvas(loaded).image, expected) > 0.9, ext
    assert written == set(IMAGE_FORMATS) | {"MPO"}  # every allowed format, written and read
