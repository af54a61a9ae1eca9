"""Disentanglement against ground-truth factors: which latent coordinate carries which known factor.

Owns the analysis behind the Generate page and `benchmarks/disentangle.py` on datasets that carry
factors (`Dataset.has_factors`: `sprites`, `mnist-affine`); numpy in, numpy out, never streamlit:
* `score(model, ds)`: the model's encoder means on held-out images against their factors: the
  coordinates × factors normalised mutual information, MIG, SAP and DCI (definitions in
  `ae_core.metrics`), and each coordinate's name after the factor it shares most information with.
* `traversal_effect(model, ds, ...)`: how much each factor moves when one coordinate is swept. The
  decoded images carry no factors of their own, so a probe reads them: each decoded image is given the
  factors of its nearest training image in pixel space (1-NN; on a rendered grid the nearest image is
  the combination that draws the same picture). Re-encoding would only give codes back, and a fitted
  regressor would blur the categorical shape; the nearest neighbour needs no fitting and says
  "this sweep turns the heart into a square" as plainly as "it moves x".
Models are only used through `ae_core.evaluate` (no_grad, eval mode, never mutated).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import evaluate, factors, metrics

N_EVAL = 5000  # held-out codes scored (sprites' whole test split)
N_FIT = 5000  # training codes DCI's regressors are fitted on
NAME_MIN = 0.1  # below this normalised MI a coordinate carries no factor worth naming


@dataclasses.dataclass
class Scores:
    """A model's disentanglement on one dataset. nmi: (D, F) normalised MI; importance: (D, F) DCI's."""

    factor_names: tuple[str, ...]
    nmi: np.ndarray
    mig: float
    mig_per_factor: np.ndarray
    sap: float
    dci: dict
    importance: np.ndarray
    n_eval: int

    def best_factor(self, dim: int) -> tuple[str | None, float]:
        """The factor coordinate `dim` shares the most information with, and that normalised MI."""
        j = int(np.argmax(self.nmi[dim]))
        v = float(self.nmi[dim, j])
        return (self.factor_names[j] if v >= NAME_MIN else None), v

    def label(self, dim: int) -> str:
        f, v = self.best_factor(dim)
        return f"z{dim} ≈ {f} (MI {v:.2f})" if f else f"z{dim}: no single factor (MI ≤ {v:.2f})"

    def summary(self) -> dict[str, float]:
        return {"mig": self.mig, "sap": self.sap, "dci_disentanglement": self.dci["disentanglement"],
                "dci_completeness": self.dci["completeness"], "dci_informativeness": self.dci["informativeness"]}


def score_codes(z_train, f_train, z_test, f_test, factor_names, seed: int = 0) -> Scores:
    """Scores of codes against factors: MI, MIG and SAP on the test codes; DCI's regressors fitted on the
    training codes and scored on the test codes."""
    z_test, f_test = np.asarray(z_test, np.float64), np.asarray(f_test, np.float64)
    imp, info = metrics.dci_importance(z_train, f_train, z_test, f_test, seed=seed)
    d, c = metrics.dci_from_importance(imp)
    return Scores(tuple(factor_names), metrics.normalised_mi(z_test, f_test),
                  metrics.mig(z_test, f_test), metrics.mig(z_test, f_test, per_factor=True),
                  metrics.sap(z_test, f_test),
                  {"disentanglement": d, "completeness": c, "informativeness": float(info.mean())}, imp, len(z_test))


def score(model, ds, n_eval: int = N_EVAL, n_fit: int = N_FIT, seed: int = 0) -> Scores:
    """A model's scores on a dataset with factors: its encoder means (a VAE's mean) of the first n_eval test
    images and the first n_fit training images (the splits are already shuffled)."""
    if not ds.has_factors:
        raise ValueError(f"{ds.name} has no ground-truth factors; use a dataset such as sprites or mnist-affine.")
    z_tr = evaluate.encode(model, ds.x_train[:n_fit])
    z_te = evaluate.encode(model, ds.x_test[:n_eval])
    return score_codes(z_tr, ds.factors_train[:n_fit], z_te, ds.factors_test[:n_eval], ds.factor_names, seed)


def probe_factors(ds, images: np.ndarray) -> np.ndarray:
    """(N, F) factors of images, read off their nearest training images in pixel space."""
    idx = metrics.knn_indices(np.asarray(images).reshape(len(images), -1), ds.x_train.reshape(len(ds.x_train), -1), 1)
    return np.asarray(ds.factors_train)[idx[:, 0]]


def traversal_effect(model, ds, z_base: np.ndarray, dims, spread: np.ndarray, n_steps: int = 9,
                     span: float = 2.0) -> np.ndarray:
    """(len(dims), F): how far each factor moves, as a fraction of its whole range in the data, when coordinate
    d sweeps ±span·spread[d] around each base code (B, D), the others held; the probed factor's range over
    the sweep, averaged over the bases. 0: the factor stays put; 1: the sweep takes it from end to end."""
    zb = np.atleast_2d(np.asarray(z_base, np.float32))
    dims = [int(d) for d in dims]
    z = factors.sweep_codes(zb, dims, spread, n_steps, span)  # (dims, B, steps, D)
    f = probe_factors(ds, evaluate.decode(model, z.reshape(-1, zb.shape[1])))
    f = f.reshape(len(dims), len(zb), n_steps, -1)
    full = np.asarray(ds.factors_train).max(0) - np.asarray(ds.factors_train).min(0)
    moved = (f.max(2) - f.min(2)) / np.where(full > 0, full, 1.0)
    return moved.mean(1)
