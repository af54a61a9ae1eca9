"""MLP kinds: the plain autoencoder (`ae`, and through its config `linear` and `dae`) and the
overcomplete sparse autoencoder (`sparse`)."""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

from ..noise import NoiseSpec
from .base import Autoencoder, _mlp, _recon_loss


@dataclasses.dataclass
class AEConfig:
    input_shape: tuple[int, ...] = (1, 28, 28)
    latent_dim: int = 2
    hidden: tuple[int, ...] = (256, 64)
    activation: str = "relu"
    output: str = "sigmoid"  # sigmoid keeps pixels in [0, 1]; linear for the PCA-equivalent model
    recon_loss: str = "mse"
    noise: str = "none"  # input corruption while training: this is what makes a DAE


class AE(Autoencoder):
    """MLP autoencoder: x -> hidden... -> z (linear) -> ...hidden -> x_hat."""

    def __init__(self, config: AEConfig):
        super().__init__(config)
        sizes = [self.n_in, *config.hidden, config.latent_dim]
        self.encoder = _mlp(sizes, config.activation, "linear")
        self.decoder = _mlp(sizes[::-1], config.activation, config.output)
        self.noise = NoiseSpec.parse(config.noise)

    def encode(self, x):
        return self.encoder(self._flat(x))

    def decode(self, z):
        return self._unflat(self.decoder(z))


@dataclasses.dataclass
class SparseConfig:
    input_shape: tuple[int, ...] = (1, 28, 28)
    latent_dim: int = 1024  # overcomplete: more code units than pixels
    penalty: str = "kl"  # "kl" (target mean activation rho) or "l1" (on activations)
    weight: float = 0.1
    rho: float = 0.05
    recon_loss: str = "mse"
    noise: str = "none"


class SparseAE(Autoencoder):
    """One overcomplete sigmoid layer whose activations are pushed towards sparsity."""

    def __init__(self, config: SparseConfig):
        super().__init__(config)
        self.encoder = nn.Sequential(nn.Linear(self.n_in, config.latent_dim), nn.Sigmoid())
        self.decoder = nn.Sequential(nn.Linear(config.latent_dim, self.n_in), nn.Sigmoid())
        self.noise = NoiseSpec.parse(config.noise)

    def encode(self, x):
        return self.encoder(self._flat(x))

    def decode(self, z):
        return self._unflat(self.decoder(z))

    def loss(self, x, generator=None):
        x_in = self.noise.apply(x, generator) if self.training else x
        h = self.encode(x_in)
        recon = _recon_loss(self.decode(h), x, self.config.recon_loss)
        if self.config.penalty == "l1":
            sparsity = h.abs().sum(1).mean()
        else:
            rho, rho_hat = self.config.rho, h.mean(0).clamp(1e-6, 1 - 1e-6)
            sparsity = (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()
        return {"loss": recon + self.config.weight * sparsity, "recon": recon, "sparsity": sparsity}
