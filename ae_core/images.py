"""Image input and output for Manifold Lab.

This module owns everything between "a user dropped some bytes on the page"
and "a float32 array a model can eat", and back again:

* decoding untrusted upload bytes into a greyscale array (``decode_image``),
  refusing anything malformed, truncated or too large with ``ImageError``;
* MNIST-style preprocessing of a greyscale picture into a centred 28x28 digit
  (``preprocess_mnist``, ``load_upload``) and resizing to other dataset shapes
  (``resize_to``, ``fit_to_shape``);
* turning arrays back into pictures for display (``to_png``, ``upscale``,
  ``grid``).

``ImageError`` is the only exception raised for bad *image content*; its
message is a sentence meant to be shown to the user as is. Misuse by the
calling code (wrong array rank, bad arguments) raises ``ValueError`` or
``TypeError`` as usual.

Depends only on numpy and Pillow; never imports streamlit.
"""

from __future__ import annotations

import io
import struct
import threading
import warnings
import zlib
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "ImageError",
    "MAX_BYTES",
    "MAX_PIXELS",
    "decode_image",
    "preprocess_mnist",
    "load_upload",
    "resize_to",
    "fit_to_shape",
    "to_png",
    "upscale",
    "grid",
]

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

# Below this contrast (on a 0..1 scale) between the ink and the background the
# picture is treated as blank: rescaling it to full range would only amplify
# sensor or JPEG noise into a fake digit.
MIN_CONTRAST = 0.05
# Ink fainter than this fraction of the strongest stroke is treated as
# background noise; it also defines the bounding box used for cropping.
INK_THRESHOLD = 0.1


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


def _border(img: np.ndarray) -> np.ndarray:
    return np.concatenate([img[0, :], img[-1, :], img[:, 0], img[:, -1]])


def _resize_float(img: np.ndarray, shape: tuple[int, int], resample) -> np.ndarray:
    h, w = shape
    pil = Image.fromarray(np.ascontiguousarray(img, dtype=np.float32))
    return np.asarray(pil.resize((w, h), resample), dtype=np.float32)


def _check_grey(grey: np.ndarray, name: str = "grey") -> np.ndarray:
    arr = np.asarray(grey)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {arr.shape}")
    # Exactly one private copy, then everything in place: at 25 megapixels
    # each float32 temporary costs 100 MB.
    arr = np.nan_to_num(arr.astype(np.float32), copy=False, nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(arr, 0.0, 1.0, out=arr)


def preprocess_mnist(grey: np.ndarray, *, size: int = 28, box: int = 20) -> np.ndarray:
    """Turn a greyscale picture of a digit into an MNIST-style digit.

    Mirrors how MNIST was built: the digit becomes white ink on black, is
    cropped to its ink, scaled (keeping its aspect ratio, with antialiasing)
    so the longer side is ``box`` pixels, and placed on a ``size`` x ``size``
    canvas with its centre of mass at the centre.

    Steps: if the border is mostly light the picture is inverted (dark ink on
    paper is the common upload); the background level, estimated as the
    border median, is subtracted; ink is rescaled so the strongest stroke is
    1 and ink fainter than ``INK_THRESHOLD`` of that is dropped as noise.

    A blank picture (no ink, or ink with less than ``MIN_CONTRAST`` against
    the background) returns an all-zero canvas rather than raising: an empty
    drawing is a legitimate input, and zeros are what MNIST's blank area is.

    If centring would push ink off the canvas (a very lopsided digit), the
    shift is limited so the whole digit stays visible; the centre of mass is
    then off-centre by the difference.

    ``grey``: (H, W) float array, values in [0, 1] (0 = black); values outside
    are clipped and NaNs treated as 0. Returns float32 (size, size) in [0, 1].
    """
    _check_canvas(size, box)
    return _preprocess_owned(_check_grey(grey), size, box)


def _check_canvas(size: int, box: int) -> None:
    if not (isinstance(size, (int, np.integer)) and isinstance(box, (int, np.integer))):
        raise TypeError("size and box must be integers")
    if size < 1 or not 1 <= box <= size:
        raise ValueError(f"need 1 <= box <= size, got box={box}, size={size}")


def _preprocess_owned(img: np.ndarray, size: int, box: int) -> np.ndarray:
    """preprocess_mnist on a private float32 array in [0, 1], which it overwrites."""
    canvas = np.zeros((size, size), dtype=np.float32)

    background = float(np.median(_border(img)))
    if background > 0.5:
        np.subtract(1.0, img, out=img)
        background = 1.0 - background

    ink = img  # the caller handed over ownership, so work in place
    ink -= background
    np.maximum(ink, 0.0, out=ink)
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        return canvas
    # Levels adjustment rather than a hard threshold: noise goes to exactly 0
    # (so it neither widens the crop nor drags the centre of mass) while
    # antialiased stroke edges keep a smooth ramp.
    ink *= 1.0 / (peak * (1.0 - INK_THRESHOLD))
    ink -= INK_THRESHOLD / (1.0 - INK_THRESHOLD)
    np.clip(ink, 0.0, 1.0, out=ink)

    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    ch, cw = crop.shape
    scale = box / max(ch, cw)
    new_h = min(box, max(1, round(ch * scale)))
    new_w = min(box, max(1, round(cw * scale)))
    patch = np.clip(_resize_float(crop, (new_h, new_w), Image.Resampling.LANCZOS), 0.0, 1.0)
    # Shrinking a thin pen stroke by 100x averages it down to a faint smear;
    # MNIST strokes are saturated, so restore full intensity.
    patch_peak = float(patch.max())
    if patch_peak <= 0.0:
        return canvas
    patch /= patch_peak

    total = float(patch.sum())
    com_r = float((patch.sum(axis=1) * np.arange(new_h)).sum()) / total
    com_c = float((patch.sum(axis=0) * np.arange(new_w)).sum()) / total
    centre = (size - 1) / 2.0
    top = int(np.clip(np.floor(centre - com_r + 0.5), 0, size - new_h))
    left = int(np.clip(np.floor(centre - com_c + 0.5), 0, size - new_w))
    canvas[top : top + new_h, left : left + new_w] = patch
    return canvas


def load_upload(data: bytes, *, size: int = 28) -> np.ndarray:
    """Decode uploaded bytes into a model-ready MNIST-style digit.

    ``decode_image`` followed by ``preprocess_mnist`` (with the digit box
    scaled as MNIST's 20-in-28). Returns float32 of shape (1, size, size) in
    [0, 1]: add a batch axis for a model taking (N, 1, size, size).

    Raises ``ImageError`` for anything ``decode_image`` refuses.
    """
    box = max(1, round(size * 20 / 28))
    _check_canvas(size, box)
    # decode_image's result is fresh and already clean, so skip the defensive
    # copy preprocess_mnist makes (100 MB at the pixel limit).
    return _preprocess_owned(decode_image(data), size, box)[np.newaxis]


def _check_shape(shape: Sequence[int]) -> tuple[int, int]:
    if len(shape) != 2:
        raise ValueError(f"shape must be (height, width), got {shape!r}")
    h, w = int(shape[0]), int(shape[1])
    if h < 1 or w < 1:
        raise ValueError(f"shape must be positive, got {shape!r}")
    return h, w


def resize_to(grey: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Resize a (H, W) image in [0, 1] to ``shape`` = (h, w) by area averaging.

    For pictures that are already digit-like (white ink on black, roughly
    centred), e.g. a 28x28 MNIST-style array going to an 8x8 dataset.
    No cropping, inversion or centring. Returns float32 (h, w) in [0, 1].
    """
    h, w = _check_shape(shape)
    img = _check_grey(grey)
    if img.shape == (h, w):
        return img.astype(np.float32, copy=True)
    # BOX is Pillow's exact area-average filter: each output pixel is the
    # mean of the input area it covers, so no ringing and no lost strokes.
    out = _resize_float(img, (h, w), Image.Resampling.BOX)
    return np.clip(out, 0.0, 1.0)


def fit_to_shape(img: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Resize a preprocessed image to a dataset's image shape (area averaging).

    ``img`` is (H, W) or (1, H, W); the result keeps that rank, with the
    spatial size replaced by ``shape`` = (h, w). Used when a dataset's images
    are not 28x28 (e.g. 8x8 digits). Returns float32 in [0, 1].
    """
    arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[0] == 1:
        return resize_to(arr[0], shape)[np.newaxis]
    if arr.ndim == 2:
        return resize_to(arr, shape)
    raise ValueError(f"img must have shape (H, W) or (1, H, W), got {arr.shape}")


def _as_2d(img: np.ndarray, name: str = "img") -> np.ndarray:
    arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must have shape (H, W) or (1, H, W), got {np.shape(img)}")
    return arr


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    f = np.nan_to_num(arr.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=0.0)
    return np.rint(np.clip(f, 0.0, 1.0) * 255.0).astype(np.uint8)


def _check_scale(scale: int) -> int:
    if not isinstance(scale, (int, np.integer)) or isinstance(scale, bool) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    return int(scale)


def upscale(img: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement for crisp display of tiny images.

    ``img`` is (H, W) or (1, H, W): floats in [0, 1] (clipped; NaN -> 0), or
    uint8 used as is. Returns uint8 (H * scale, W * scale).
    """
    scale = _check_scale(scale)
    arr = _to_uint8(_as_2d(img))
    return np.repeat(np.repeat(arr, scale, axis=0), scale, axis=1)


def to_png(img: np.ndarray, *, scale: int = 1) -> bytes:
    """Encode a greyscale image as PNG bytes, optionally enlarged.

    ``img`` is (H, W) or (1, H, W) with values in [0, 1] (clipped), or uint8.
    ``scale`` enlarges with nearest neighbour so a 28x28 digit stays crisp
    (``scale=8`` gives 224x224). Returns the bytes of an 8-bit greyscale PNG.
    """
    pixels = upscale(img, scale)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def grid(
    images: np.ndarray,
    ncols: int,
    pad: int = 1,
    pad_value: float = 1.0,
) -> np.ndarray:
    """Tile images into one picture, row by row.

    ``images`` is (N, H, W) or (N, 1, H, W). There are ``min(ncols, N)``
    columns and as many rows as needed; ``pad`` pixels of ``pad_value``
    separate the tiles and frame the whole grid, and fill unused cells of the
    last row. Returns float32 of shape
    (rows * H + (rows + 1) * pad, cols * W + (cols + 1) * pad).
    """
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 3:
        raise ValueError(f"images must be (N, H, W) or (N, 1, H, W), got {np.shape(images)}")
    n, h, w = arr.shape
    if n == 0:
        raise ValueError("grid needs at least one image")
    if int(ncols) < 1 or int(pad) < 0:
        raise ValueError(f"need ncols >= 1 and pad >= 0, got ncols={ncols}, pad={pad}")
    cols = min(int(ncols), n)
    rows = -(-n // cols)
    pad = int(pad)
    out = np.full(
        (rows * h + (rows + 1) * pad, cols * w + (cols + 1) * pad),
        pad_value,
        dtype=np.float32,
    )
    for i in range(n):
        r, c = divmod(i, cols)
        y = pad + r * (h + pad)
        x = pad + c * (w + pad)
        out[y : y + h, x : x + w] = arr[i]
    return out
