"""Latent-space geometry: 2-D maps of codes, neighbours, interpolation, per-coordinate statistics, grids.

Owns the maths behind the Latent space and Generate pages (numpy in, numpy out; never streamlit):
* `Projector` / `project_2d`: a 2-D map of latent codes (identity for 2-D latents; two chosen
  coordinates, PCA, t-SNE or UMAP above that). A fitted projector places new codes on the same map
  and, for the linear maps, sends a spot of the map back to a code the decoder can draw.
* `neighbours` / `share_label` / `label_agreement`: nearest neighbours in pixel space vs in latent
  space, and how often they share the query's label; `nearest_image`: the one pool image closest in pixels.
* `interpolate_pixels` / `interpolate_latent`: cross-fade vs decoded morph.
* `latent_stats`: per-coordinate mean, spread (`LatentStats.spread`: the std, floored) and an importance
  ranking; `sample_codes`.
* `decode_grid`: the decoder's picture of a 2-D slice of the latent space.
Models are only used through `ae_core.evaluate` (no_grad, eval mode, never mutated).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch
from sklearn.decomposition import PCA

from . import embeddings, evaluate, metrics

METHODS = ("coords", "pca", "tsne", "umap")
# t-SNE is O(N^2)-ish and takes seconds on two cores beyond this; more points are placed by neighbours.
TSNE_MAX_POINTS = 2000
# UMAP is fitted on at most this many codes (about 15 s for 10,000 on two cores once numba has compiled);
# every other code, and any new one, is placed by its out-of-sample transform.
UMAP_MAX_POINTS = 10_000


def _as_codes(z) -> np.ndarray:
    z = np.asarray(z, dtype=np.float32)
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2 or z.shape[1] < 1:
        raise ValueError(f"codes must be (N, D), got shape {z.shape}")
    return z


class Projector:
    """A fitted map from D-dimensional codes to the plane, following scikit-learn's estimator contract.

    method: "coords" (coordinates `coords[0]` and `coords[1]`), "pca", "tsne" or "umap". Latents of
    dimension <= 2 always use the identity (a 1-D latent gets a zero second axis), whatever `method`.
    After `fit(z)`: `embedding_` is the map of the fitted codes, `transform` places new codes
    (t-SNE has no out-of-sample map, so a new code goes to the mean position of its `k` nearest
    fitted codes; UMAP places it with its own transform), and `inverse_transform` turns map positions back into codes for the linear
    maps (identity, coords: other coordinates held at the training mean; pca: the point of the
    PCA plane through the mean). `invertible` says whether that inverse exists.
    """

    def __init__(self, method: str = "pca", coords: tuple[int, int] = (0, 1), seed: int = 0,
                 max_points: int = TSNE_MAX_POINTS, k: int = 5):
        self.method = method
        self.coords = coords
        self.seed = seed
        self.max_points = max_points
        self.k = k

    # ------------------------------------------------------------------ fitting
    def fit(self, z) -> "Projector":
        if self.method not in METHODS:
            raise ValueError(f"unknown projection {self.method!r}; choose from {', '.join(METHODS)}")
        z = _as_codes(z)
        n, d = z.shape
        self.dim_ = d
        self.mean_ = z.mean(0)
        self.kind_ = "identity" if d <= 2 else self.method
        if self.kind_ == "coords":
            i, j = (int(c) for c in self.coords)
            if not (0 <= i < d and 0 <= j < d) or i == j:
                raise ValueError(f"coords must be two different coordinates in 0..{d - 1}, got {self.coords}")
            self.coords_ = (i, j)
        if self.kind_ == "pca":
            self.pca_ = PCA(2, random_state=self.seed).fit(z)
            self.explained_ = self.pca_.explained_variance_ratio_.astype(np.float64)
        if self.kind_ == "tsne":
            self.embedding_ = self._fit_tsne(z)
            self.z_ = z
        elif self.kind_ == "umap":
            self.embedding_ = self._fit_umap(z)
        else:
            self.embedding_ = self.transform(z)
        return self

    def _fit_tsne(self, z: np.ndarray) -> np.ndarray:
        n = len(z)
        rng = np.random.default_rng(self.seed)
        sub = np.sort(rng.choice(n, self.max_points, replace=False)) if n > self.max_points else np.arange(n)
        emb_sub = embeddings.tsne(z[sub], self.seed)
        if len(sub) == n:
            return emb_sub
        emb = np.empty((n, 2), np.float32)
        emb[sub] = emb_sub
        rest = np.setdiff1d(np.arange(n), sub)
        emb[rest] = _knn_mean(z[rest], z[sub], emb_sub, self.k)
        return emb

    def _fit_umap(self, z: np.ndarray) -> np.ndarray:
        import umap  # numba compiles on first import: only when a UMAP map is asked for

        n = len(z)
        rng = np.random.default_rng(self.seed)
        sub = np.sort(rng.choice(n, UMAP_MAX_POINTS, replace=False)) if n > UMAP_MAX_POINTS else np.arange(n)
        self.umap_ = umap.UMAP(n_neighbors=min(15, len(sub) - 1), min_dist=0.1, random_state=self.seed).fit(z[sub])
        emb = np.empty((n, 2), np.float32)
        emb[sub] = self.umap_.embedding_
        rest = np.setdiff1d(np.arange(n), sub)
        if len(rest):
            emb[rest] = self.umap_.transform(z[rest])
        return emb

    def fit_transform(self, z) -> np.ndarray:
        return self.fit(z).embedding_

    # ------------------------------------------------------------------ using
    @property
    def invertible(self) -> bool:
        # UMAP's inverse_transform is an approximate interpolation, not a map: treated like t-SNE's.
        return self.kind_ not in ("tsne", "umap")

    def transform(self, z) -> np.ndarray:
        """(N, D) codes -> (N, 2) map positions."""
        z = _as_codes(z)
        if z.shape[1] != self.dim_:
            raise ValueError(f"codes have {z.shape[1]} coordinates, the map was fitted on {self.dim_}")
        if self.kind_ == "identity":
            return z if self.dim_ == 2 else np.concatenate([z, np.zeros_like(z)], 1)
        if self.kind_ == "coords":
            return z[:, list(self.coords_)].copy()
        if self.kind_ == "pca":
            return self.pca_.transform(z).astype(np.float32)
        if self.kind_ == "umap":
            return np.asarray(self.umap_.transform(z), dtype=np.float32)
        return _knn_mean(z, self.z_, self.embedding_, self.k)

    def inverse_transform(self, p) -> np.ndarray:
        """(N, 2) map positions -> (N, D) codes (not for t-SNE)."""
        p = np.atleast_2d(np.asarray(p, dtype=np.float32))
        if self.kind_ == "identity":
            return p[:, : self.dim_].copy()
        if self.kind_ == "coords":
            z = np.repeat(self.mean_[None], len(p), 0)
            z[:, self.coords_[0]], z[:, self.coords_[1]] = p[:, 0], p[:, 1]
            return z
        if self.kind_ == "pca":
            return self.pca_.inverse_transform(p).astype(np.float32)
        raise ValueError(f"a {self.axis_labels()[0][:-2]} map has no inverse: a spot of it does not correspond to one code")

    def axis_labels(self) -> tuple[str, str]:
        if self.kind_ == "identity":
            return ("z0", "z1" if self.dim_ == 2 else "(none)")
        if self.kind_ == "coords":
            return (f"z{self.coords_[0]}", f"z{self.coords_[1]}")
        if self.kind_ == "pca":
            e = self.explained_
            return (f"PC1 ({e[0]:.0%} of code variance)", f"PC2 ({e[1]:.0%})")
        if self.kind_ == "umap":
            return ("UMAP 1", "UMAP 2")
        return ("t-SNE 1", "t-SNE 2")


def _knn_mean(z: np.ndarray, z_ref: np.ndarray, emb_ref: np.ndarray, k: int) -> np.ndarray:
    k = max(1, min(k, len(z_ref)))
    idx = metrics.knn_indices(z, z_ref, k)
    return emb_ref[idx].mean(1).astype(np.float32)


def project_2d(z, method: str = "pca", coords: tuple[int, int] = (0, 1), seed: int = 0) -> np.ndarray:
    """(N, D) codes -> (N, 2): the identity for D <= 2, else two coordinates, PCA or t-SNE (seeded)."""
    return Projector(method, coords, seed).fit_transform(z)


# ---------------------------------------------------------------------- neighbours

def neighbours(x_query, x_pool, z_query, z_pool, k: int = 8, exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest pool items of each query in pixel space (Euclidean on flattened pixels) and in latent space.

    x_query is one sample (*shape) or a batch (Q, *shape) of the pool's sample shape; z_query
    the matching code(s). `exclude` (a pool index, or one per query; -1 for none) is skipped, so a query
    taken from the pool does not find itself. Returns (pixel_idx, latent_idx): (k,) arrays for
    one query, (Q, k) for a batch.
    """
    x_pool = np.asarray(x_pool, np.float32)
    x_query = np.asarray(x_query, np.float32)
    single = x_query.ndim == x_pool.ndim - 1
    xq = x_query[None] if single else x_query
    zq = _as_codes(z_query)
    z_pool = _as_codes(z_pool)
    if len(xq) != len(zq) or len(x_pool) != len(z_pool):
        raise ValueError("queries and pool must have one code per sample")
    pix = metrics.knn_indices(xq, x_pool, k, exclude)
    lat = metrics.knn_indices(zq, z_pool, k, exclude)
    return (pix[0], lat[0]) if single else (pix, lat)


def nearest_image(x_pool, x) -> int:
    """The index of the pool image nearest to x in pixel space (Euclidean on flattened pixels; ties to the
    lower index). float32 throughout, without a float64 copy of the pool: a slider move on full MNIST
    asks this of 60,000 images."""
    pool = np.asarray(x_pool, np.float32)
    return int(np.argmin(((pool.reshape(len(pool), -1) - np.asarray(x, np.float32).reshape(1, -1)) ** 2).sum(1)))


def share_label(y_pool, idx, y_query) -> int:
    """How many of the pool items `idx` have the query's label."""
    return int((np.asarray(y_pool)[np.asarray(idx)] == y_query).sum())


def neighbour_agreement(points, y, k: int = 8) -> float:
    """Leave-one-out over a whole set: the mean fraction of each item's k nearest neighbours (Euclidean,
    on the flattened points: pixels or codes) that share its label."""
    points = np.asarray(points, np.float32)
    n = len(points)
    if n < 2:
        raise ValueError("need at least two items")
    idx = metrics.knn_indices(points, points, k, exclude=np.arange(n))
    y = np.asarray(y)
    return float((y[idx] == y[:, None]).mean())


def label_agreement(x, z, y, k: int = 8) -> tuple[float, float]:
    """`neighbour_agreement` in pixel space and in latent space, (pixel, latent): the measured version of
    "pixel neighbours are not semantic neighbours"."""
    if len(x) != len(_as_codes(z)):
        raise ValueError("queries and pool must have one code per sample")
    return neighbour_agreement(x, y, k), neighbour_agreement(_as_codes(z), y, k)


# ---------------------------------------------------------------------- interpolation

def _ts(steps: int) -> np.ndarray:
    if steps < 2:
        raise ValueError("interpolation needs at least 2 steps")
    return np.linspace(0.0, 1.0, int(steps), dtype=np.float32)


def interpolate_pixels(a, b, steps: int = 9) -> np.ndarray:
    """Cross-fade: (1 - t) a + t b for t from 0 to 1. Returns (steps, *a.shape)."""
    a = np.asarray(a, np.float32)
    b = np.asarray(b, np.float32)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    t = _ts(steps).reshape(-1, *([1] * a.ndim))
    return (1 - t) * a[None] + t * b[None]


def interpolate_codes(za, zb, steps: int = 9) -> np.ndarray:
    za = np.asarray(za, np.float32).ravel()
    zb = np.asarray(zb, np.float32).ravel()
    t = _ts(steps)[:, None]
    return (1 - t) * za[None] + t * zb[None]


def interpolate_latent(model, a, b, steps: int = 9) -> np.ndarray:
    """Encode both images (a VAE's encode is its mean), interpolate the codes linearly, decode.

    a, b: one sample each (*input_shape). Returns (steps, *input_shape); the end frames are the
    reconstructions of a and b, not a and b themselves.
    """
    z = evaluate.encode(model, np.stack([np.asarray(a, np.float32), np.asarray(b, np.float32)]))
    return evaluate.decode(model, interpolate_codes(z[0], z[1], steps))


# ---------------------------------------------------------------------- statistics

SPREAD_FLOOR = 1e-3  # LatentStats.spread: a dead coordinate still needs a slider range

@dataclasses.dataclass
class LatentStats:
    """Per-coordinate statistics of the codes of a training set.

    mean, std, lo, hi (0.5th / 99.5th percentiles): (D,). importance: (D,) the ranking score
    (code variance, or for VAE-kind models the mean KL of each coordinate, which is ~0 for
    coordinates the model does not use); order: coordinates by decreasing importance;
    score: "variance" or "KL"; prior: "normal" for VAEs (sample N(0, I)), else "empirical";
    cov: (D, D) code covariance, or None above COV_MAX_DIM (then sampling uses the diagonal).
    """

    mean: np.ndarray
    std: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    importance: np.ndarray
    order: np.ndarray
    score: str
    prior: str
    cov: np.ndarray | None = None

    @property
    def spread(self) -> np.ndarray:
        """std floored at SPREAD_FLOOR: the unit of the sliders' ranges and of the traversals, so a dead
        coordinate (std 0) still gets a range to slide and sweep."""
        return np.maximum(self.std, SPREAD_FLOOR)

    @property
    def dim(self) -> int:
        return len(self.mean)


COV_MAX_DIM = 256


def kl_per_dim(model, x: np.ndarray, batch: int = evaluate.BATCH) -> np.ndarray:
    """Mean KL of each coordinate over x (VAE-kind models), computed in batches without gradients."""
    model.eval()
    total = None
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = torch.tensor(np.asarray(x[i: i + batch], np.float32))
            part = model.kl_per_dim(xb).cpu().numpy().astype(np.float64) * len(xb)
            total = part if total is None else total + part
    return (total / max(len(x), 1)).astype(np.float32)


def latent_stats(model, x_train: np.ndarray, z_train: np.ndarray | None = None) -> LatentStats:
    """Statistics of the training codes, ranked by variance (or by KL for VAE-kind models)."""
    z = _as_codes(evaluate.encode(model, x_train) if z_train is None else z_train).astype(np.float64)
    mean, std = z.mean(0), z.std(0)
    lo, hi = np.percentile(z, 0.5, axis=0), np.percentile(z, 99.5, axis=0)
    vae = bool(getattr(model, "variational", False))  # the model's own flag (None: codes given, no model)
    importance = kl_per_dim(model, x_train).astype(np.float64) if vae else std**2
    order = np.argsort(-importance, kind="stable")
    cov = np.cov(z, rowvar=False).reshape(z.shape[1], z.shape[1]) if z.shape[1] <= COV_MAX_DIM else None
    f = lambda a: None if a is None else np.asarray(a, np.float32)  # noqa: E731
    return LatentStats(f(mean), f(std), f(lo), f(hi), f(importance), order.astype(np.int64),
                       "KL" if vae else "variance", "normal" if vae else "empirical", f(cov))


def sample_codes(stats: LatentStats, n: int, seed: int = 0) -> np.ndarray:
    """n random codes: N(0, I) for a VAE's prior; else a Gaussian fitted to the training codes
    (full covariance when known), clipped to the codes' observed range so a code that never
    goes negative (ReLU, sigmoid) is not sent where the decoder never saw data."""
    rng = np.random.default_rng(seed)
    d = stats.dim
    if stats.prior == "normal":
        return rng.standard_normal((n, d)).astype(np.float32)
    if stats.cov is not None:
        z = rng.multivariate_normal(stats.mean.astype(np.float64), stats.cov.astype(np.float64), size=n,
                                    method="eigh")
    else:
        z = stats.mean[None] + stats.std[None] * rng.standard_normal((n, d))
    return np.clip(z, stats.lo, stats.hi).astype(np.float32)


# ---------------------------------------------------------------------- grids

def decode_grid(model, z_center, dims: tuple[int, int] = (0, 1), ranges=None, n: int = 15) -> np.ndarray:
    """The decoder's images over a 2-D slice of the latent space: the classic manifold map.

    Coordinates dims[0] (across, left to right) and dims[1] (up, bottom to top) sweep `ranges`
    = ((lo0, hi0), (lo1, hi1)) (default: z_center +- 3 on each) in n steps; the other coordinates
    stay at z_center. Returns (n, n, *output_shape): grid[r, c] has z[dims[0]] = xs[c] and
    z[dims[1]] = ys[n - 1 - r], so row 0 is the top of the plane, as on a plot.
    """
    z0 = np.asarray(z_center, np.float32).ravel()
    i, j = (int(d) for d in dims)
    if not (0 <= i < len(z0) and 0 <= j < len(z0)) or i == j:
        raise ValueError(f"dims must be two different coordinates of a {len(z0)}-D code, got {dims}")
    if ranges is None:
        ranges = ((z0[i] - 3, z0[i] + 3), (z0[j] - 3, z0[j] + 3))
    xs = np.linspace(*ranges[0], n, dtype=np.float32)
    ys = np.linspace(*ranges[1], n, dtype=np.float32)[::-1]
    z = np.repeat(z0[None], n * n, 0)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    z[:, i], z[:, j] = xx.ravel(), yy.ravel()
    out = evaluate.decode(model, z)
    return out.reshape(n, n, *out.shape[1:])
