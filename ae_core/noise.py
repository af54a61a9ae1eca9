"""Corruption processes: what a denoising autoencoder learns to undo.

Each process is a pure function of a tensor and a `torch.Generator`, so a seed fixes the
corruption exactly. `NoiseSpec` is the one textual form used by configs, the CLI and the app:
"gaussian:0.5", "salt-pepper:0.2", "masking:0.3", "none", or several joined by "|" (each
image then gets one of them at random, so one model can learn to undo all of them). `parse_one` reads
a single "kind:level" (a link's or a form's), optionally within ranges narrower than the parser's.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

KINDS = ("gaussian", "salt-pepper", "masking")


def gaussian(x: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x + N(0, sigma^2), clipped back to [0, 1] (pixels cannot leave that range)."""
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (x + sigma * noise).clamp_(0.0, 1.0)


def salt_pepper(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A fraction `rate` of values set to 0 or 1 (half each)."""
    u = torch.rand(x.shape, generator=generator, device=x.device)
    salt = torch.rand(x.shape, generator=generator, device=x.device) < 0.5
    out = x.clone()
    hit = u < rate
    out[hit & salt] = 1.0
    out[hit & ~salt] = 0.0
    return out


def masking(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Bernoulli masking noise (Vincent et al. 2010): each value is zeroed with probability `rate`."""
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= rate
    return x * keep


def binarize(h: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Stochastic binarisation of activations in [0, 1]: each unit becomes 1 with probability h."""
    return (torch.rand(h.shape, generator=generator, device=h.device) < h).to(h.dtype)


_FUNCS = {"gaussian": gaussian, "salt-pepper": salt_pepper, "masking": masking}


@dataclasses.dataclass(frozen=True)
class NoiseSpec:
    """One or more (kind, level) corruptions; empty means no corruption."""

    parts: tuple[tuple[str, float], ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> "NoiseSpec":
        if text is None or text.strip().lower() in ("", "none"):
            return cls(())
        parts = []
        for item in text.split("|"):
            kind, _, level = item.strip().partition(":")
            kind = kind.strip().lower().replace("_", "-")
            if kind == "salt-and-pepper":
                kind = "salt-pepper"
            if kind not in _FUNCS:
                raise ValueError(f"Unknown noise {kind!r}; use one of {', '.join(KINDS)} as kind:level, e.g. masking:0.3")
            try:
                value = float(level)
            except ValueError:
                raise ValueError(f"Noise level {level!r} in {item!r} is not a number") from None
            if not (0.0 <= value <= (5.0 if kind == "gaussian" else 1.0)):
                raise ValueError(f"Noise level {value} out of range for {kind}")
            parts.append((kind, value))
        return cls(tuple(parts))

    def __str__(self) -> str:
        return "|".join(f"{k}:{v:g}" for k, v in self.parts) or "none"

    def __bool__(self) -> bool:
        return bool(self.parts)

    def apply(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Corrupt a batch (N, ...). With several parts, each sample gets one part at random."""
        if not self.parts:
            return x
        if len(self.parts) == 1:
            kind, level = self.parts[0]
            return _FUNCS[kind](x, level, generator)
        choice = torch.randint(len(self.parts), (x.shape[0],), generator=generator, device=x.device)
        out = x.clone()
        for i, (kind, level) in enumerate(self.parts):
            sel = choice == i
            if sel.any():
                out[sel] = _FUNCS[kind](x[sel], level, generator)
        return out


def parse_one(text: str, ranges: dict[str, tuple[float, float]] | None = None) -> tuple[str, float]:
    """One (kind, level) from text such as "gaussian:0.3", read by `NoiseSpec.parse` (same kinds, aliases and
    limits). `ranges` {kind: (lo, hi)}: the kinds accepted and a narrower range for each level (a page's
    sliders). ValueError, with a sentence, for none, several, or a kind or level outside them."""
    parts = NoiseSpec.parse(text).parts
    if len(parts) != 1:
        raise ValueError("give one noise as kind:level, e.g. masking:0.3")
    kind, level = parts[0]
    if ranges is not None:
        if kind not in ranges:
            raise ValueError(f"the noise types are {', '.join(ranges)}")
        lo, hi = ranges[kind]
        if not lo <= level <= hi:
            raise ValueError(f"its level must be between {lo:g} and {hi:g}")
    return kind, level


def corrupt(x: np.ndarray, spec: str | NoiseSpec, seed: int = 0) -> np.ndarray:
    """numpy convenience for pages and benchmarks: corrupt float images with a fixed seed."""
    spec = spec if isinstance(spec, NoiseSpec) else NoiseSpec.parse(spec)
    g = torch.Generator().manual_seed(seed)
    return spec.apply(torch.tensor(np.asarray(x, dtype=np.float32)), g).numpy()
