"""1. Reconstruction: held-out squared error per image and PSNR of PCA and each autoencoder kind at
each latent dimension, from ae_core.evaluate (pca_metrics, model_metrics: metrics.summarise)."""
from __future__ import annotations

import time

from ae_core import data as data_mod
from ae_core import evaluate

from .common import history_summary, train_standard
from .settings import Log, Settings, goal

LABELS = {"linear": "linear AE", "ae": "AE", "conv": "conv AE", "vae": "VAE"}
REFERENCE = ("Hinton & Salakhutdinov (2006), full MNIST, 30-D code: deep AE 3.00 vs PCA 13.87 squared error "
             "per image.")
# AE / PCA squared-error ratio to reach at each latent dimension.
TARGETS = ((2, 0.75), (30, 0.55))


def measure(ds: data_mod.Dataset, s: Settings, cache: dict, log: Log) -> tuple[dict, list]:
    rows = []
    kinds = [k for k in s.recon_kinds if ds.is_image or k != "conv"]
    for d in s.dims:
        t0 = time.perf_counter()
        p = evaluate.pca_metrics(ds.x_train, ds.x_test, d)
        rows.append({"model": "PCA", "kind": "pca", "latent": d, **p, "ratio_to_pca": 1.0,
                     "seconds": round(time.perf_counter() - t0, 2)})
        log(f"recon: PCA-{d} sq.err {p['sse']:.2f} PSNR {p['psnr']:.2f} dB")
        for kind in kinds:
            res = train_standard(kind, d, ds, s, cache, log)
            t = evaluate.model_metrics(res.model, ds.x_test)
            rows.append({"model": LABELS.get(kind, kind), "kind": kind, "latent": d, **t,
                         "ratio_to_pca": t["sse"] / p["sse"], "seconds": round(res.wall_seconds, 2),
                         **history_summary(res)})
            log(f"recon: {kind}-{d} sq.err {t['sse']:.2f} (PCA {p['sse']:.2f}, ratio {t['sse'] / p['sse']:.3f}) "
                f"PSNR {t['psnr']:.2f} dB")
    goals = []
    for d, target in TARGETS:
        r = next((r for r in rows if r["kind"] == "ae" and r["latent"] == d), None)
        if r is not None:
            goals.append(goal("recon", f"AE/PCA squared error at {d}-D", r["ratio_to_pca"], "<=", target,
                              f"AE <= {target} x PCA squared error at {d}-D"))
    note = ("Each model uses ae_core.workflow.standard_config(kind, latent) for its architecture and training "
            "settings, trained by workflow.train_on on the same training images with the same seed"
            + (f" and the same epoch cap ({s.epochs}, early stopping still on)" if s.epochs is not None else
               " and standard_config's own epochs")
            + "; 10% of the training split is held out inside training for early stopping. "
              "Scores are ae_core.evaluate's model_metrics / pca_metrics (ae_core.metrics.summarise, as on the "
              "model cards): squared error summed over pixels per image and averaged over the test split; PSNR "
              "the mean over test images of 10 log10(1 / per-image MSE); outputs clipped to [0, 1]. "
              "The VAE reconstructs from the posterior mean.")
    return {"rows": rows, "dims": list(s.dims), "kinds": ["pca", *kinds], "note": note,
            "reference": REFERENCE}, goals
