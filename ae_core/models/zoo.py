"""The zoo: every model kind by name, as a model class plus config defaults. `linear` is an `ae`
without activations, `dae` an `ae` with input noise, `sdae` a `stacked` with masking noise and
binarisation, `beta-vae` a `vae` with beta > 1. What a kind accepts is derived from its config dataclass."""
from __future__ import annotations

import dataclasses

from .conv import ConvAE, ConvConfig
from .mlp import AE, AEConfig, SparseAE, SparseConfig
from .stacked import StackedAE, StackedConfig
from .umap_ae import UMAPAE, UMAPAEConfig
from .vae import VAE, VAEConfig


@dataclasses.dataclass(frozen=True)
class Kind:
    model: type
    config: type
    defaults: dict
    summary: str
    fixed: tuple[str, ...] = ()  # config fields whose kind default is the kind itself (linear: no hidden layers)

    def accepts(self) -> frozenset[str]:
        """The config fields a user may set for this kind: its dataclass's, less the shape and the fixed ones."""
        return frozenset(f.name for f in dataclasses.fields(self.config)) - {"input_shape", *self.fixed}


KINDS: dict[str, Kind] = {
    "ae": Kind(AE, AEConfig, {}, "MLP autoencoder"),
    "linear": Kind(AE, AEConfig, {"hidden": (), "activation": "linear", "output": "linear"},
                   "linear autoencoder: spans the PCA subspace", fixed=("hidden", "activation", "output", "noise")),
    "sparse": Kind(SparseAE, SparseConfig, {}, "overcomplete code with a sparsity penalty"),
    "dae": Kind(AE, AEConfig, {"noise": "gaussian:0.5|masking:0.5|salt-pepper:0.2"},
                "denoising autoencoder: corrupted in, clean out"),
    "stacked": Kind(StackedAE, StackedConfig, {}, "greedy layer-wise stack, then fine-tuned"),
    "sdae": Kind(StackedAE, StackedConfig, {"noise": "masking:0.3", "binarize": True},
                 "stacked denoising AE with Bernoulli masking noise"),
    "conv": Kind(ConvAE, ConvConfig, {}, "convolutional autoencoder"),
    "vae": Kind(VAE, VAEConfig, {}, "variational autoencoder"),
    "beta-vae": Kind(VAE, VAEConfig, {"beta": 4.0, "latent_dim": 10}, "beta-VAE: KL weighted by beta"),
    "umap-ae": Kind(UMAPAE, UMAPAEConfig, {}, "UMAP-loss AE: UMAP's neighbourhoods on its code, and a decoder"),
}
