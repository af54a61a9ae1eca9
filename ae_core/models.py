"""The model zoo: every autoencoder kind, its config dataclass, and the kind registry.

Every model shares one interface (shapes for a batch of N samples of `input_shape`):
    encode(x: (N, *input_shape)) -> z: (N, latent_dim)      deterministic (a VAE returns the mean)
    decode(z: (N, latent_dim)) -> x_hat: (N, *input_shape)
    forward(x) -> decode(encode(x))
    loss(x, generator) -> {"loss": total to minimise, "recon": ..., and "sparsity" / "kl" where they apply}
Each model reads only its config dataclass (image shape and latent size come from it). A kind
is a model class plus config defaults: `linear` is an `ae` without activations, `dae` an `ae`
with input noise, `sdae` a `stacked` with masking noise and binarisation, `beta-vae` a `vae`
with beta > 1. `build(kind, ...)` and `from_config(kind, dict)` are the only constructors.
"""
from __future__ import annotations

import dataclasses
import math
import threading
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .noise import NoiseSpec, binarize

# Guards against hand-edited configs: checked on the meta device before any memory is allocated.
MAX_UNITS = 16_384
MAX_PARAMS = 50_000_000
MAX_INPUT_FEATURES = 1_000_000
# build() seeds torch's global generator; two trainings started at once must not interleave draws.
_SEED_LOCK = threading.Lock()

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "elu": nn.ELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU, "leaky-relu": lambda: nn.LeakyReLU(0.1), "linear": nn.Identity,
}


class ConfigError(ValueError):
    """A model config that cannot be built: unknown kind or key, wrong type, absurd size."""


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


# ---------------------------------------------------------------- ae, linear, dae


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


# ---------------------------------------------------------------- sparse


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


# ---------------------------------------------------------------- stacked, sdae


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


# ---------------------------------------------------------------- conv


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


# ---------------------------------------------------------------- vae, beta-vae


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


# ---------------------------------------------------------------- registry


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
}


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
