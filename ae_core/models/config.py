"""Model configs from untrusted values (a hand-edited or uploaded config.json, a web form): each
value checked against its field's type, every size bounded, and the parameter count measured on the
meta device before anything is allocated. `build(kind, ...)` and `from_config(kind, dict)` are the
only constructors of a model.
"""
from __future__ import annotations

import dataclasses
import math
import threading
from typing import Any

import torch

from ..noise import NoiseSpec
from .base import ACTIVATIONS, Autoencoder
from .umap_ae import UMAPAEConfig
from .zoo import KINDS

# Guards against hand-edited configs: checked on the meta device before any memory is allocated.
MAX_UNITS = 16_384
MAX_PARAMS = 50_000_000
MAX_INPUT_FEATURES = 1_000_000
# build() seeds torch's global generator; two trainings started at once must not interleave draws.
_SEED_LOCK = threading.Lock()


class ConfigError(ValueError):
    """A model config that cannot be built: unknown kind or key, wrong type, absurd size."""


def config_to_dict(config) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def make_config(kind: str, **overrides: Any):
    """The config of `kind`: its dataclass defaults, then the kind's, then `overrides` (validated)."""
    if kind not in KINDS:
        raise ConfigError(f"Unknown model kind {kind!r}; known kinds: {', '.join(KINDS)}.")
    spec = KINDS[kind]
    fields = {f.name: f for f in dataclasses.fields(spec.config)}
    values = {**spec.defaults, **overrides}
    unknown = set(values) - set(fields)
    if unknown:
        raise ConfigError(f"{kind}: unknown config keys {sorted(unknown)}; allowed: {sorted(fields)}.")
    clean = {}
    for k, v in values.items():
        default = fields[k].default
        try:
            if isinstance(default, tuple):
                v = tuple(int(a) for a in v)
            elif isinstance(default, bool):
                if not isinstance(v, bool):
                    raise TypeError
            elif isinstance(default, int):
                if isinstance(v, bool) or float(v) != int(v):
                    raise TypeError
                v = int(v)
            elif isinstance(default, float):
                v = float(v)
                if not math.isfinite(v):
                    raise TypeError
            elif isinstance(default, str):
                if not isinstance(v, str):
                    raise TypeError
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{kind}: {k}={v!r} is not a valid {type(default).__name__}.") from None
        clean[k] = v
    cfg = spec.config(**clean)
    _validate(kind, cfg)
    return cfg


def _validate(kind: str, cfg) -> None:
    sizes = [*cfg.input_shape, cfg.latent_dim, *getattr(cfg, "hidden", ()), *getattr(cfg, "channels", ())]
    if any(s < 1 or s > MAX_UNITS for s in sizes):
        raise ConfigError(f"{kind}: every size must be between 1 and {MAX_UNITS}; got {sizes}.")
    if math.prod(cfg.input_shape) > MAX_INPUT_FEATURES:
        raise ConfigError(f"{kind}: input_shape {tuple(cfg.input_shape)} is more than the limit of "
                          f"{MAX_INPUT_FEATURES:,} values.")
    for name in ("activation", "output"):
        if hasattr(cfg, name) and getattr(cfg, name) not in ACTIVATIONS:
            raise ConfigError(f"{kind}: {name}={getattr(cfg, name)!r}; choose from {', '.join(ACTIVATIONS)}.")
    if getattr(cfg, "recon_loss", "mse") not in ("mse", "bce"):
        raise ConfigError(f"{kind}: recon_loss must be 'mse' or 'bce'.")
    if getattr(cfg, "penalty", "kl") not in ("kl", "l1"):
        raise ConfigError(f"{kind}: penalty must be 'kl' or 'l1'.")
    if isinstance(cfg, UMAPAEConfig):
        if not (2 <= cfg.n_neighbors <= 200 and 1 <= cfg.edge_batch <= MAX_UNITS and 0 <= cfg.negative_sample_rate <= 50):
            raise ConfigError(f"{kind}: n_neighbors must be 2-200, edge_batch 1-{MAX_UNITS:,}, "
                              "negative_sample_rate 0-50.")
        if not (0 <= cfg.min_dist <= 1 and cfg.umap_weight >= 0 and cfg.recon_weight >= 0 and cfg.repulsion >= 0):
            raise ConfigError(f"{kind}: min_dist must be in [0, 1] and the weights at least 0.")
    if kind in ("conv",) and len(cfg.input_shape) != 3:
        raise ConfigError("conv: input_shape must be (C, H, W).")
    try:
        NoiseSpec.parse(getattr(cfg, "noise", "none"))
    except ValueError as e:
        raise ConfigError(f"{kind}: {e}") from None
    # Count parameters on the meta device: a 1e9-unit layer is refused without allocating it.
    with torch.device("meta"):
        n_params = sum(p.numel() for p in KINDS[kind].model(cfg).parameters())
    if n_params > MAX_PARAMS:
        raise ConfigError(f"{kind}: {n_params:,} parameters is more than the limit of {MAX_PARAMS:,}.")


def build(kind: str, seed: int = 0, **overrides: Any) -> Autoencoder:
    """A freshly initialised model of `kind`; the same seed gives the same initial weights."""
    cfg = make_config(kind, **overrides)
    with _SEED_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = KINDS[kind].model(cfg)
    model.kind = kind
    return model


def from_config(kind: str, config: dict) -> Autoencoder:
    """Rebuild a model from a saved config dict (weights not loaded)."""
    if not isinstance(config, dict):
        raise ConfigError("The model config must be a JSON object.")
    return build(kind, **config)
