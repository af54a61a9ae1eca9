"""The model zoo, in modules along its seams:

* `base`: the Autoencoder base class (encode / decode / forward, the one default loss);
* `mlp` (ae, linear, dae, sparse), `stacked` (stacked, sdae), `conv`, `vae` (vae, beta-vae), `umap_ae`;
* `zoo`: the kinds by name (`KINDS`), each a model class plus config defaults;
* `config`: configs from untrusted values (`make_config`) and the only constructors, `build` and `from_config`.

Every model reads only its config dataclass (image shape and latent size come from it). The public
names are re-exported here, so `from ae_core import models; models.build(...)` is the API.
"""
from .base import ACTIVATIONS, Autoencoder
from .config import (MAX_INPUT_FEATURES, MAX_PARAMS, MAX_UNITS, ConfigError, build, config_to_dict, from_config,
                     make_config)
from .conv import ConvAE, ConvConfig
from .mlp import AE, AEConfig, SparseAE, SparseConfig
from .stacked import StackedAE, StackedConfig
from .umap_ae import UMAP_EPS, UMAPAE, UMAPAEConfig, ab_params, fuzzy_graph, umap_cross_entropy
from .vae import VAE, VAEConfig
from .zoo import KINDS, Kind

__all__ = ["ACTIVATIONS", "AE", "AEConfig", "Autoencoder", "ConfigError", "ConvAE", "ConvConfig", "KINDS", "Kind",
           "MAX_INPUT_FEATURES", "MAX_PARAMS", "MAX_UNITS", "SparseAE", "SparseConfig", "StackedAE", "StackedConfig",
           "UMAPAE", "UMAPAEConfig", "UMAP_EPS", "VAE", "VAEConfig", "ab_params", "build", "config_to_dict",
           "from_config", "fuzzy_graph", "make_config", "umap_cross_entropy"]
