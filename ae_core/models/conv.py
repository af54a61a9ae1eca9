"""The convolutional autoencoder (`conv`)."""
from __future__ import annotations

import dataclasses

import torch.nn.functional as F
from torch import nn

from ..noise import NoiseSpec
from .base import Autoencoder


@dataclasses.dataclass
class ConvConfig:
    input_shape: tuple[int, ...] = (1, 28, 28)
    latent_dim: int = 16
    channels: tuple[int, ...] = (32, 64)
    noise: str = "none"


class ConvAE(Autoencoder):
    """Strided 3x3 convolutions down, transposed convolutions up, a linear bottleneck between."""

    def __init__(self, config: ConvConfig):
        super().__init__(config)
        c_in, h, w = self.input_shape
        chans = [c_in, *config.channels]
        enc: list[nn.Module] = []
        for a, b in zip(chans[:-1], chans[1:]):
            enc += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.ReLU()]
            h, w = (h + 1) // 2, (w + 1) // 2
        self.grid = (chans[-1], h, w)
        self.encoder_conv = nn.Sequential(*enc)
        self.to_latent = nn.Linear(chans[-1] * h * w, config.latent_dim)
        self.from_latent = nn.Linear(config.latent_dim, chans[-1] * h * w)
        dec: list[nn.Module] = []
        rev = chans[::-1]
        for i, (a, b) in enumerate(zip(rev[:-1], rev[1:])):
            dec += [nn.ConvTranspose2d(a, b, 4, stride=2, padding=1), nn.Sigmoid() if i == len(rev) - 2 else nn.ReLU()]
        self.decoder_conv = nn.Sequential(*dec)
        self.noise = NoiseSpec.parse(config.noise)

    def encode(self, x):
        return self.to_latent(self.encoder_conv(x.reshape(x.shape[0], *self.input_shape)).flatten(1))

    def decode(self, z):
        g = F.relu(self.from_latent(z)).reshape(z.shape[0], *self.grid)
        out = self.decoder_conv(g)
        # Odd sizes round up on the way down; crop the surplus row/column on the way up.
        return out[:, :, : self.input_shape[1], : self.input_shape[2]]

    def first_layer_filters(self):
        return self.encoder_conv[0].weight.detach().cpu().numpy()
