"""The greedy layer-wise stack (`stacked`, and with masking noise and binarisation `sdae`): one
stage per layer trained on the frozen code below it (`greedy_stages`), then fine-tuned whole."""
from __future__ import annotations

import dataclasses
from typing import Callable

import torch
from torch import nn

from ..noise import NoiseSpec, binarize
from .base import Autoencoder


@dataclasses.dataclass
class StackedConfig:
    input_shape: tuple[int, ...] = (1, 28, 28)
    latent_dim: int = 2
    hidden: tuple[int, ...] = (256, 64)  # one greedy stage per entry, plus one for the latent
    noise: str = "none"  # corruption of each stage's input (masking for an SDAE)
    binarize: bool = False  # stochastic binarisation of the lower code while training upper stages


class _Stage(nn.Module):
    """One greedy stage: a one-hidden-layer AE on the frozen code of the stages below.

    It shares its two layers with the stack, so training it trains the stack's weights; the
    lower encoder is held as a plain callable, not a submodule, so the optimiser never sees it.
    """

    def __init__(self, enc: nn.Module, dec: nn.Module, lower: Callable, noise: NoiseSpec, binarize_input: bool):
        super().__init__()
        self.enc, self.dec = enc, dec
        self._lower, self._noise, self._binarize = lower, noise, binarize_input

    def loss(self, x, generator=None):
        with torch.no_grad():
            h = self._lower(x)
            if self._binarize:
                h = binarize(h, generator)
        h_in = self._noise.apply(h, generator) if self.training else h
        recon = ((self.dec(self.enc(h_in)) - h) ** 2).sum(1).mean()
        return {"loss": recon, "recon": recon}


class StackedAE(Autoencoder):
    """Greedy layer-wise stack: encoders in order, decoders in reverse; sigmoid units, linear code."""

    def __init__(self, config: StackedConfig):
        super().__init__(config)
        sizes = [self.n_in, *config.hidden, config.latent_dim]
        n = len(sizes) - 1
        self.encoders = nn.ModuleList(
            nn.Sequential(nn.Linear(sizes[i], sizes[i + 1]), nn.Identity() if i == n - 1 else nn.Sigmoid())
            for i in range(n))
        # decoders[i] maps the code of layer i+1 back to layer i; all outputs are in [0, 1].
        self.decoders = nn.ModuleList(nn.Sequential(nn.Linear(sizes[i + 1], sizes[i]), nn.Sigmoid()) for i in range(n))
        self.noise = NoiseSpec.parse(config.noise)

    def encode_upto(self, x, k: int) -> torch.Tensor:
        """The code after the first k encoders (k = 0: the flattened input)."""
        h = self._flat(x)
        for enc in self.encoders[:k]:
            h = enc(h)
        return h

    def encode(self, x):
        return self.encode_upto(x, len(self.encoders))

    def decode(self, z):
        for dec in reversed(self.decoders):
            z = dec(z)
        return self._unflat(z)

    def greedy_stages(self):
        return [
            _Stage(self.encoders[k], self.decoders[k], lambda x, k=k: self.encode_upto(x, k), self.noise,
                   self.config.binarize and k > 0)
            for k in range(len(self.encoders))
        ]
