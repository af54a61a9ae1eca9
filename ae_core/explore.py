"""The latent map's explorer: what each point can be coloured by, and what a selection of points says.

Owns: `point_errors` (each image's squared reconstruction error, metrics.errors' `sse`, and its `mse`,
which is the off-manifold detector's score), `reconstructions` (clipped, as measured), `colourings` (the list of what a map can be coloured by
for one dataset and model: class, reconstruction error, off-manifold score, each latent coordinate,
and each ground-truth factor the dataset carries), `factor_columns` (a dataset's known factors, by
name), `summarise_selection` (counts per class, the mean image, the decoded mean code),
`reconstruct_one` (one picked or uploaded image: its code, reconstruction, errors and error map) and
`parse_indices` (an index typed or read from a link, checked). Arrays in, arrays out; never imports
streamlit.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import evaluate, metrics

BATCH = 4096


def point_errors(model, x: np.ndarray, batch: int = BATCH) -> dict[str, np.ndarray]:
    """Per image: 'sse' (squared error summed over the pixels) and 'mse' (per pixel), the reconstruction
    clipped to [0, 1] as everywhere else (metrics.summarise). In batches, so 60,000 images never hold
    two full copies of the split in float64."""
    x = np.asarray(x, np.float32)
    sse, mse = [], []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch]
        e = metrics.errors(xb, np.clip(evaluate.reconstruct(model, xb), 0.0, 1.0))
        sse.append(e["sse"])
        mse.append(e["mse"])
    if not sse:
        return {"sse": np.zeros(0), "mse": np.zeros(0)}
    return {"sse": np.concatenate(sse), "mse": np.concatenate(mse)}


def reconstructions(model, x: np.ndarray) -> np.ndarray:
    """The model's reconstructions of x, clipped to [0, 1] as `point_errors` measures them (for display)."""
    return np.clip(evaluate.reconstruct(model, np.asarray(x, np.float32)), 0.0, 1.0)


def factor_columns(ds, split: str) -> dict[str, np.ndarray]:
    """The ground-truth factors a dataset knows for each image of a split, {name: (N,) float}; {} if none.

    Reads what the Dataset carries: `factors_<split>` as an (N, F) array named by `factor_names`, or
    a {name: (N,)} mapping; the intrinsic coordinate `t_<split>` of a synthetic manifold counts too.
    """
    out: dict[str, np.ndarray] = {}
    n = len(ds.x_test if split == "test" else ds.x_train)
    f = getattr(ds, f"factors_{split}", None)
    if isinstance(f, dict):
        items = list(f.items())
    elif f is not None:
        a = np.asarray(f)
        a = a.reshape(len(a), -1) if a.ndim >= 1 else a
        names = list(getattr(ds, "factor_names", None) or [f"factor {i}" for i in range(a.shape[1])])
        items = [(str(names[i]) if i < len(names) else f"factor {i}", a[:, i]) for i in range(a.shape[1])]
    else:
        items = []
    t = getattr(ds, f"t_{split}", None)
    if t is not None:
        items.append(("intrinsic coordinate", t))
    for name, v in items:
        v = np.asarray(v)
        if v.shape[:1] == (n,) and v.ndim == 1 and np.issubdtype(v.dtype, np.number):
            out[str(name)] = v.astype(np.float64)
    return out


@dataclasses.dataclass(frozen=True)
class Colouring:
    """One thing the map can be coloured by: `key` (stable, for links), `label` (for people), and
    whether it is continuous (a colour bar) or the classes (one legend entry each)."""

    key: str
    label: str
    continuous: bool = True


def colourings(latent_dim: int, factors: dict | list = ()) -> list[Colouring]:
    """What a map of codes of `latent_dim` coordinates can be coloured by, in the order offered."""
    out = [Colouring("class", "class", False),
           Colouring("error", "reconstruction error (squared, summed over pixels)"),
           Colouring("offmanifold", "off-manifold score (percentile among held-out training images)")]
    out += [Colouring(f"z{d}", f"latent coordinate z{d}") for d in range(int(latent_dim))]
    out += [Colouring(f"factor:{name}", f"factor: {name}") for name in factors]
    return out


@dataclasses.dataclass
class SelectionSummary:
    """What a selection of points says: how many of each class, the mean image and the decoded mean code."""

    n: int
    counts: dict[int, int]
    mean_image: np.ndarray  # (C, H, W)
    mean_code: np.ndarray  # (D,)
    decoded_mean: np.ndarray  # (C, H, W), the decoder's image of mean_code


def summarise_selection(model, x: np.ndarray, z: np.ndarray, y: np.ndarray) -> SelectionSummary:
    """Summary of selected images x (N, C, H, W) with codes z (N, D) and labels y (N,); N >= 1."""
    if len(x) == 0:
        raise ValueError("an empty selection has no summary")
    mean_code = np.asarray(z, np.float64).mean(0).astype(np.float32)
    labels, counts = np.unique(np.asarray(y), return_counts=True)
    return SelectionSummary(
        n=len(x), counts={int(c): int(k) for c, k in zip(labels, counts)},
        mean_image=np.asarray(x, np.float64).mean(0).astype(np.float32),
        mean_code=mean_code,
        decoded_mean=np.clip(evaluate.decode(model, mean_code[None])[0], 0.0, 1.0))


@dataclasses.dataclass(frozen=True)
class OneReconstruction:
    """One image through the model: what the Latent space page shows for a picked point or an upload."""

    code: np.ndarray  # (D,)
    reconstruction: np.ndarray  # (C, H, W), as decoded (not clipped)
    sse: float  # squared error summed over the pixels, the reconstruction clipped to [0, 1]
    psnr: float  # dB, same clipping
    error_map: np.ndarray  # (C, H, W) per-pixel squared error, scaled so its largest value is 1


def reconstruct_one(model, x: np.ndarray) -> OneReconstruction:
    """Encode one image x (C, H, W), decode its code, and measure the error as `point_errors` does."""
    x = np.asarray(x, np.float32)
    z = evaluate.encode(model, x[None])
    rec = evaluate.decode(model, z)[0]
    clipped = np.clip(rec, 0.0, 1.0)
    e = metrics.errors(x[None], clipped[None])
    sq = (clipped - x) ** 2
    return OneReconstruction(code=z[0], reconstruction=rec, sse=float(e["sse"][0]), psnr=float(e["psnr"][0]),
                             error_map=sq / max(float(sq.max()), 1e-6))


def parse_indices(raw, n: int) -> int:
    """An index in [0, n) from text or a number; ValueError with a sentence saying why not (NaN, range, text)."""
    try:
        v = float(str(raw).strip())
    except ValueError:
        raise ValueError(f"{str(raw)[:40]!r} is not a number") from None
    if not np.isfinite(v) or v != int(v):
        raise ValueError(f"{str(raw)[:40]!r} is not a whole number")
    if not 0 <= int(v) < n:
        raise ValueError(f"{int(v)} is out of range (0 to {n - 1})")
    return int(v)
