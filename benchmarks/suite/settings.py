"""One run's settings, its progress log and the goal record every section returns.

`Settings` holds every size and grid of a run and is written into results.json as it is. The
defaults of the denoising and embedding settings are read from ae_core (denoise's NL-means and
median constants, embeddings' fit sizes), so the benchmark measures what the app runs; a setting
that differs from the app's says so here.
"""
from __future__ import annotations

import dataclasses
import math
import time

from ae_core import data as data_mod
from ae_core import denoise, embeddings

from .. import ceiling

RECON_KINDS = ("linear", "ae", "conv", "vae")
NOISES = ("gaussian:0.3", "gaussian:0.5", "masking:0.25", "masking:0.5", "salt-pepper:0.2")


@dataclasses.dataclass
class Settings:
    """Every size and grid of one run; written into results.json as is."""

    quick: bool = False
    dataset: str = data_mod.DEFAULT
    seed: int = 0
    n_train: int | None = None  # None: the whole training split
    n_test: int | None = None
    dims: tuple[int, ...] = (2, 8, 30)
    recon_kinds: tuple[str, ...] = RECON_KINDS
    # Cap on every model's epochs (standard_config's 150 with patience 20 for a dozen models would not fit
    # the 30-minute budget on 2 cores); None: standard_config's own. The same cap for every model.
    epochs: int | None = 50
    # embeddings (ae_core.embeddings.embed_method: the PCA vs AE page's functions). t-SNE uses embeddings'
    # own sizes (TSNE_N_FIT training points, at most TSNE_MAX_TEST test points) and settings.
    manifold_fit_n: int = embeddings.N_FIT  # Isomap / LLE fitted on this many training images
    manifold_neighbors: int = 10  # Embedder2D's default, the page's
    # denoising (ae_core.denoise: the Denoise page's functions and settings)
    noises: tuple[str, ...] = NOISES
    denoise_latent: int = 30
    nlm_h_grid: tuple[float, ...] = denoise.NLM_H_GRID
    nlm_patch_size: int = denoise.NLM_PATCH_SIZE
    nlm_patch_distance: int = denoise.NLM_PATCH_DISTANCE
    # The page tunes h on 8 validation images; the benchmark on more (denoise.validation_images both).
    nlm_val_n: int = 100
    median_size: int = denoise.MEDIAN_SIZE
    # speed
    speed_kind: str = "ae"
    speed_latent: int = 2
    speed_epochs: int = 3
    speed_repeats: int = 5  # best of n, interleaved: the machine may be shared
    speed_batch_grid: tuple[int, ...] = (64, 256, 1024, 4096)
    matmul_sizes: tuple[int, ...] = ceiling.SIZES
    matmul_seconds: float = 0.5  # at least this long on each size (benchmarks/ceiling.py)
    encode_repeats: int = 30
    decode_repeats: int = 300
    memory_epochs: int = 2
    models_root: str | None = None
    threads: int | None = None

    @classmethod
    def quick_mode(cls, **kw) -> "Settings":
        """Tiny sizes and one epoch: the same code paths in well under a minute (tests/test_bench.py)."""
        base = dict(
            quick=True, n_train=500, n_test=200, dims=(2,), epochs=1, manifold_fit_n=300,
            noises=("gaussian:0.5", "masking:0.5"), denoise_latent=30, nlm_h_grid=(0.1, 0.3), nlm_val_n=10,
            speed_epochs=1, speed_repeats=1, speed_batch_grid=(64, 256), matmul_sizes=(256, 512), matmul_seconds=0.05,
            encode_repeats=3, decode_repeats=20, memory_epochs=1,
        )
        base.update({k: v for k, v in kw.items() if v is not None})
        return cls(**base)


class Log:
    """Progress lines with the time since the start, flushed at once (the full run takes minutes)."""

    def __init__(self, quiet: bool = False):
        self.t0 = time.perf_counter()
        self.quiet = quiet

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:7.1f}s] {msg}", flush=True)


OPS = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b}


def goal(section: str, name: str, measured: float, op: str, target: float, text: str, detail: str = "") -> dict:
    """A goal judged from the figure measured in this run (never typed in); NaN never passes."""
    measured, target = float(measured), float(target)
    return {"section": section, "name": name, "goal": text, "measured": measured, "op": op, "target": target,
            "passed": bool(OPS[op](measured, target) and math.isfinite(measured)), "detail": detail}
