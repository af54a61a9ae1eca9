"""Decoding untrusted upload bytes into a greyscale array.

Owns the size limits (checked on the header, before any pixel is decoded), the formats accepted,
EXIF orientation, every Pillow mode (16-bit, palette, CMYK, transparency) and ``ImageError``, the
only exception raised for bad *image content*: its message is a sentence meant to be shown to the
user as is. Misuse by the calling code raises ``ValueError`` or ``TypeError`` as usual.

Depends only on numpy and Pillow; never imports streamlit.
"""

from __future__ import annotations

import io
import struct
import threading
import warnings
import zlib

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10_000_000
MAX_PIXELS = 25_000_000

# Only the formats users actually upload. Letting Pillow probe its ~40 other
# formats would widen the attack surface and make "is this an image?" depend
# on obscure plugins guessing at random bytes (e.g. headerless TGA).
_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
_FORMATS_TEXT = "PNG, JPEG, WebP, BMP, GIF"

# What Pillow's own format probing treats as "broken file" (SyntaxError,
# IndexError, TypeError, struct.error) plus what its decoders, zlib and numpy
# raise on damaged data (fuzzing mostly yields OSError and ValueError).
# Anything else is treated as a bug in our code and allowed to propagate
# rather than being disguised as a bad upload.
_DECODE_ERRORS = (
    OSError,  # includes UnidentifiedImageError, truncation, decoder errors
    ValueError,
    SyntaxError,  # Pillow's historic "not this format / broken file" signal
    struct.error,
    zlib.error,
    EOFError,
    TypeError,
    IndexError,
    KeyError,
    ZeroDivisionError,
    OverflowError,
    MemoryError,  # a header that asks for an absurd allocation is bad input
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)

# warnings.catch_warnings mutates process-global state; Streamlit serves each
# session from its own thread, so concurrent uploads must not interleave
# their save/restore of the filter list.
_WARNINGS_LOCK = threading.Lock()

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")


class ImageError(ValueError):
    """The uploaded data is not an image we can use.

    ``str(err)`` is a complete sentence suitable for showing to the user.
    """


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g} MB"


def _megapixels(n: int) -> str:
    return f"{n / 1_000_000:g} megapixels"


def _too_many_pixels(width: int, height: int, max_pixels: int) -> ImageError:
    return ImageError(
        f"The image is {width}×{height} pixels; the limit is {_megapixels(max_pixels)}."
    )


def _header_size(data: bytes) -> tuple[int, int] | None:
    """Read the dimensions from the header alone, bypassing Pillow's bomb check.

    Only used to phrase the error message once Pillow has already refused the
    file as a decompression bomb (its own message omits the dimensions).
    """
    try:
        Image.init()
        prefix = data[:16]
        for fmt in _FORMATS:
            factory, accept = Image.OPEN[fmt]
            verdict = True if accept is None else accept(prefix)
            if isinstance(verdict, str) or not verdict:
                continue
            im = factory(io.BytesIO(data), "")
            width, height = im.size
            return int(width), int(height)
    except Exception:  # best effort only: the caller has a generic message
        return None
    return None


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    with _WARNINGS_LOCK, warnings.catch_warnings():
        # Pillow only warns for images between MAX_IMAGE_PIXELS and twice that;
        # for untrusted uploads a warning is not enough.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            size = _header_size(data)
            if size is not None:
                raise _too_many_pixels(*size, max_pixels) from None
            raise ImageError(
                f"The image has too many pixels; the limit is {_megapixels(max_pixels)}."
            ) from None
    width, height = im.size
    if width <= 0 or height <= 0:
        raise ImageError("The image has no pixels (its width or height is zero).")
    # Checked on the header's size, before load() allocates or decodes anything.
    if width * height > max_pixels:
        raise _too_many_pixels(width, height, max_pixels)
    return im


def _apply_exif_orientation(im: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(im)
    except Exception:
        # The pixels already decoded fine (load() ran before this); a corrupt
        # EXIF block should cost the user the rotation, not the whole upload.
        return im


def _to_grey(im: Image.Image) -> np.ndarray:
    """Any Pillow mode -> float32 (H, W) in [0, 1]; transparency becomes white."""
    mode = im.mode
    transparency = im.info.get("transparency")

    if mode in _SIXTEEN_BIT_MODES:
        raw = np.asarray(im)
        grey = raw.astype(np.float32)
        grey /= 65535.0
        if isinstance(transparency, int):
            grey[raw == transparency] = 1.0
        return grey

    if mode == "F":
        grey = np.asarray(im, dtype=np.float32)
        return np.nan_to_num(grey, nan=0.0, posinf=1.0, neginf=0.0)

    if mode in _ALPHA_MODES or transparency is not None:
        # A digit drawn on a transparent canvas has arbitrary (often black)
        # colour under alpha=0; compositing over white makes it read as dark
        # ink on paper, which preprocessing then inverts like any scan.
        # Via RGBA because only that conversion honours every kind of
        # transparency Pillow reports (tRNS colour, palette alpha, ...).
        la = np.asarray(im.convert("RGBA").convert("LA"))
        alpha = la[..., 1].astype(np.float32)
        alpha /= 255.0
        grey = la[..., 0].astype(np.float32)
        grey /= 255.0
        grey *= alpha
        np.subtract(1.0, alpha, out=alpha)
        grey += alpha
        return grey

    # Pillow's own 8-bit conversions keep peak memory at a few bytes per
    # pixel; a float32 RGB(A) array would be 12-16 bytes per pixel, which
    # matters at the 25-megapixel limit.
    if mode != "L":
        # "1", "P", "CMYK", "YCbCr", "LAB", ... go through RGB so palette and
        # colour-space handling stay Pillow's job.
        im = im.convert("L") if mode == "RGB" else im.convert("RGB").convert("L")
    grey = np.asarray(im, dtype=np.float32)  # a fresh, writable array
    grey /= 255.0
    return grey


def decode_image(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
) -> np.ndarray:
    """Decode untrusted image bytes into a float32 greyscale array in [0, 1].

    Accepts PNG, JPEG, WebP, BMP and GIF (first frame of animations), in any
    Pillow mode: 16-bit greyscale, palette, CMYK, with or without alpha
    (transparent areas are composited over white). EXIF orientation is
    applied, so a phone photo comes out the way it was shown on the phone.

    The size limits are enforced before any pixel is decoded: ``max_bytes``
    on the raw data and ``max_pixels`` on the dimensions from the header.

    Returns an array of shape (H, W), dtype float32, values in [0, 1] where 0
    is black.

    Raises ``ImageError`` for empty, oversized, unreadable, truncated or
    otherwise damaged data, and ``TypeError`` if ``data`` is not bytes-like.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"decode_image expects bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) == 0:
        raise ImageError("The file is empty.")
    if len(data) > max_bytes:
        raise ImageError(f"The file is larger than {_megabytes(max_bytes)}.")

    try:
        im = _open_checked(data, max_pixels)
        # Decode now, while a truncated or corrupt stream still raises: with
        # ImageFile.LOAD_TRUNCATED_IMAGES left False, Pillow refuses partial
        # data instead of padding it with grey.
        im.load()
        im = _apply_exif_orientation(im)
        width, height = im.size
        if width * height > max_pixels:  # defence in depth, should not happen
            raise _too_many_pixels(width, height, max_pixels)
        grey = _to_grey(im)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(
            f"This file is not an image Pillow can read ({_FORMATS_TEXT})."
        ) from None
    except _DECODE_ERRORS as exc:
        # The user gets a plain sentence; the chained cause keeps Pillow's
        # technical detail for logs.
        raise ImageError(
            "The image file is damaged or incomplete and cannot be decoded."
        ) from exc

    if grey.ndim != 2 or grey.shape != (height, width):
        raise ImageError("The image could not be converted to greyscale.")
    grey = np.ascontiguousarray(grey, dtype=np.float32)
    return np.clip(grey, 0.0, 1.0, out=grey)
