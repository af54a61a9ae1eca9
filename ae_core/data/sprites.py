"""Datasets with ground-truth factors: `sprites` (dSprites' factor grid, rendered here) and `mnist-affine`
(mnist-5k digits with a known applied scale and rotation).

Owns the rendering and the factor grids; `ae_core.data` registers both. Each returns a `Dataset` whose
`factors_train` / `factors_test` are (N, F) float32 arrays of every image's factor values, named by
`factor_names` (the disentanglement metrics in `ae_core.metrics` read them generically).

`sprites` follows Matthey et al.'s dSprites (2017): shape (square, ellipse, heart), scale (6 values
in [0.5, 1]), orientation (40 values in [0, 2π)), x and y (32 values each in [0, 1]): 737,280
combinations. Differences, on purpose:
* 32×32 pixels, not 64×64: a 1,024-pixel image keeps MLP models a few MB and every page fast; 32
  positions over the frame still move the shape in steps of about 0.6 px.
* anti-aliased grey edges: each pixel's coverage comes from a signed-distance estimate of the
  shape's outline (clip(0.5 − distance in pixels, 0, 1)), one evaluation per pixel, so a 0.6 px move
  is visible and rendering 25,000 images takes about a second. dSprites is binary.
* a seeded subsample of the grid: 20,000 training and 5,000 test combinations drawn without
  replacement (`SPLIT_SEED`), disjoint; the full grid would be 3 GB as float32.
Orientation is, as in dSprites, not identifiable for every shape: a square looks the same every
90°, an ellipse every 180° (the factor is kept as rendered, as disentanglement_lib keeps it).
"""
from __future__ import annotations

import numpy as np

SIZE = 32
SHAPES = ("square", "ellipse", "heart")
SCALES = np.linspace(0.5, 1.0, 6)
ORIENTATIONS = np.linspace(0.0, 2 * np.pi, 40, endpoint=False)
POSITIONS = np.linspace(0.0, 1.0, 32)
FACTOR_NAMES = ("shape", "scale", "orientation", "x", "y")
GRID = (len(SHAPES), len(SCALES), len(ORIENTATIONS), len(POSITIONS), len(POSITIONS))  # 737,280 images
N_TRAIN, N_TEST = 20_000, 5_000
RADIUS = 0.17  # half-size of a scale-1 shape, as a fraction of the image side
MARGIN = 0.2  # x = 0 puts the centre at 0.2 of the side, x = 1 at 0.8: the largest shape stays in frame
_BATCH = 1024


def grid_factors(index: np.ndarray) -> np.ndarray:
    """Factor values (N, 5) of flat indices into the 737,280-image grid (shape as 0, 1, 2; radians)."""
    i = np.unravel_index(np.asarray(index, np.int64), GRID)
    return np.stack([i[0].astype(np.float64), SCALES[i[1]], ORIENTATIONS[i[2]], POSITIONS[i[3]], POSITIONS[i[4]]],
                    1).astype(np.float32)


def _square(u, v):
    qx, qy = np.abs(u) - 0.8, np.abs(v) - 0.8
    return np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0)


def _ellipse(u, v):
    b2 = 0.25  # axes 1 and 0.5
    return (u * u + v * v / b2 - 1) / (2 * np.hypot(u, v / b2) + 1e-6)


def _heart(u, v):
    # (x² + y² − 1)³ − x² y³ = 0, point down in the picture (image rows grow downwards).
    hx, hy = u * 1.15, 0.25 - v * 1.15
    r = hx * hx + hy * hy - 1
    g = r**3 - hx * hx * hy**3
    gx = 6 * hx * r * r - 2 * hx * hy**3
    gy = 6 * hy * r * r - 3 * hx * hx * hy * hy
    return g / (1.15 * np.hypot(gx, gy) + 1e-6)


# Signed distance (in shape units: 1 = the shape's half-size) of points (u, v) to the outline, negative
# inside. Exact for the square; first order (F / |∇F|) for the ellipse and the heart, which is accurate
# within a pixel of the outline, the only place where coverage is grey.
_DISTANCE = (_square, _ellipse, _heart)


def render(factors: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Images (N, 1, size, size) float32 in [0, 1] of factor rows (shape, scale, orientation, x, y)."""
    f = np.asarray(factors, np.float32)
    g = ((np.arange(size) + 0.5) / size).astype(np.float32)
    gx, gy = np.meshgrid(g, g)
    out = np.empty((len(f), 1, size, size), np.float32)
    for k, distance in enumerate(_DISTANCE):
        rows = np.flatnonzero(np.rint(f[:, 0]) == k)
        for s in range(0, len(rows), _BATCH):
            at = rows[s : s + _BATCH]
            b = f[at]
            r = (RADIUS * b[:, 1])[:, None, None]
            cx = (MARGIN + (1 - 2 * MARGIN) * b[:, 3])[:, None, None]
            cy = (MARGIN + (1 - 2 * MARGIN) * b[:, 4])[:, None, None]
            c, sn = np.cos(b[:, 2])[:, None, None], np.sin(b[:, 2])[:, None, None]
            dx, dy = gx[None] - cx, gy[None] - cy
            d_pixels = distance((c * dx + sn * dy) / r, (-sn * dx + c * dy) / r) * (r * size)
            out[at, 0] = np.clip(0.5 - d_pixels, 0.0, 1.0)
    return out


def split_indices(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) flat grid indices: N_TRAIN + N_TEST distinct combinations, drawn with `seed`."""
    pick = np.random.default_rng(seed).choice(int(np.prod(GRID)), N_TRAIN + N_TEST, replace=False)
    return pick[:N_TRAIN], pick[N_TRAIN:]


# ---------------------------------------------------------------- transformed digits

AFFINE_SCALES = np.linspace(0.5, 1.0, 6)
AFFINE_ROTATIONS = np.linspace(-60.0, 60.0, 9)  # degrees, counter-clockwise
AFFINE_FACTOR_NAMES = ("scale", "rotation")
AFFINE_COPIES = 3  # transformed copies of each digit, each with its own factors


def transform_digits(x: np.ndarray, scale: np.ndarray, rotation_deg: np.ndarray) -> np.ndarray:
    """Each (1, H, W) image zoomed by scale and turned by rotation (degrees, counter-clockwise as seen)
    about the image centre, bilinear, zeros outside. MNIST's digits sit in a 20×20 box in 28×28, so
    up to scale 1 a turned digit stays in the frame."""
    from scipy.ndimage import affine_transform

    x = np.asarray(x, np.float32)
    h, w = x.shape[-2:]
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    out = np.empty_like(x)
    for k in range(len(x)):
        t = np.deg2rad(rotation_deg[k])
        # affine_transform maps output coordinates (row, col) to input ones: the inverse of the transform.
        rot = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
        inv = rot.T / scale[k]
        offset = centre - inv @ centre
        out[k, 0] = affine_transform(x[k, 0], inv, offset=offset, order=1, mode="constant", cval=0.0)
    return np.clip(out, 0.0, 1.0)


def affine_factors(n: int, seed: int) -> np.ndarray:
    """(n, 2) seeded factor rows (scale, rotation in degrees), each value from its grid."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(AFFINE_SCALES, n), rng.choice(AFFINE_ROTATIONS, n)], 1).astype(np.float32)
