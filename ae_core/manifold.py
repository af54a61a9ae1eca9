"""The manifold hypothesis and the curse of dimensionality, as numbers.

Owns the maths behind the Manifold page and the off-manifold flag other pages show for uploads:
* curse of dimensionality: `samples_for_density` (per_axis ** d points keep the same spacing on a grid),
  `distance_concentration` ((max - min) / min of the pairwise distances of uniform random points,
  measured on a seeded sample), `ball_fraction` (the share of a hypercube's volume inside its
  inscribed ball, exact, via the gamma function);
* manifold hypothesis: `uniform_images` (random pixels), `decoded_samples` (images
  decoded from random latent points drawn like the training codes, or from N(0, I) for a VAE),
  `reconstruction_errors`, `other_dataset` (another kind of image resized to the model's shape);
* `OffManifoldDetector`: flags images whose reconstruction error is above the 99th percentile of held-out
  training images (a validation slice of the TRAIN split, never the test split); `heldout_slice`
  picks the slice a model's own training held out; `error_summary` (per set: median error, share
  flagged, AUROC of the error as a detector against the test images) and `log_bins` (the histogram's
  bins) for the Manifold page's table and chart.

Never imports streamlit.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy.spatial.distance import pdist
from scipy.special import gammaln
from sklearn.metrics import roc_auc_score

from . import data as data_mod
from . import evaluate, images, latent, training

# ---------------------------------------------------------------- curse of dimensionality


def samples_for_density(d: int, per_axis: int = 10) -> int:
    """Points needed to keep `per_axis` points per unit interval along every one of d axes: per_axis ** d."""
    if d < 0 or per_axis < 1:
        raise ValueError("need d >= 0 and per_axis >= 1")
    return int(per_axis) ** int(d)


def density_table(max_d: int = 10, per_axis: int = 10) -> list[dict]:
    return [{"d": d, "samples": samples_for_density(d, per_axis)} for d in range(1, max_d + 1)]


DIMS: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def distance_concentration(dims: Sequence[int] = DIMS, n: int = 500, seed: int = 0) -> list[dict]:
    """For n uniform random points in [0, 1]^d: the min, mean and max pairwise Euclidean distance and the
    relative contrast (max - min) / min. Measured on a seeded sample, one per dimension."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in dims:
        dist = pdist(rng.random((n, int(d))))
        lo, hi = float(dist.min()), float(dist.max())
        rows.append({"d": int(d), "min": lo, "mean": float(dist.mean()), "max": hi,
                     "ratio": (hi - lo) / lo if lo > 0 else math.inf})
    return rows


def ball_fraction(d: int) -> float:
    """Volume of the ball of radius 1/2 inscribed in the unit cube [0, 1]^d: pi^(d/2) / (2^d Gamma(d/2 + 1))."""
    if d < 1:
        raise ValueError("d must be >= 1")
    return float(math.exp(0.5 * d * math.log(math.pi) - d * math.log(2.0) - gammaln(0.5 * d + 1.0)))


# ---------------------------------------------------------------- manifold hypothesis


def uniform_images(n: int, shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """n images of independent uniform random pixels: what almost every point of pixel space looks like."""
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def decoded_samples(model, stats: latent.LatentStats, n: int, seed: int = 0) -> np.ndarray:
    """n images decoded from random latent points (latent.sample_codes: the VAE's prior, else a Gaussian
    fitted to the training codes, clipped to their range), clipped to [0, 1]."""
    return np.clip(evaluate.decode(model, latent.sample_codes(stats, n, seed)), 0.0, 1.0)


def reconstruction_errors(model, x: np.ndarray) -> np.ndarray:
    """Per-image mean squared reconstruction error (N,)."""
    x = np.asarray(x, dtype=np.float32)
    return evaluate.errors(x, np.clip(evaluate.reconstruct(model, x), 0.0, 1.0))["mse"]


def other_dataset(shape: Sequence[int], n: int = 500, prefer: Sequence[str] = ("fashion-mnist",),
                  seed: int = 0) -> tuple[str, np.ndarray]:
    """(name, images) of a dataset other than digits-on-28x28, resized to `shape` = (C, H, W).

    Fashion-MNIST's test split if it has been downloaded, else scikit-learn's 8x8 digits enlarged by
    area averaging: digits, but blocky and filling the whole frame, unlike MNIST's centred 20x20 box.
    """
    c, h, w = (int(s) for s in shape)
    for name in prefer:
        try:
            ds = data_mod.load_dataset(name)
        except (data_mod.DatasetError, OSError, ImportError):
            continue
        if ds.is_image and ds.sample_shape[0] == c:
            x = ds.x_test
            break
    else:
        name, x = "digits", data_mod.load_dataset("digits").x_test
    idx = np.random.default_rng(seed).permutation(len(x))[:n]
    x = x[np.sort(idx)]
    if x.shape[1:] != (c, h, w):
        x = np.stack([images.fit_to_shape(img, (h, w)) for img in x])
    label = {"digits": "scikit-learn 8x8 digits, enlarged"}.get(name, name)
    return label, np.asarray(x, dtype=np.float32)


def heldout_slice(x_train: np.ndarray, meta: dict | None = None) -> np.ndarray:
    """The validation slice of the TRAIN split that the model's training held out (same seed and fraction
    as its recorded train config; the defaults when unknown). Never touches the test split."""
    t = (meta or {}).get("train") or {}
    fraction = float(t.get("val_fraction") or 0.1)
    seed = int(t.get("seed") or 0)
    _, val = training.split_validation(len(x_train), fraction, seed)
    if len(val) == 0:
        raise ValueError("the training split is too small to hold out a validation slice")
    return np.asarray(x_train[np.sort(val)], dtype=np.float32)


class OffManifoldDetector:
    """Flags images the model cannot reconstruct as well as 99 % of held-out training images.

    scikit-learn's estimator contract: `fit(model, x_heldout)` stores the model and `threshold_`, the
    `percentile`-th percentile of the per-image reconstruction errors of x_heldout (pass a validation
    slice of the training split, e.g. `heldout_slice`, never test images); `score(x)` is the per-image
    error; `predict(x)` is True where the image is off the manifold (score > threshold_).
    """

    def __init__(self, percentile: float = 99.0):
        self.percentile = percentile

    def fit(self, model, x_heldout: np.ndarray) -> "OffManifoldDetector":
        if len(x_heldout) < 2:
            raise ValueError("need at least two held-out images to set a threshold")
        self.model_ = model
        self.heldout_scores_ = reconstruction_errors(model, x_heldout)
        self.threshold_ = float(np.percentile(self.heldout_scores_, self.percentile))
        return self

    def score(self, x: np.ndarray) -> np.ndarray:
        return reconstruction_errors(self.model_, x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.score(x) > self.threshold_

    def percentile_of(self, scores: np.ndarray) -> np.ndarray:
        """Where each score falls among the held-out scores (0-100): 'worse than p % of real images'."""
        ref = np.sort(self.heldout_scores_)
        return 100.0 * np.searchsorted(ref, np.asarray(scores), side="right") / len(ref)


def fit_detector(model, x_train: np.ndarray, meta: dict | None = None, percentile: float = 99.0) -> OffManifoldDetector:
    """An OffManifoldDetector fitted on the model's own held-out slice of the training split."""
    return OffManifoldDetector(percentile).fit(model, heldout_slice(x_train, meta))


def error_comparison(detector: OffManifoldDetector, x_test: np.ndarray, test_label: str, n: int = 500,
                     seed: int = 0) -> dict:
    """Per-image reconstruction errors of the first n test images, of n uniform-noise images and of n
    images of another dataset (`other_dataset`), with the detector's threshold and held-out scores."""
    shape = tuple(x_test.shape[1:])
    other_name, other = other_dataset(shape, n, seed=seed)
    return {
        "threshold": detector.threshold_,
        "heldout": detector.heldout_scores_,
        "scores": {
            f"{test_label} test images": detector.score(x_test[:n]),
            "uniform random pixels": detector.score(uniform_images(n, shape, seed)),
            other_name: detector.score(other),
        },
    }


def detection_auroc(inside: np.ndarray, outside: np.ndarray) -> float:
    """AUROC of the score as a detector of `outside` among inside + outside: the probability that a
    random outside image scores above a random inside one (ties count half)."""
    inside, outside = np.asarray(inside, np.float64), np.asarray(outside, np.float64)
    return float(roc_auc_score(np.r_[np.zeros(len(inside)), np.ones(len(outside))], np.r_[inside, outside]))


def error_summary(scores: dict[str, np.ndarray], threshold: float) -> list[dict]:
    """One row per set of `error_comparison`'s scores, in order: name, n, median error, the share above
    `threshold` (flagged off-manifold) and the AUROC against the first set (None for the first set itself)."""
    names = list(scores)
    ref = scores[names[0]]
    return [{"name": name, "n": len(s), "median": float(np.median(s)), "flagged": float(np.mean(s > threshold)),
             "auroc": None if i == 0 else detection_auroc(ref, s)}
            for i, (name, s) in enumerate(scores.items())]


def log_bins(scores, n: int = 60, floor: float = 1e-5) -> np.ndarray:
    """n log-spaced bin edges spanning all the scores (the lowest edge at least `floor`, as a log axis needs)."""
    s = np.concatenate([np.ravel(v) for v in scores])  # one array, or several (one per set)
    lo, hi = max(float(s.min()), floor), float(s.max())
    return np.logspace(np.log10(lo), np.log10(hi), n)
