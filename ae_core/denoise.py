"""Denoising, measured: autoencoders against classical filters, per-image PSNR / SSIM, first-layer
filters, and where noisy images land in latent space.

Owns the maths behind the Denoise page:
* classical baselines: `median_filter` (MEDIAN_SIZE x MEDIAN_SIZE, per image) and `NLMeans` (scikit-image's
  non-local means with NLM_PATCH_SIZE / NLM_PATCH_DISTANCE, h picked from NLM_H_GRID on VALIDATION images of
  the training split, never on the test split); the sizes are parameters, their defaults what the app uses;
* `denoise_with(model, x)`, `denoise_all`, and `compare(models, x_clean, noise_spec, seed)`;
* `prepare_upload(s)`: bytes of (possibly noisy) pictures -> arrays the dataset's models take;
* `first_layer_filters` (each scaled to [0, 1] for display), `filter_locality` (a number for
  "more noise gives more stroke-like filters") (the two tiny DAEs it compares are workflow.filter_daes);
* `latent_arrows` / `code_shift` / `noisy_code_arrows`: codes of noisy images against the codes of
  their clean versions.

Per-image quality is ae_core.metrics' `psnr` / `ssim` (the one definition), used here and by the pages.

Arrays are float32 images (N, C, H, W) in [0, 1]. Never imports streamlit.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import numpy as np
from scipy import ndimage
from skimage.restoration import denoise_nl_means

from . import evaluate, images, latent, metrics, models, noise

# Stated grid for non-local means' filtering strength h (pixel units, images in [0, 1]).
NLM_H_GRID: tuple[float, ...] = (0.04, 0.08, 0.12, 0.18, 0.25, 0.35, 0.5)
NLM_PATCH_SIZE = 3  # patch side in pixels (scikit-image's patch_size)
NLM_PATCH_DISTANCE = 4  # search radius in pixels (scikit-image's patch_distance)
MEDIAN_SIZE = 3  # the median filter's window side


# ---------------------------------------------------------------- classical baselines


def median_filter(x: np.ndarray, size: int = MEDIAN_SIZE) -> np.ndarray:
    """A size x size median filter applied to each image (and channel) on its own."""
    a = np.asarray(x, dtype=np.float32)
    out = np.empty_like(a)
    for i in range(len(a)):
        for k in range(a.shape[1]):
            out[i, k] = ndimage.median_filter(a[i, k], size=size, mode="nearest")
    return out


def nl_means(x: np.ndarray, h: float, patch_size: int = NLM_PATCH_SIZE,
             patch_distance: int = NLM_PATCH_DISTANCE) -> np.ndarray:
    """scikit-image's non-local means (fast mode) on each image and channel with strength h,
    patch_size x patch_size patches searched within patch_distance pixels; clipped to [0, 1]."""
    a = np.asarray(x, dtype=np.float32)
    out = np.empty_like(a)
    for i in range(len(a)):
        for k in range(a.shape[1]):
            out[i, k] = denoise_nl_means(a[i, k].astype(np.float64), h=h, patch_size=patch_size,
                                         patch_distance=patch_distance, fast_mode=True)
    return np.clip(out, 0.0, 1.0)


class NLMeans:
    """Non-local means with its strength h chosen by PSNR on validation images.

    scikit-learn's estimator contract: `fit(x_val_clean, noise_spec, seed)` corrupts the validation
    images (these must come from the TRAINING split) with the same noise the test images get, tries
    every h in `h_grid`, and keeps the best as `h_`; `val_psnr_` records the mean PSNR for each h.
    """

    def __init__(self, h_grid: Sequence[float] = NLM_H_GRID, patch_size: int = NLM_PATCH_SIZE,
                 patch_distance: int = NLM_PATCH_DISTANCE):
        self.h_grid = tuple(h_grid)
        self.patch_size = patch_size
        self.patch_distance = patch_distance

    def fit(self, x_val_clean: np.ndarray, noise_spec: str | noise.NoiseSpec, seed: int = 0) -> "NLMeans":
        noisy = noise.corrupt(x_val_clean, noise_spec, seed)
        self.val_psnr_ = {h: float(metrics.psnr(x_val_clean, self._apply(noisy, h)).mean()) for h in self.h_grid}
        self.h_ = max(self.val_psnr_, key=self.val_psnr_.get)
        return self

    def _apply(self, x: np.ndarray, h: float) -> np.ndarray:
        return nl_means(x, h, self.patch_size, self.patch_distance)

    def denoise(self, x_noisy: np.ndarray) -> np.ndarray:
        return self._apply(x_noisy, self.h_)

    def settings(self) -> dict:
        """What was run: the grid, the patch size and distance, and (once fitted) the h chosen."""
        out = {"h_grid": list(self.h_grid), "patch_size": self.patch_size, "patch_distance": self.patch_distance,
               "fast_mode": True}
        if hasattr(self, "h_"):
            out["h"] = self.h_
        return out


def validation_images(x_train: np.ndarray, n: int = 8, seed: int = 0) -> np.ndarray:
    """A few images of the training split for tuning baselines (the test split stays untouched)."""
    idx = np.random.default_rng(seed).choice(len(x_train), size=min(n, len(x_train)), replace=False)
    return np.asarray(x_train[np.sort(idx)], dtype=np.float32)


# ---------------------------------------------------------------- autoencoders and comparison


def denoise_with(model, x_noisy: np.ndarray) -> np.ndarray:
    """The model's reconstruction of the noisy images (evaluate.reconstruct), clipped to [0, 1]."""
    return np.clip(evaluate.reconstruct(model, x_noisy), 0.0, 1.0)


def denoise_all(models_: Mapping[str, object], x_noisy: np.ndarray, *, median: bool = True,
                nlm: NLMeans | None = None, median_size: int = MEDIAN_SIZE) -> dict[str, np.ndarray]:
    """Every method's output on the same noisy images: each model, then the classical baselines
    ("median SxS", "NL-means (h=...)")."""
    out = {name: denoise_with(m, x_noisy) for name, m in models_.items()}
    if median:
        out[f"median {median_size}x{median_size}"] = median_filter(x_noisy, median_size)
    if nlm is not None:
        out[f"NL-means (h={nlm.h_:g})"] = nlm.denoise(x_noisy)
    return out


@dataclasses.dataclass
class Comparison:
    """Result of `compare`: the noisy input, each method's output and its per-image scores.

    `outputs`, `psnr` and `ssim` share keys: "noisy" (the input itself), then the methods in order.
    """

    clean: np.ndarray
    noisy: np.ndarray
    noise: str
    outputs: dict[str, np.ndarray]
    psnr: dict[str, np.ndarray]
    ssim: dict[str, np.ndarray]

    def means(self) -> list[dict]:
        """One row per method: mean PSNR and SSIM over the images."""
        return [{"method": k, "psnr": float(self.psnr[k].mean()), "ssim": float(self.ssim[k].mean())}
                for k in self.outputs]


def compare(models_: Mapping[str, object], x_clean: np.ndarray, noise_spec: str | noise.NoiseSpec, seed: int = 0,
            *, nlm: NLMeans | None = None, median: bool = True, median_size: int = MEDIAN_SIZE) -> Comparison:
    """Corrupt `x_clean` (seeded), denoise with every model and baseline, score each against the clean images."""
    x_clean = np.asarray(x_clean, dtype=np.float32)
    noisy = noise.corrupt(x_clean, noise_spec, seed)
    outputs = {"noisy": noisy, **denoise_all(models_, noisy, median=median, nlm=nlm, median_size=median_size)}
    return Comparison(
        clean=x_clean, noisy=noisy, noise=str(noise_spec),
        outputs=outputs,
        psnr={k: metrics.psnr(x_clean, v) for k, v in outputs.items()},
        ssim={k: metrics.ssim(x_clean, v) for k, v in outputs.items()},
    )


def prepare_upload(data: bytes, shape: Sequence[int], mode: str = "auto") -> np.ndarray:
    """Bytes of an uploaded picture -> (C, H, W) float32 for a model taking `shape` = (C, H, W).

    images.prepare_upload (the one upload path, modes "auto", "mnist", "as-is"), without its steps.
    Raises images.ImageError (a sentence for the user) for anything that is not a usable image, and
    for a picture in which no digit was found (the sentence says why).
    """
    if mode not in images.MODES:
        raise ValueError(f"mode must be one of {images.MODES}, not {mode!r}")
    prep = images.prepare_upload(data, shape, mode)
    if not prep.ok:
        raise images.ImageError(prep.message)
    return prep.x


def prepare_uploads(files: Sequence[tuple[str, bytes]], shape: Sequence[int], mode: str = "auto"
                    ) -> tuple[np.ndarray, list[str], list[tuple[str, str]]]:
    """Several uploads at once: (images (N, C, H, W) of the usable ones, their names, [(name, message)]
    for each file that is not a usable image). One bad file never stops the others."""
    xs, names, errors = [], [], []
    for name, data in files:
        try:
            xs.append(prepare_upload(data, shape, mode))
            names.append(name)
        except images.ImageError as e:
            errors.append((name, str(e)))
    x = np.stack(xs) if xs else np.zeros((0, *(int(s) for s in shape)), np.float32)
    return x, names, errors


# ---------------------------------------------------------------- first-layer filters


def first_layer_filters(model, n: int = 64) -> np.ndarray:
    """The first n first-layer filters, (n, C, H, W), each min-max scaled to [0, 1] on its own for display."""
    f = np.asarray(model.first_layer_filters(), dtype=np.float32)[:n]
    lo = f.reshape(len(f), -1).min(1).reshape(-1, 1, 1, 1)
    hi = f.reshape(len(f), -1).max(1).reshape(-1, 1, 1, 1)
    return (f - lo) / np.maximum(hi - lo, 1e-12)


def filter_locality(model, top: float = 0.1) -> float:
    """Mean, over first-layer filters, of the share of a filter's squared weight in its top `top` pixels.

    Weights spread over the whole image give little (about 0.27 for uniform random weights, 0.44 for
    Gaussian ones); a filter confined to `top` of the pixels gives 1. Compare with `untrained_locality`:
    used to check, rather than assert, that more input noise gives more localised filters.
    """
    f = np.asarray(model.first_layer_filters(), dtype=np.float64)
    e = (f.reshape(len(f), -1)) ** 2
    k = max(1, int(round(top * e.shape[1])))
    top_e = -np.sort(-e, axis=1)[:, :k].sum(1)
    return float(np.mean(top_e / np.maximum(e.sum(1), 1e-20)))


def untrained_locality(model, top: float = 0.1, seed: int = 1) -> float:
    """filter_locality of a freshly initialised model of the same kind and config: the baseline to beat."""
    fresh = models.build(model.kind, seed=seed, **models.config_to_dict(model.config))
    return filter_locality(fresh, top)


# ---------------------------------------------------------------- latent space


def latent_arrows(model, x_clean: np.ndarray, x_noisy: np.ndarray) -> dict[str, np.ndarray | str]:
    """2-D positions of the clean and the noisy images' codes, for arrows noisy -> clean.

    A 2-D latent is used as is; a larger one is projected on the top two principal axes of a PCA
    fitted on the CLEAN codes only, so both sets share one projection. Returns {"clean": (N, 2),
    "noisy": (N, 2), "axes": description}.
    """
    zc, zn = evaluate.encode(model, x_clean), evaluate.encode(model, x_noisy)
    if zc.shape[1] > 2 and len(zc) < 2:
        raise ValueError("need at least two images to fit the projection")
    # The Latent space page's projection (identity up to 2-D, else PCA), fitted on the clean codes only.
    proj = latent.Projector("pca", seed=0).fit(zc)
    axes = ("latent coordinates" if proj.kind_ == "identity" else
            f"first two principal axes of the clean codes ({float(proj.explained_.sum()):.0%} of their variance)")
    return {"clean": proj.embedding_, "noisy": proj.transform(zn), "axes": axes}


def code_shift(model, x_clean: np.ndarray, x_noisy: np.ndarray) -> float:
    """Mean distance from each noisy image's code to its clean image's code, in the full latent space,
    divided by the RMS distance of clean codes from their mean (so models with differently scaled codes
    compare). Small = noise barely moves the code: the image is mapped back onto the same place."""
    zc, zn = evaluate.encode(model, x_clean).astype(np.float64), evaluate.encode(model, x_noisy).astype(np.float64)
    spread = np.sqrt(((zc - zc.mean(0)) ** 2).sum(1).mean())
    return float(np.linalg.norm(zn - zc, axis=1).mean() / max(spread, 1e-12))


def noisy_code_arrows(model, x_clean: np.ndarray, labels: np.ndarray, noise_spec: str, seed: int = 0) -> dict:
    """latent_arrows of x_clean and its corrupted copy (`noise_spec`, seeded), with "shift" (code_shift)
    and "labels"."""
    noisy = noise.corrupt(x_clean, noise_spec, seed)
    out = latent_arrows(model, x_clean, noisy)
    out["shift"] = code_shift(model, x_clean, noisy)
    out["labels"] = labels
    return out
