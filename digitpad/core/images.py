"""Reading image files into ink-bright float arrays.

:func:`load_image` reads the raster formats of :data:`IMAGE_FORMATS` and returns a float32 2-D
array in [0, 1] with the digitpad convention: 0 = background, 1 = ink. Images are untrusted input:

* only a regular file is opened, once, without blocking (a FIFO or ``/dev/urandom`` is refused
  before it is read), and Pillow decodes exactly that open file;
* Pillow may try only the allow-listed formats, all decoded in-process -- never EPS/PostScript,
  which Pillow would hand to the Ghostscript program whatever the file is called; a file in a
  refused format gets a sentence naming that format.

On the way it

* takes the first frame of animations (GIF, APNG, multi-page TIFF);
* applies the EXIF orientation tag with ``PIL.ImageOps.exif_transpose`` once the size guard has
  passed (photos from phones are often stored sideways);
* reads every pixel mode: 1, L, P (with or without transparency), LA, PA, RGB, RGBA, CMYK, YCbCr,
  I;16, I, F and the rest by conversion;
* reads strokes drawn on a transparent background (colour channels without contrast) from the
  alpha channel;
* detects polarity from the image border: dark ink on light paper is inverted, and the background
  level is stretched to 0 and the brightest ink to 1 (so photos of paper work);
* never decodes a huge image at full size when it can avoid it: JPEGs are decoded reduced
  (``Image.draft``), other images are reduced right after decoding, and anything that would need
  more than :data:`MAX_PIXELS` pixels decoded is refused.

Every failure is an :class:`~digitpad.core.errors.ImageError` whose message is one sentence naming
the file.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digitpad.core.data.pixels import PIXEL_MAX, pixels_to_unit
from digitpad.core.data.regular import open_regular
from digitpad.core.errors import ImageError

#: Largest number of pixels digitpad decodes at once (about a 48-megapixel photo). JPEGs larger
#: than this are decoded at a reduced scale; other formats larger than this are refused.
MAX_PIXELS: int = 48_000_000

#: Images whose longest side exceeds this are reduced to about this size before any processing.
WORK_SIDE: int = 2048

#: The raster formats digitpad decodes -- the allow-list handed to ``Image.open(formats=...)``, in
#: the order Pillow tries them (TGA, which has no signature, last). Each is decoded inside the
#: process by Pillow's own decoders. Everything else is refused before any decoding: EPS/PS above
#: all (Pillow hands it to the Ghostscript program, which runs the PostScript inside), PDF, WMF/EMF,
#: the stubs that need an external handler (BUFR, GRIB, HDF5 -- ".h5" is a Keras model here) and
#: the rarely used formats whose decoders only widen what a hostile file can reach.
IMAGE_FORMATS: tuple[str, ...] = (
    "PNG", "JPEG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "PPM", "ICO", "TGA",
)
_FORMAT_NAMES = "PNG, JPEG, GIF, BMP, TIFF, WebP, PBM/PGM/PPM, ICO and TGA"

#: Lower-case file suffixes (``".png"``) of :data:`IMAGE_FORMATS` as registered with Pillow
#: (and ``.mpo``: multi-picture JPEGs, which Pillow's JPEG opener reads).
IMAGE_SUFFIXES: frozenset[str] = frozenset(
    ext.lower()
    for ext, fmt in Image.registered_extensions().items()
    if fmt in IMAGE_FORMATS or fmt == "MPO"
)


def is_image_path(path: str | os.PathLike) -> bool:
    """Whether ``path``'s suffix (any case) is one of :data:`IMAGE_SUFFIXES`.

    Parameters
    ----------
    path : str or os.PathLike
        A file name or path; the file need not exist.

    Returns
    -------
    bool
        True for ``"scan.PNG"``, False for ``"model.h5"`` or ``"notes.txt"``.
    """
    return Path(path).suffix.lower() in IMAGE_SUFFIXES

_REDUCIBLE = {"L", "LA", "RGB", "RGBA", "RGBa", "La", "I", "F", "CMYK", "P", "1"}


def _fail(path: Path, what: str) -> ImageError:
    return ImageError(f"cannot read image {str(path)!r}: {what}.")


def _refused_format(prefix: bytes) -> str | None:
    """The Pillow format outside the allow-list whose signature ``prefix`` carries, described."""
    if prefix.startswith(b"%PDF"):
        return "PDF format (a document, not an image)"
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        if fmt in IMAGE_FORMATS or accept is None:
            continue
        try:
            if accept(prefix):
                desc = getattr(factory, "format_description", None)
                return f"{fmt} format ({desc})" if desc and desc.upper() != fmt else f"{fmt} format"
        except Exception:  # a signature check that cannot handle a short prefix
            continue
    return None


def _open_checked(fh: BinaryIO, path: Path) -> Image.Image:
    """Open an already opened regular file lazily (no pixels decoded) with the allowed formats only."""
    try:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise _fail(path, "the file is empty (0 bytes)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(fh, formats=list(IMAGE_FORMATS))
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise _fail(path, f"it is too large to decode safely (over {Image.MAX_IMAGE_PIXELS * 2} pixels)") from None
    except UnidentifiedImageError:
        fh.seek(0)
        other = _refused_format(fh.read(16))
        if other is not None:
            raise _fail(path, f"it is a file in the {other}; digitpad opens only "
                              f"{_FORMAT_NAMES} images") from None
        raise _fail(path, f"it is not an image file in a format digitpad opens ({_FORMAT_NAMES})") from None
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError) as exc:
        raise _fail(path, f"the file is corrupt ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    return text.splitlines()[0]


def _decode(img: Image.Image, path: Path) -> Image.Image:
    """Decode the first frame at a bounded size, turned upright by its EXIF orientation."""
    try:
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)
        w, h = img.size
        if w <= 0 or h <= 0:
            raise _fail(path, "it has no pixels")
        if img.format in ("JPEG", "MPO") and (w * h > MAX_PIXELS or max(w, h) > WORK_SIDE):
            # DCT scaling: decode directly at 1/2, 1/4 or 1/8 size, never at full size.
            # ask for the size the integer reduction below would give anyway
            factor = max(math.ceil(max(w, h) / WORK_SIDE), math.ceil(math.sqrt(w * h / MAX_PIXELS)))
            img.draft(None, (max(1, w // factor), max(1, h // factor)))
            w, h = img.size
        if w * h > MAX_PIXELS:
            raise _fail(path, f"it is too large ({img.size[0]}x{img.size[1]} pixels; the limit is {MAX_PIXELS} pixels)")
        img.load()
        # Only after the size check and decoding: PNG's getexif() decodes the whole image itself.
        try:
            ImageOps.exif_transpose(img, in_place=True)
        except Exception:  # a broken EXIF block must not make a readable image unreadable
            pass
    except ImageError:
        raise
    except MemoryError:
        raise _fail(path, "there is not enough memory to decode it") from None
    except Image.DecompressionBombError:
        raise _fail(path, "it is too large to decode safely") from None
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError, KeyError) as exc:
        msg = _reason(exc)
        if "truncated" in msg.lower():
            raise _fail(path, "the file is truncated") from None
        raise _fail(path, f"the file is corrupt ({msg})") from None
    except Exception as exc:  # any decoder bug in a plugin: still one sentence, never a traceback
        raise _fail(path, f"decoding failed ({_reason(exc)})") from None

    if max(img.size) > WORK_SIDE:
        img = _reduce(img, math.ceil(max(img.size) / WORK_SIDE))
    return img


def _reduce(img: Image.Image, factor: int) -> Image.Image:
    """Shrink by an integer factor with box averaging, converting modes ``reduce`` cannot take."""
    if img.mode in ("P", "1"):
        img = img.convert("RGBA" if "transparency" in img.info else "L")
    elif img.mode not in _REDUCIBLE:
        img = img.convert("F") if img.mode.startswith("I") else img.convert("RGBA")
    return img.reduce(factor)


def _channels(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (brightness, alpha or None) as float32 arrays in [0, 1]."""
    mode = img.mode
    if mode == "P" or mode == "PA":
        has_alpha = mode == "PA" or "transparency" in img.info
        img = img.convert("RGBA" if has_alpha else "RGB")
        mode = img.mode
    if mode in ("RGBa", "La"):
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("LA", "RGBA"):
        alpha = pixels_to_unit(np.asarray(img.getchannel("A")))
        grey = pixels_to_unit(np.asarray(img.convert("L")))
        return grey, alpha
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(img.convert("F") if mode not in ("I", "F") else img, dtype=np.float32)
        arr = np.where(np.isfinite(arr), arr, np.float32(0.0)).astype(np.float32, copy=False)
        lo, hi = float(arr.min()), float(arr.max())
        if mode == "F" and lo >= 0.0 and hi <= 1.0:
            return arr, None
        if lo >= 0.0 and hi <= PIXEL_MAX:
            return pixels_to_unit(arr), None
        if lo >= 0.0:
            return arr / np.float32(65535.0 if hi <= 65535.0 else hi), None
        return (arr - np.float32(lo)) / np.float32(hi - lo if hi > lo else 1.0), None
    if mode not in ("L", "1", "RGB"):
        img = img.convert("RGB")
    return pixels_to_unit(np.asarray(img.convert("L"))), None


def _border(a: np.ndarray) -> np.ndarray:
    h, w = a.shape
    k = max(1, min(h, w) // 50)
    return np.concatenate([a[:k].ravel(), a[-k:].ravel(), a[:, :k].ravel(), a[:, -k:].ravel()])


def _ink(grey: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Turn brightness (and alpha) into an ink-bright array with background 0 and ink up to 1."""
    if alpha is not None and float(alpha.min()) < 0.99:
        opaque = alpha > 0.5
        colours = grey[opaque]
        if colours.size == 0 or float(colours.max() - colours.min()) < 0.1:
            # Strokes on a transparent background: the colour says nothing, the alpha is the ink.
            grey = alpha
            alpha = None
        else:
            # Composite over a background that contrasts with the opaque colours.
            back = np.float32(0.0 if float(colours.mean()) > 0.5 else 1.0)
            grey = grey * alpha + back * (np.float32(1.0) - alpha)

    border = _border(grey)
    bg = float(np.median(border))
    if abs(bg - 0.5) < 0.1:
        bg = float(np.median(grey))
    ink = np.array(grey, dtype=np.float32)  # private copy, modified in place below
    if bg > 0.5:
        np.subtract(np.float32(1.0), ink, out=ink)
        border = 1.0 - border
        bg = 1.0 - bg
    mad = float(np.median(np.abs(border - bg)))
    lo = bg + 3.0 * 1.4826 * mad
    peak = float(ink.max())
    if peak - lo < 0.05:
        ink.fill(0.0)
        return ink
    ink -= np.float32(lo)
    ink *= np.float32(1.0 / (peak - lo))
    np.clip(ink, 0.0, 1.0, out=ink)
    return ink


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as a float32 2-D array in [0, 1], ink bright (1) on dark (0).

    Parameters
    ----------
    path : str or os.PathLike
        A regular file in one of :data:`IMAGE_FORMATS` (PNG, JPEG, GIF, BMP, TIFF, WebP, ...).

    Returns
    -------
    numpy.ndarray
        float32 (H, W) in [0, 1]; images with a side over :data:`WORK_SIDE` come back reduced to
        about that size. An image without contrast comes back all zeros (blank).

    Raises
    ------
    ImageError
        One sentence naming the file: missing, a folder, a FIFO or device, empty, a refused format
        (naming it), not an image, truncated, corrupt or too large.
    """
    path = Path(path)
    with open_regular(path, lambda why: _fail(path, why)) as fh:
        img = _open_checked(fh, path)
        try:
            with img:
                frame = _decode(img, path)
                grey, alpha = _channels(frame)
        except ImageError:
            raise
        except MemoryError:
            raise _fail(path, "there is not enough memory to decode it") from None
        except Exception as exc:  # conversion bugs in exotic modes: still one sentence
            raise _fail(path, f"its pixel format cannot be converted ({_reason(exc)})") from None
    return _ink(grey, alpha)
