"""2. 2-D embeddings: kNN accuracy (k = 1, 5), trustworthiness and class silhouette of PCA, Isomap,
LLE, t-SNE and the 2-D AE / VAE on the held-out test split.

Everything goes through ae_core.embeddings, the PCA vs AE page's functions: `embed_method` (Embedder2D:
PCA on every training point, Isomap and LLE fitted on a training prefix with LLE's ARPACK solver and its
dense fallback; t-SNE by `tsne_joint`, which embeds a training prefix and the test points together),
`embed_model` for the autoencoders, and `scores` (ae_core.metrics' knn_accuracy, trustworthiness,
silhouette). The pixel-space reference is metrics.knn_accuracy on the raw pixels.
"""
from __future__ import annotations

import time

import numpy as np

from ae_core import data as data_mod
from ae_core import embeddings, metrics

from .common import train_standard
from .settings import Log, Settings, goal

METHODS = ("PCA", "Isomap", "LLE", "t-SNE")
MODELS = (("ae", "AE-2D"), ("vae", "VAE-2D"))
REFERENCE = ("Parametric UMAP paper (Sainburg et al. 2021), full MNIST, 2-D: 5-NN accuracy PCA 0.42, AE 0.79, "
             "t-SNE 0.95.")


def _row(method: str, r: dict, seconds: float, note: str | None = None) -> dict:
    return {"method": method, "knn1": r["knn1"], "knn5": r["knn5"], "trust": r["trust"], "silhouette": r["silhouette"],
            "recon_sse": r["recon_sse"], "seconds": round(float(seconds), 2),
            "knn_train_n": int(len(r["embedding_train"])), "n_test": int(len(r["embedding_test"])),
            "note": r["note"] if note is None else note}


def _flat(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).reshape(len(x), -1)


def measure(ds: data_mod.Dataset, s: Settings, cache: dict, log: Log) -> tuple[dict, list]:
    rows = []

    def add(row):
        rows.append(row)
        log(f"embed: {row['method']:8s} 1-NN {row['knn1']:.3f} 5-NN {row['knn5']:.3f} trust({embeddings.TRUST_K}) "
            f"{row['trust']:.3f} silhouette {row['silhouette']:.3f} ({row['seconds']:.1f}s)")

    for method in METHODS:
        t0 = time.perf_counter()
        n_fit = None if method == "t-SNE" else s.manifold_fit_n  # t-SNE: embeddings' own TSNE_N_FIT
        r = embeddings.embed_method(ds, method, n_fit=n_fit, n_neighbors=s.manifold_neighbors, seed=s.seed)
        add(_row(method, r, time.perf_counter() - t0))

    for kind, label in MODELS:
        res = train_standard(kind, 2, ds, s, cache, log)
        t0 = time.perf_counter()
        r = embeddings.embed_model(ds, res.model, label, res.wall_seconds)
        add(_row(label, r, res.wall_seconds + time.perf_counter() - t0,
                 f"standard_config({kind!r}, 2) trained on the training split; encoder (posterior mean for the VAE) "
                 "applied to train and test; seconds include training"))

    pix = {f"knn{k}": metrics.knn_accuracy(_flat(ds.x_train), ds.y_train, _flat(ds.x_test), ds.y_test, k) for k in (1, 5)}
    log(f"embed: pixel-space reference 1-NN {pix['knn1']:.3f} 5-NN {pix['knn5']:.3f}")
    by = {r["method"]: r for r in rows}
    goals = [goal("embed", "AE-2D minus PCA-2D 5-NN accuracy", by["AE-2D"]["knn5"] - by["PCA"]["knn5"], ">=", 0.25,
                  "AE-2D 5-NN accuracy at least 0.25 above PCA-2D",
                  f"AE {by['AE-2D']['knn5']:.3f}, PCA {by['PCA']['knn5']:.3f}")]
    note = ("ae_core.embeddings' functions (the PCA vs AE page's). kNN classifiers (ae_core.metrics.knn_accuracy, "
            "k = 1, 5) are fitted on the training points each method embeds (all of them for PCA and the "
            "autoencoders, the fitted prefix for Isomap and LLE, the jointly embedded prefix for t-SNE) and scored on "
            f"the test points; trustworthiness (metrics.trustworthiness, k = {embeddings.TRUST_K}) compares the test "
            "points' neighbourhoods in pixel space with those in the plane; silhouette: metrics.silhouette of the "
            "classes in the plane. Isomap and LLE: "
            f"{s.manifold_neighbors} neighbours, fitted on the first {min(s.manifold_fit_n, len(ds.x_train))} training "
            "images (LLE: ARPACK, dense solver where ARPACK fails).")
    return {"rows": rows, "pixel_space_knn": pix, "note": note, "reference": REFERENCE,
            "manifold_fit_n": min(s.manifold_fit_n, len(ds.x_train)), "manifold_neighbors": s.manifold_neighbors,
            "tsne_train_n": by["t-SNE"]["knn_train_n"], "tsne_test_n": by["t-SNE"]["n_test"], "tsne": _tsne_settings(),
            "trust_k": embeddings.TRUST_K}, goals


def _tsne_settings() -> dict:
    """embeddings' t-SNE settings as far as it names them (TSNE_ITER / TSNE_PERPLEXITY where defined)."""
    names = {"n_fit": "TSNE_N_FIT", "max_test": "TSNE_MAX_TEST", "iterations": "TSNE_ITER",
             "perplexity": "TSNE_PERPLEXITY"}
    return {k: getattr(embeddings, v) for k, v in names.items() if hasattr(embeddings, v)}
