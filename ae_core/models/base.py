"""The base class every model kind shares: encode / decode / forward, the one default loss, and the
MLP and reconstruction-loss helpers the kinds build from.

Shapes for a batch of N samples of `input_shape`:
    encode(x: (N, *input_shape)) -> z: (N, latent_dim)      deterministic (a VAE returns the mean)
    decode(z: (N, latent_dim)) -> x_hat: (N, *input_shape)
    forward(x) -> decode(encode(x))
    loss(x, generator) -> {"loss": total to minimise, "recon": ..., and "sparsity" / "kl" where they apply}
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "elu": nn.ELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU, "leaky-relu": lambda: nn.LeakyReLU(0.1), "linear": nn.Identity,
}


def _recon_loss(x_hat: torch.Tensor, x: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-sample sum over features, mean over the batch (the usual 'per image' error)."""
    if kind == "bce":
        per = F.binary_cross_entropy(x_hat.clamp(1e-6, 1 - 1e-6), x, reduction="none")
    else:
        per = (x_hat - x) ** 2
    return per.flatten(1).sum(1).mean()


def _mlp(sizes: list[int], activation: str, last: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        layers.append(ACTIVATIONS[last if i == len(sizes) - 2 else activation]())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """Base class: shared plumbing. Subclasses define encode, decode and loss."""

    kind: str = "ae"
    variational: bool = False  # True for models with an encoder distribution (encode_stats, kl_per_dim)

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.input_shape = tuple(config.input_shape)
        self.n_in = math.prod(self.input_shape)  # Python ints: no silent int64 overflow

    @property
    def latent_dim(self) -> int:
        return int(self.config.latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def greedy_stages(self) -> list[nn.Module]:
        """Modules to train one after another before the whole (empty: train end to end only)."""
        return []

    def loss(self, x, generator=None):
        """The default objective: reconstruct x from its corrupted copy (`self.noise`, while training) with
        the config's `recon_loss` (mse where the config has none). -> {"loss", "recon"}"""
        x_in = self.noise.apply(x, generator) if self.training else x
        recon = _recon_loss(self(x_in), x, getattr(self.config, "recon_loss", "mse"))
        return {"loss": recon, "recon": recon}

    def first_layer_filters(self) -> np.ndarray:
        """The first layer's weights shaped like inputs, (n_filters, *input_shape): what each unit looks for."""
        w = next(p for n, p in self.named_parameters() if n.endswith("weight"))
        return w.detach().cpu().reshape(w.shape[0], -1)[:, : self.n_in].reshape(-1, *self.input_shape).numpy()

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1)

    def _unflat(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.input_shape)
