"""Image factors, latent traversals and factor naming: which latent coordinate controls what.

Owns the measured side of "disentangled, dominant factors" (numpy in, numpy out; never streamlit):
* `measure(x)`: per-image factors of (N, 1, H, W) greyscale images with ink bright on dark:
  size, slant, stroke width, aspect and ink (definitions in FACTOR_HELP);
* `sweep_codes` / `traversals`: the package's one latent sweep (each coordinate swept +- span x its spread
  around base codes, the others held; groundtruth.traversal_effect and the Generate page use it too), and
  its decoded rows;
* `name_factors`: sweep each coordinate around a few base codes, measure the decoded images,
  and name the coordinate after the factor that follows it best (pooled Pearson r), e.g.
  "z3 ≈ slant (r = 0.81)", or "z3: mixed" when no factor reaches |r| >= 0.6.
Models are only used through `ae_core.evaluate` (no_grad, eval mode, never mutated).
"""
from __future__ import annotations

import dataclasses

import numpy as np
from skimage.morphology import skeletonize

from . import evaluate

FACTORS = ("size", "slant", "stroke width", "aspect", "ink")
FACTOR_HELP = {
    "size": "radius of gyration of the ink, in pixels: sqrt of the ink-weighted mean squared distance "
            "from its centre (grows with the digit's extent)",
    "slant": "shear from second moments, -mu11 / mu02: horizontal shift of the ink per pixel upwards "
             "(> 0: the top leans right, like /)",
    "stroke width": "ink area / skeleton length, in pixels (ink = pixels above half the peak)",
    "aspect": "bounding-box height / width of the ink",
    "ink": "mean pixel intensity (total ink mass / pixel count)",
}
LABEL_R = 0.6  # below this |r| a coordinate is called "mixed"
_EPS = 1e-6


def _as_images(x) -> np.ndarray:
    x = np.asarray(x, np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 4:
        if x.shape[1] != 1:
            raise ValueError(f"factors are measured on greyscale images (N, 1, H, W), got {x.shape}")
        x = x[:, 0]
    if x.ndim != 3:
        raise ValueError(f"images must be (N, 1, H, W), (N, H, W) or (H, W), got {np.shape(x)}")
    return np.clip(np.nan_to_num(x), 0.0, 1.0)


def measure(x) -> dict[str, np.ndarray]:
    """Factors of each image: {factor: (N,) float64}; NaN where an image has no ink to measure."""
    img = _as_images(x).astype(np.float64)
    n, h, w = img.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    mass = img.sum((1, 2))
    ok = mass > _EPS
    m = np.where(ok, mass, 1.0)
    cx = (img * xs).sum((1, 2)) / m
    cy = (img * ys).sum((1, 2)) / m
    dx = xs[None] - cx[:, None, None]
    dy = ys[None] - cy[:, None, None]
    mu20 = (img * dx**2).sum((1, 2)) / m
    mu02 = (img * dy**2).sum((1, 2)) / m
    mu11 = (img * dx * dy).sum((1, 2)) / m
    # Image rows grow downwards, so a "/" stroke has x falling as y grows: negate to make "/" positive.
    slant = np.where(mu02 > _EPS, -mu11 / np.where(mu02 > _EPS, mu02, 1.0), np.nan)
    size = np.sqrt(mu20 + mu02)

    stroke = np.full(n, np.nan)
    aspect = np.full(n, np.nan)
    for k in np.flatnonzero(ok):
        peak = img[k].max()
        mask = img[k] > 0.5 * peak
        area = mask.sum()
        if area == 0:
            continue
        skel = skeletonize(mask).sum()
        stroke[k] = area / max(skel, 1)
        rows = np.flatnonzero(mask.any(1))
        cols = np.flatnonzero(mask.any(0))
        aspect[k] = (rows[-1] - rows[0] + 1) / (cols[-1] - cols[0] + 1)

    nan = np.full(n, np.nan)
    return {
        "size": np.where(ok, size, nan),
        "slant": np.where(ok, slant, nan),
        "stroke width": stroke,
        "aspect": aspect,
        "ink": mass / (h * w),
    }


def sweep_offsets(n_steps: int = 9, span: float = 2.0) -> np.ndarray:
    """A sweep's steps in units of the coordinate's spread: n_steps from -span to +span (float32)."""
    return np.linspace(-span, span, n_steps, dtype=np.float32)


def sweep_codes(z_base, dims, spread, n_steps: int = 9, span: float = 2.0) -> np.ndarray:
    """The codes of every traversal: (len(dims), B, n_steps, D). Row k sweeps coordinate dims[k] from
    base[d] - span * spread[d] to base[d] + span * spread[d] in n_steps (odd n_steps: the middle step is the
    base code), the other coordinates held at each base code; z_base is (B, D), or one code (D,) as B = 1."""
    zb = np.atleast_2d(np.asarray(z_base, np.float32))
    dims = [int(d) for d in dims]
    if any(not 0 <= d < zb.shape[1] for d in dims):
        raise ValueError(f"dims {dims} are not all coordinates of a {zb.shape[1]}-D code")
    offs = sweep_offsets(n_steps, span)
    z = np.repeat(zb[None, :, None, :], len(dims), 0).repeat(n_steps, 2)
    for k, d in enumerate(dims):
        z[k, :, :, d] = zb[:, d, None] + offs[None] * float(spread[d])
    return z


def traversals(model, z0, dims, spread, n_steps: int = 9, span: float = 2.0) -> np.ndarray:
    """`sweep_codes` of one code z0 (D,), decoded in one call: (len(dims), n_steps, *output_shape), one row
    per coordinate."""
    z = sweep_codes(z0, dims, spread, n_steps, span)[:, 0]
    out = evaluate.decode(model, z.reshape(-1, z.shape[-1]))
    return out.reshape(len(dims), n_steps, *out.shape[1:])


@dataclasses.dataclass
class FactorName:
    """What one latent coordinate tracks: the best factor, its pooled Pearson r, a label, all r's,
    and `change`: how much the image changes at all over the sweep (mean |pixel difference|
    between the two ends, averaged over the bases) — a high r on a tiny change is a weak factor."""

    dim: int
    factor: str | None
    r: float
    label: str
    rs: dict[str, float]
    change: float = float("nan")


def pooled_r(values: np.ndarray, factor: np.ndarray) -> float:
    """Pearson r of factor vs coordinate value, pooled over bases after centring each base's sweep.

    values, factor: (n_bases, n_steps). Centring within each base removes the base-to-base offset
    (a thick 0 and a thin 1 differ in stroke width whatever the coordinate does), so r measures
    only how the factor follows the coordinate. NaN entries (nothing to measure) are left out;
    r is NaN when nothing varies.
    """
    v = np.asarray(values, np.float64)
    f = np.asarray(factor, np.float64)
    ok = np.isfinite(v) & np.isfinite(f)
    cnt = ok.sum(1, keepdims=True)
    use = cnt[:, 0] >= 2
    if not use.any():
        return float("nan")
    v, f, ok, cnt = v[use], f[use], ok[use], cnt[use]
    vc = np.where(ok, v - np.where(ok, v, 0).sum(1, keepdims=True) / cnt, 0.0)
    fc = np.where(ok, f - np.where(ok, f, 0).sum(1, keepdims=True) / cnt, 0.0)
    den = np.sqrt((vc**2).sum() * (fc**2).sum())
    return float((vc * fc).sum() / den) if den > 1e-12 else float("nan")


def label_for(dim: int, factor: str | None, r: float, threshold: float = LABEL_R) -> str:
    if factor is None or not np.isfinite(r):
        return f"z{dim}: no effect"
    return f"z{dim} ≈ {factor} (r = {r:.2f})" if abs(r) >= threshold else f"z{dim}: mixed"


def name_factors(model, z_base, stats, n_steps: int = 9, dims=None, span: float = 2.0,
                 threshold: float = LABEL_R) -> list[FactorName]:
    """Name latent coordinates by the image factor they control.

    For each coordinate d in `dims` (default: all, in `stats.order`), each base code in z_base
    (B, D) is decoded while z[d] sweeps base[d] +- span * stats.std[d] in n_steps; the factors
    of the decoded images are correlated with the offset (`pooled_r`), and the factor with the
    largest |r| names the coordinate. A coordinate with zero spread in the data, or whose sweep
    changes no factor, gets "no effect". Returns one FactorName per coordinate, in `dims` order.
    """
    zb = np.atleast_2d(np.asarray(z_base, np.float32))
    dims = [int(d) for d in (stats.order if dims is None else dims)]
    offs = sweep_offsets(n_steps, span)
    b, dsz = zb.shape
    if not dims:
        return []
    imgs = evaluate.decode(model, sweep_codes(zb, dims, stats.std, n_steps, span).reshape(-1, dsz))
    meas = measure(imgs)
    out = []
    vals = np.repeat(offs[None], b, 0)
    per = b * n_steps
    ends = imgs.reshape(len(dims), b, n_steps, -1)[:, :, [0, -1]]
    change = np.abs(ends[:, :, 1] - ends[:, :, 0]).mean((1, 2))
    for k, d in enumerate(dims):
        if not float(stats.std[d]) > 0:
            out.append(FactorName(d, None, float("nan"), label_for(d, None, float("nan")), {}, 0.0))
            continue
        rs = {f: pooled_r(vals, meas[f][k * per:(k + 1) * per].reshape(b, n_steps)) for f in FACTORS}
        finite = {f: r for f, r in rs.items() if np.isfinite(r)}
        best = max(finite, key=lambda f: abs(finite[f])) if finite else None
        r = finite[best] if best else float("nan")
        out.append(FactorName(d, best, r, label_for(d, best, r, threshold), rs, float(change[k])))
    return out


def name_model_factors(model, z_test: np.ndarray, stats, max_dims: int = 16, n_bases: int = 8,
                       seed: int = 0) -> list[FactorName]:
    """name_factors of the `max_dims` most important coordinates, swept around `n_bases` test codes
    drawn at random (seeded) from z_test."""
    rng = np.random.default_rng(seed)
    bases = z_test[rng.choice(len(z_test), min(n_bases, len(z_test)), replace=False)]
    return name_factors(model, bases, stats, dims=stats.order[:max_dims])
