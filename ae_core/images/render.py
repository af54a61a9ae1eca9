"""Arrays back into pictures for display: crisp nearest-neighbour enlargement, PNG bytes, grids.

Depends only on numpy and Pillow; never imports streamlit.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def _as_2d(img: np.ndarray, name: str = "img") -> np.ndarray:
    arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must have shape (H, W) or (1, H, W), got {np.shape(img)}")
    return arr


def to_uint8(arr: np.ndarray) -> np.ndarray:
    """Pixels in [0, 1] (any float; NaN -> 0, out of range clipped) to uint8 0..255, rounded to nearest;
    uint8 is returned as it is. The package's one float -> byte conversion (PNGs, JPEG/WebP codecs, photos)."""
    arr = np.asarray(arr)
    if arr.dtype == np.uint8:
        return arr
    # In the input's own float precision (float32 unless it is float64): a float64 photo rounds as it always did.
    f = arr if arr.dtype in (np.float32, np.float64) else arr.astype(np.float32)
    f = np.nan_to_num(f, nan=0.0, posinf=1.0, neginf=0.0)
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
    arr = to_uint8(_as_2d(img))
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
