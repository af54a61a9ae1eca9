"""Inference on numpy arrays and held-out reconstruction metrics, for models and for PCA.

Every function here runs the model under `torch.no_grad()` in eval mode and never changes its
weights, so one cached model can serve many app sessions at once. Metrics are per image:
`sse` is the squared error summed over pixels (Hinton & Salakhutdinov's figure), `mse` the mean
per pixel, `psnr` the mean over images of 10*log10(1 / per-image mse) for pixels in [0, 1].
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import PCA

from .metrics import errors, summarise  # noqa: F401  (the one definition; re-exported for callers of evaluate)

BATCH = 2048


def _device(model) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _batched(fn, x: np.ndarray, batch: int = BATCH) -> np.ndarray:
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(fn(torch.tensor(np.asarray(x[i : i + batch], dtype=np.float32))).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def encode(model, x: np.ndarray) -> np.ndarray:
    """(N, *input_shape) -> (N, latent_dim) float32."""
    model.eval()
    dev = _device(model)
    return _batched(lambda t: model.encode(t.to(dev)), x)


def decode(model, z: np.ndarray) -> np.ndarray:
    """(N, latent_dim) -> (N, *input_shape) float32 in the model's output range."""
    model.eval()
    dev = _device(model)
    return _batched(lambda t: model.decode(t.to(dev)), np.atleast_2d(z))


def reconstruct(model, x: np.ndarray) -> np.ndarray:
    model.eval()
    dev = _device(model)
    return _batched(lambda t: model(t.to(dev)), x)


def model_metrics(model, x_test: np.ndarray) -> dict[str, float]:
    """Held-out reconstruction metrics of a model."""
    return summarise(x_test, reconstruct(model, x_test))


class PCAReconstructor:
    """PCA as an autoencoder: encode = project on the top components, decode = back-project.

    scikit-learn's estimator contract: fit returns self, fitted state ends in '_'.
    """

    def __init__(self, n_components: int = 2, seed: int = 0):
        self.n_components = n_components
        self.seed = seed

    def fit(self, x: np.ndarray) -> "PCAReconstructor":
        self.shape_ = x.shape[1:]
        self.pca_ = PCA(self.n_components, random_state=self.seed).fit(x.reshape(len(x), -1))
        return self

    def encode(self, x: np.ndarray) -> np.ndarray:
        return self.pca_.transform(x.reshape(len(x), -1)).astype(np.float32)

    def decode(self, z: np.ndarray) -> np.ndarray:
        return self.pca_.inverse_transform(np.atleast_2d(z)).reshape(-1, *self.shape_).astype(np.float32)

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        return self.decode(self.encode(x))


def pca_metrics(x_train: np.ndarray, x_test: np.ndarray, dim: int) -> dict[str, float]:
    """Held-out metrics of PCA with `dim` components fitted on the training split."""
    dim = min(dim, x_train.reshape(len(x_train), -1).shape[1], len(x_train))
    return summarise(x_test, PCAReconstructor(dim).fit(x_train).reconstruct(x_test))
