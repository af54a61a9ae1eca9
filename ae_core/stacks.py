"""A greedy stack taken apart, stage by stage: arrays in, arrays out (never trains, never walks the store).

The lecture's walk through greedy stacking: train AE 1 on the images and keep its decoder W1', train
AE 2 on AE 1's codes and keep W2', ..., then decode through Wk' ... W1'. For a stacked model (the zoo's
`stacked` and `sdae` kinds: `encoders[i]` maps layer i to layer i+1, `decoders[i]` maps it back):
    partial_reconstruct(model, x, k)  x -> encoders 1..k -> decoders k..1: what the first k stages keep
    stage_errors(model, x)            the held-out error of each of those k = 1..n
    top_images(model, x, layer, ...)  a layer's units, each shown by the inputs that excite it most
First-layer filters are the model's own `first_layer_filters()`. The same functions read a model with
its weights before fine-tuning (the greedy stages alone, `store.load(..., state="greedy")`) and after.
"""
from __future__ import annotations

import numpy as np
import torch

from .metrics import errors, summarise

BATCH = 2048


def is_stacked(model) -> bool:
    """True for a greedy stack whose layers can be taken apart (encoders and decoders per stage)."""
    return hasattr(model, "encoders") and hasattr(model, "decoders") and hasattr(model, "encode_upto") \
        and len(model.encoders) == len(model.decoders) > 0


def n_stages(model) -> int:
    return len(model.encoders)


def _check(model, k: int) -> None:
    if not is_stacked(model):
        raise ValueError(f"a {getattr(model, 'kind', type(model).__name__)} model is not a greedy stack")
    if not 1 <= k <= n_stages(model):
        raise ValueError(f"k must be between 1 and {n_stages(model)}, not {k}")


def _batched(fn, x: np.ndarray) -> np.ndarray:
    out = []
    with torch.no_grad():
        for i in range(0, len(x), BATCH):
            out.append(fn(torch.tensor(np.asarray(x[i : i + BATCH], dtype=np.float32))).cpu().numpy())
    return np.concatenate(out)


def _decode_from(model, h: torch.Tensor, k: int) -> torch.Tensor:
    for dec in reversed(model.decoders[:k]):
        h = dec(h)
    return h.reshape(h.shape[0], *model.input_shape)


def partial_reconstruct(model, x: np.ndarray, k: int) -> np.ndarray:
    """(N, *input_shape) -> the same shape: x through the first k encoders, then back through decoders
    k, ..., 1. k = n_stages(model) is the model's full reconstruction, model(x)."""
    _check(model, k)
    model.eval()
    return _batched(lambda t: _decode_from(model, model.encode_upto(t, k), k), x)


def codes(model, x: np.ndarray, k: int) -> np.ndarray:
    """(N, units of layer k): the code after the first k encoders."""
    _check(model, k)
    model.eval()
    return _batched(lambda t: model.encode_upto(t, k), x)


def stage_errors(model, x: np.ndarray) -> list[dict]:
    """For k = 1..n: {"k", "units" (the code's size), "sse", "mse", "psnr"} of the partial
    reconstruction through the first k stages, averaged over x (clipped to [0, 1] as everywhere)."""
    sizes = [int(enc[0].out_features) for enc in model.encoders]
    return [{"k": k, "units": sizes[k - 1], **summarise(x, partial_reconstruct(model, x, k))}
            for k in range(1, n_stages(model) + 1)]


def per_image_errors(model, x: np.ndarray, k: int) -> np.ndarray:
    """Squared error per image of the partial reconstruction through k stages."""
    return errors(x, np.clip(partial_reconstruct(model, x, k), 0, 1))["sse"]


def top_images(model, x: np.ndarray, layer: int, n_units: int = 8, n_top: int = 6, units=None) -> dict:
    """Units of `layer` (1 = the first hidden layer), each shown by the inputs that excite it most.

    The units shown are `units` where given (the same units of the same stack before and after
    fine-tuning), else the `n_units` whose activation varies most over x (a unit that never changes
    says nothing); for each, the indices into x of its `n_top` largest activations, largest first.
    -> {"units": (U,), "top": (U, n_top) indices into x, "activation": (U, n_top), "spread": (U,) std}.
    """
    h = codes(model, x, layer)
    spread = h.std(0)
    if units is None:
        units = np.argsort(-spread, kind="stable")[: min(n_units, h.shape[1])]
    units = np.asarray(units, np.int64)
    top = np.argsort(-h[:, units], axis=0, kind="stable")[:n_top].T
    return {"units": units, "top": top, "activation": np.take_along_axis(h[:, units].T, top, 1),
            "spread": spread[units]}


def walk(model, x_test: np.ndarray, x_train: np.ndarray | None = None, n_show: int = 8, n_filters: int = 24,
         n_units: int = 8, n_top: int = 6, n_err: int | None = None, units=None) -> dict:
    """Everything the lecture's walk shows of one stack, from held-out images x_test:
    {"stages": stage_errors on the first n_err test images (all where None), each with "pca_sse" (PCA at
    the code's size, fitted on x_train) when x_train is given; "recon": (n_stages, n_show, *shape),
    the first n_show test images through the first k stages; "filters": (n_filters, *shape) first-layer
    weights, each scaled to [0, 1]; "units": per layer (1..n), top_images on the test images (of the
    given units per layer where `units` is a list of them)}."""
    from .denoise import first_layer_filters
    from .evaluate import pca_metrics

    _check(model, 1)
    x_err = x_test if n_err is None else x_test[:n_err]
    rows = stage_errors(model, x_err)
    if x_train is not None:
        for r in rows:
            r["pca_sse"] = pca_metrics(x_train, x_err, r["units"])["sse"]
    show = x_test[:n_show]
    return {"stages": rows,
            "recon": np.stack([partial_reconstruct(model, show, k) for k in range(1, n_stages(model) + 1)]),
            "filters": first_layer_filters(model, n_filters),
            "units": [top_images(model, x_test, k, n_units, n_top, None if units is None else units[k - 1])
                      for k in range(1, n_stages(model) + 1)]}
