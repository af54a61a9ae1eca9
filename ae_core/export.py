"""What the app lets a person take away, as bytes: pictures as PNG, a batch of pictures as a ZIP,
and the encoded points of a dataset as CSV.

Owns the file formats of every download button: `image_png` (one image, enlarged crisp), `grid_png`
(a traversal grid, a decoded manifold map, a neighbour or interpolation strip, filter tiles: the same
tiling as the page shows, from ae_core.images.render), `strip_png` (several labelled rows stacked),
`images_zip` (one PNG per image, plus a manifest CSV) and `embeddings_csv` (one row per point: split,
index, label, the code's coordinates, the 2-D map position, the reconstruction error). Pages only
hand these bytes to st.download_button. Never imports streamlit.
"""
from __future__ import annotations

import csv
import io
import zipfile
from typing import Iterable, Sequence

import numpy as np

from .images import render

PNG_SCALE = 4  # a 28x28 digit becomes 112x112: big enough to see, every pixel still a square


def _tile(images: np.ndarray) -> np.ndarray:
    """(N, H, W) float32 from (N, H, W), (N, 1, H, W) or a single (H, W) / (1, H, W) image."""
    a = np.asarray(images, dtype=np.float32)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"expected greyscale images (N, H, W) or (N, 1, H, W), got {np.shape(images)}")
    return a


def image_png(img: np.ndarray, scale: int = PNG_SCALE) -> bytes:
    """One (H, W) or (1, H, W) image in [0, 1] as a greyscale PNG of (H * scale, W * scale) pixels."""
    return render.to_png(np.clip(np.asarray(img, np.float32), 0, 1), scale=scale)


def grid_png(images: np.ndarray, ncols: int, scale: int = 2) -> bytes:
    """Images tiled as ae_core.images.render.grid tiles them (1-pixel white frame), as one PNG."""
    g = render.grid(np.clip(_tile(images), 0, 1), ncols)
    return render.to_png(g, scale=scale)


def grid_size(n: int, ncols: int, h: int, w: int, scale: int = 2, pad: int = 1) -> tuple[int, int]:
    """(height, width) in pixels of grid_png of n images of h x w in ncols columns: what a test checks."""
    cols = min(ncols, n)
    rows = -(-n // cols)
    return ((rows * h + (rows + 1) * pad) * scale, (cols * w + (cols + 1) * pad) * scale)


def strip_png(rows: Sequence[np.ndarray], scale: int = 2) -> bytes:
    """Several strips (each (N_i, H, W)) stacked into one PNG, one strip per row (shorter rows padded white)."""
    rows = [_tile(r) for r in rows]
    if not rows:
        raise ValueError("strip_png needs at least one row")
    ncols = max(len(r) for r in rows)
    h, w = rows[0].shape[1:]
    blank = np.ones((h, w), np.float32)
    tiles = [t for r in rows for t in list(r) + [blank] * (ncols - len(r))]
    return grid_png(np.stack(tiles), ncols, scale)


def images_zip(images: np.ndarray, names: Sequence[str], scale: int = PNG_SCALE,
               manifest: Sequence[dict] | None = None) -> bytes:
    """A ZIP of one PNG per image (names without '.png'), and manifest.csv when `manifest` rows are given.

    Names are reduced to safe file names (letters, digits, '-', '_', '.'), so a member can never point
    outside the folder it is unpacked into.
    """
    imgs = _tile(images)
    if len(names) != len(imgs):
        raise ValueError(f"{len(imgs)} images but {len(names)} names")
    buf = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for img, name in zip(imgs, names):
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name)).strip(".") or "image"
            stem, k = safe, 1
            while safe in seen:  # two uploads may share a name
                k += 1
                safe = f"{stem}_{k}"
            seen.add(safe)
            z.writestr(f"{safe}.png", image_png(img, scale))
        if manifest:
            z.writestr("manifest.csv", rows_csv(manifest))
    return buf.getvalue()


def rows_csv(rows: Iterable[dict]) -> bytes:
    """Dict rows as CSV bytes (UTF-8, header from the first row's keys)."""
    rows = list(rows)
    out = io.StringIO()
    if rows:
        w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return out.getvalue().encode("utf-8")


def embeddings_csv(split: Sequence[str], index: np.ndarray, label: Sequence, codes: np.ndarray,
                   map_xy: np.ndarray, error: np.ndarray | None = None, error_name: str = "sq_error") -> bytes:
    """One row per point: split, index, label, z0..z{D-1}, map_x, map_y[, error]. Floats with 6 significant digits.

    Written column-wise with numpy, not row by row in Python: 70,000 points of full MNIST take well
    under a second.
    """
    codes = np.atleast_2d(np.asarray(codes, np.float64))
    map_xy = np.asarray(map_xy, np.float64).reshape(len(codes), 2)
    n = len(codes)
    index = np.asarray(index).reshape(n)
    if len(split) != n or len(label) != n:
        raise ValueError("split, index, label, codes and map_xy must have one entry per point")
    cols = ["split", "index", "label", *[f"z{d}" for d in range(codes.shape[1])], "map_x", "map_y"]
    num = [codes, map_xy]
    if error is not None:
        cols.append(error_name)
        num.append(np.asarray(error, np.float64).reshape(n, 1))
    out = io.StringIO()
    out.write(",".join(cols) + "\n")
    if n:
        text = [np.asarray(split, dtype=str), index.astype(int).astype(str),
                np.array([_csv_field(v) for v in label], dtype=object)]
        body = np.char.mod("%.6g", np.hstack(num))
        lines = [",".join(r) for r in np.column_stack([*text, body]).astype(str)]
        out.write("\n".join(lines) + "\n")
    return out.getvalue().encode("utf-8")


def _csv_field(v) -> str:
    s = str(v)
    return f'"{s.replace(chr(34), chr(34) * 2)}"' if any(c in s for c in ',"\n') else s
