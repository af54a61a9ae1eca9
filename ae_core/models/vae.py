"""The variational autoencoder (`vae`, and with beta > 1 `beta-vae`)."""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

from .base import Autoencoder, _mlp, _recon_loss


@dataclasses.dataclass
class VAEConfig:
    input_shape: tuple[int, ...] = (1, 28, 28)
    latent_dim: int = 2
    hidden: tuple[int, ...] = (256, 64)
    activation: str = "relu"
    beta: float = 1.0  # weight of the KL term; beta > 1 trades reconstruction for disentanglement
    recon_loss: str = "bce"  # Bernoulli likelihood, the usual choice for MNIST


class VAE(Autoencoder):
    """Gaussian encoder q(z|x) = N(mu, diag(exp(logvar))), prior N(0, I), sigmoid decoder."""

    variational = True

    def __init__(self, config: VAEConfig):
        super().__init__(config)
        sizes = [self.n_in, *config.hidden]
        self.body = _mlp(sizes, config.activation, config.activation) if config.hidden else nn.Identity()
        self.mu = nn.Linear(sizes[-1], config.latent_dim)
        self.logvar = nn.Linear(sizes[-1], config.latent_dim)
        self.decoder = _mlp([config.latent_dim, *config.hidden[::-1], self.n_in], config.activation, "sigmoid")

    def encode_stats(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(self._flat(x))
        return self.mu(h), self.logvar(h).clamp(-10, 10)

    def encode(self, x):
        return self.encode_stats(x)[0]

    def decode(self, z):
        return self._unflat(self.decoder(z))

    def loss(self, x, generator=None):
        mu, logvar = self.encode_stats(x)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        recon = _recon_loss(self.decode(mu + eps * torch.exp(0.5 * logvar)), x, self.config.recon_loss)
        kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)).mean()
        return {"loss": recon + self.config.beta * kl, "recon": recon, "kl": kl}

    def kl_per_dim(self, x) -> torch.Tensor:
        """Mean KL of each latent coordinate over x: which coordinates carry information."""
        mu, logvar = self.encode_stats(x)
        return (-0.5 * (1 + logvar - mu**2 - logvar.exp())).mean(0)
