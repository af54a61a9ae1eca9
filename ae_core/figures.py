"""Static pictures as PNG bytes: tiled image grids and class-coloured 2-D scatter rasters.

For views that must stay cheap to render in a browser (the app's Home page draws no Plotly chart, so
a new visitor does not wait for Plotly's JavaScript): the picture is drawn here, once, server-side,
and shown as a plain image. Arrays in, bytes out; depends only on numpy, Pillow and ae_core.images.
Never imports streamlit.
"""
from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

from ae_core import images

# One colour per class (matplotlib's tab10), the same palette the app's charts use.
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def grid_png(imgs: np.ndarray, ncols: int, scale: int = 2, pad: int = 1) -> bytes:
    """(N, 1, H, W) or (N, H, W) images in [0, 1], tiled `ncols` wide, enlarged `scale`x (nearest
    neighbour, so digits stay crisp), as greyscale PNG bytes. NaN shows as black (images.upscale)."""
    g = images.grid(np.clip(np.asarray(imgs, np.float32), 0.0, 1.0), ncols, pad=pad)
    return images.to_png(g, scale=scale)


def _rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def scatter_png(z: np.ndarray, labels: np.ndarray, size: int = 200, dot: int = 3,
                colours: Sequence[str] = CLASS_COLOURS, margin: int = 6) -> bytes:
    """2-D points (N, 2) as a `size` x `size` RGB PNG, each a `dot`-pixel square in its class's colour
    (labels (N,) integer), on white, axes scaled to the 1st-99th percentile of each coordinate (points
    beyond it are clipped to the border) so one outlier does not shrink the picture. Points are drawn
    in a fixed random order, so no class is always painted over the others."""
    z = np.asarray(z, dtype=np.float64)
    labels = np.asarray(labels).astype(int)
    if z.ndim != 2 or z.shape[1] != 2 or len(z) != len(labels) or len(z) == 0:
        raise ValueError(f"need z of shape (N, 2) and N labels, got {z.shape} and {labels.shape}")
    if size < 2 * margin + dot + 1 or dot < 1:
        raise ValueError(f"size {size} too small for margin {margin} and dot {dot}")
    keep = np.isfinite(z).all(1)
    z, labels = z[keep], labels[keep]
    out = np.full((size, size, 3), 255, np.uint8)
    if len(z):
        lo, hi = np.percentile(z, 1, axis=0), np.percentile(z, 99, axis=0)
        span = np.where(hi - lo > 1e-12, hi - lo, 1.0)
        inner = size - 2 * margin - dot
        u = np.clip((z - lo) / span, 0.0, 1.0)
        px = (margin + u[:, 0] * inner).astype(int)
        py = (margin + (1.0 - u[:, 1]) * inner).astype(int)  # y up, as in a chart
        palette = np.array([_rgb(c) for c in colours], np.uint8)
        for i in np.random.default_rng(0).permutation(len(z)):
            out[py[i] : py[i] + dot, px[i] : px[i] + dot] = palette[labels[i] % len(palette)]
    buf = io.BytesIO()
    Image.fromarray(out, "RGB").save(buf, format="PNG")
    return buf.getvalue()
