"""2-D embeddings of a dataset and the measurements that compare them: PCA, Isomap, LLE, t-SNE and
the 2-D autoencoders, side by side.

Every method maps the same held-out test points to the plane, and every number is measured on
that test split:
  * kNN accuracy in 2-D (k = 1 and 5): a KNeighborsClassifier fitted on the *training* points'
    embedding, scored on the *test* points' embedding (how well classes stay apart);
  * trustworthiness (k = 5, `metrics.trustworthiness`, scikit-learn's definition) of the test points' embedding
    against their original coordinates (how much the plane invents false neighbours);
  * the classes' silhouette in the plane (`metrics.silhouette`: how far apart, relative to their
    spread, the classes sit);
  * held-out reconstruction error (squared error per image) where the method can map back
    (PCA, autoencoders); None for Isomap, LLE and t-SNE, which have no inverse;
  * fit time in seconds (for an autoencoder: its training time from the model card).

Isomap, LLE and UMAP are fitted on a class-balanced prefix of the training split (`n_fit` points:
2,000 for Isomap and LLE so they take seconds on two cores, 10,000 for UMAP) and map other points,
the test split included, with their out-of-sample `.transform`, as the encoder does.
t-SNE has no out-of-sample map: it embeds the training prefix and the test points together
(labels unused), and its result says so in `note`. `tsne` is the package's one t-SNE call (the
Latent space map's too), with its settings and thread limit.

Also here: PCA's held-out error against latent dimension (`pca_error_curve`; the stored
autoencoders beside it are workflow.error_vs_dimension's), the principal angles between a linear autoencoder's decoder subspace
and PCA's (`principal_angles`), and the swiss-roll / S-curve comparison with a measured
"unrolling" score (`unrolling_comparison`).

Fitted things follow scikit-learn's estimator contract: `__init__` stores parameters, `fit`
returns self, fitted state ends in `_`.
"""
from __future__ import annotations

import hashlib
import time

import numpy as np
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, Isomap, LocallyLinearEmbedding
from threadpoolctl import threadpool_limits

from . import data as data_mod
from . import evaluate, metrics

METHODS = ("PCA", "Isomap", "LLE", "t-SNE", "UMAP")
NONLINEAR = ("Isomap", "LLE", "t-SNE", "UMAP")
N_FIT = 2000  # training points for Isomap / LLE: a few seconds each on two cores
# UMAP scales to far more points than Isomap / LLE (mnist-5k's 4,000 in about 5 s once numba has
# compiled); the benchmark fits it on all of full MNIST's 60,000 training images.
UMAP_N_FIT = 10_000
UMAP_NEIGHBOURS = 15  # umap-learn's default, and the UMAP-loss AE's graph
TSNE_N_FIT = 1000  # t-SNE embeds these plus the 1,000 test points: its cost grows fastest
TSNE_ITER = 500  # the layout has settled by then on a few thousand points; 1000 doubles the wait
TSNE_PERPLEXITY = 30.0
TRUST_K = 5
DEFAULT_DIMS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 30, 40, 50, 64, 100)

# t-SNE's cost grows fastest with the points it embeds: full MNIST's 10,000 test points plus the training
# prefix take minutes on two cores, so beyond this many it embeds (and is scored on) a test prefix only.
TSNE_MAX_TEST = 2000
TSNE_NOTE = ("t-SNE has no out-of-sample map: the first {n:,} training points and the test points were "
             "embedded together (labels unused), so its test scores are transductive.")
TSNE_SUBSET_NOTE = (" Only the first {m:,} of the {n_test:,} test points were embedded and scored: t-SNE's cost "
                    "grows fastest with the points it embeds (minutes for all of them on two cores).")


def _flat(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).reshape(len(x), -1)


class Embedder2D:
    """One of METHODS as a 2-D embedding: fit on training points, then map any points.

    n_fit caps the training points the neighbourhood methods are fitted on (the first n_fit
    rows; a prefix of the fixed split is class-balanced). PCA always uses every training point.
    """

    def __init__(self, method: str = "PCA", n_fit: int | None = None, n_neighbors: int = 10, seed: int = 0):
        self.method = method
        # None: the method's own cap (UMAP scales further than Isomap and LLE)
        self.n_fit = n_fit if n_fit is not None else (UMAP_N_FIT if method == "UMAP" else N_FIT)
        self.n_neighbors = n_neighbors
        self.seed = seed

    def _estimator(self):
        if self.method == "PCA":
            return PCA(2, random_state=self.seed)
        if self.method == "Isomap":
            return Isomap(n_neighbors=self.n_neighbors, n_components=2)
        if self.method == "UMAP":
            import umap  # numba compiles on first import (about 15 s): only when UMAP is asked for

            # umap-learn's defaults; a fixed random_state makes it deterministic (and single-threaded).
            return umap.UMAP(n_neighbors=UMAP_NEIGHBOURS, min_dist=0.1, n_components=2, random_state=self.seed)
        if self.method == "LLE":
            return LocallyLinearEmbedding(n_neighbors=self.n_neighbors, n_components=2, eigen_solver="arpack",
                                          random_state=self.seed)
        raise ValueError(f"Unknown embedding method {self.method!r}; known: {', '.join(METHODS)} "
                         f"(t-SNE has no fit/transform; use embed_joint).")

    def fit(self, x_train: np.ndarray) -> "Embedder2D":
        x = _flat(x_train)
        if self.method != "PCA":
            x = x[: self.n_fit]
        t0 = time.perf_counter()
        try:
            self.estimator_ = self._estimator().fit(x)
        except (ValueError, RuntimeError):
            if self.method != "LLE":
                raise
            # ARPACK can fail on the near-singular matrix LLE builds; the dense solver is slower
            # (cubic in n_fit) but always converges.
            self.estimator_ = self._estimator().set_params(eigen_solver="dense").fit(x)
        self.fit_seconds_ = time.perf_counter() - t0
        self.n_fitted_ = len(x)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator_.transform(_flat(x)), dtype=np.float32)

    @property
    def invertible(self) -> bool:
        return self.method == "PCA"

    def inverse_transform(self, z: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        if not self.invertible:
            raise NotImplementedError(f"{self.method} has no inverse map.")
        return self.estimator_.inverse_transform(np.atleast_2d(z)).reshape(-1, *shape).astype(np.float32)


def tsne_joint(x_train: np.ndarray, x_test: np.ndarray, n_fit: int = TSNE_N_FIT, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """t-SNE of the first n_fit training points and all test points together: (train 2-D, test 2-D, seconds).

    High-dimensional inputs are first reduced to 50 PCA components (the usual t-SNE practice; it
    removes pixel noise and makes the neighbour search fast).
    """
    xtr, xte = _flat(x_train)[:n_fit], _flat(x_test)
    t0 = time.perf_counter()
    x = np.concatenate([xtr, xte])
    if x.shape[1] > 50:
        x = PCA(50, random_state=seed).fit_transform(x)
    z = tsne(x, seed)
    return z[: len(xtr)], z[len(xtr):], time.perf_counter() - t0


def tsne(x: np.ndarray, seed: int = 0, perplexity: float = TSNE_PERPLEXITY) -> np.ndarray:
    """The package's one t-SNE (the PCA vs AE page's and the Latent space page's): rows of x (N, ...) ->
    (N, 2) float32. Barnes-Hut, PCA initialisation, TSNE_ITER iterations, seeded; the perplexity is capped
    at (N - 1) / 3 (at least 2), so a small set still embeds.

    One thread: with torch's thread pools alive in the same process, OpenMP oversubscription made t-SNE
    10x slower in the app.
    """
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    perplexity = float(min(perplexity, max(2.0, (len(x) - 1) / 3)))
    with threadpool_limits(1):
        z = TSNE(2, perplexity=perplexity, init="pca", random_state=seed, max_iter=TSNE_ITER).fit_transform(x)
    return z.astype(np.float32)


def scores(x_test: np.ndarray, y_train: np.ndarray, y_test: np.ndarray, z_train: np.ndarray, z_test: np.ndarray) -> dict:
    """Held-out scores of a 2-D embedding: kNN accuracy (k = 1, 5), trustworthiness, class silhouette."""
    out = {f"knn{k}": metrics.knn_accuracy(z_train, y_train[: len(z_train)], z_test, y_test, k) for k in (1, 5)}
    out["trust"] = metrics.trustworthiness(_flat(x_test), z_test, TRUST_K)
    out["silhouette"] = metrics.silhouette(z_test, y_test[: len(z_test)])
    return out


def _result(method, z_train, z_test, sc, recon_sse, fit_seconds, note="", n_test=None) -> dict:
    # n_test: embedding_test covers the first n_test test points (None: all of them).
    return {"method": method, "embedding_train": z_train, "embedding_test": z_test, "knn1": sc.get("knn1"),
            "knn5": sc.get("knn5"), "trust": sc.get("trust"), "silhouette": sc.get("silhouette"), "recon_sse": recon_sse, "fit_seconds": fit_seconds,
            "note": note, "n_test": n_test}


def embed_method(ds: data_mod.Dataset, method: str, n_fit: int | None = None, n_neighbors: int = 10, seed: int = 0) -> dict:
    """One of METHODS on a dataset: its 2-D train/test embeddings and held-out scores (a result dict).

    n_fit: training points the neighbourhood methods are fitted on (None: each method's own cap).
    """
    if method == "t-SNE":
        m = min(len(ds.x_test), TSNE_MAX_TEST)
        z_tr, z_te, secs = tsne_joint(ds.x_train, ds.x_test[:m], min(n_fit or TSNE_N_FIT, TSNE_N_FIT), seed)
        sc = scores(ds.x_test[:m], ds.y_train, ds.y_test[:m], z_tr, z_te)
        note = TSNE_NOTE.format(n=len(z_tr))
        if m < len(ds.x_test):
            note += TSNE_SUBSET_NOTE.format(m=m, n_test=len(ds.x_test))
        return _result(method, z_tr, z_te, sc, None, secs, note, n_test=m if m < len(ds.x_test) else None)
    emb = Embedder2D(method, n_fit, n_neighbors, seed).fit(ds.x_train)
    n_ref = emb.n_fitted_
    # The k-NN classifier is fitted on every training point a method maps cheaply (PCA: all of them, as
    # the papers' protocol does); Isomap and LLE on the points they were fitted on.
    n_ref = len(ds.x_train) if emb.invertible else n_ref
    z_tr, z_te = emb.transform(ds.x_train[:n_ref]), emb.transform(ds.x_test)
    sse = None
    note = ""
    if emb.invertible:
        sse = evaluate.summarise(ds.x_test, emb.inverse_transform(z_te, ds.sample_shape))["sse"]
        note = f"fitted on all {len(ds.x_train):,} training points"
    else:
        note = f"fitted on {emb.n_fitted_:,} training points; test points mapped by its out-of-sample transform"
    return _result(method, z_tr, z_te, scores(ds.x_test, ds.y_train, ds.y_test, z_tr, z_te), sse, emb.fit_seconds_, note)


def embed_model(ds: data_mod.Dataset, model, name: str, train_seconds: float | None = None) -> dict:
    """A trained autoencoder's latent as an embedding ("AE (name)"); only 2-D latents apply."""
    label = f"AE ({name})"
    if model.latent_dim != 2:
        return _result(label, None, None, {}, None, train_seconds,
                       f"{model.latent_dim}-D latent: not a 2-D embedding, so not applicable here.")
    z_tr, z_te = evaluate.encode(model, ds.x_train), evaluate.encode(model, ds.x_test)  # k-NN on all training codes
    sse = evaluate.model_metrics(model, ds.x_test)["sse"]
    note = "fit time = training time from the model card" if train_seconds is not None else "training time unknown"
    return _result(label, z_tr, z_te, scores(ds.x_test, ds.y_train, ds.y_test, z_tr, z_te), sse, train_seconds, note)


def compare(ds: data_mod.Dataset | str, methods=("PCA",), models: dict | None = None, n_fit: int | None = None,
            seed: int = 0) -> list[dict]:
    """Result dicts for each method and each model.

    models: {name: model} or {name: (model, meta)}; a meta's history seconds is used as fit time.
    Each dict: method, embedding_train, embedding_test, knn1, knn5, trust, recon_sse (None without
    an inverse), fit_seconds, note.
    """
    ds = data_mod.load_dataset(ds) if isinstance(ds, str) else ds
    out = [embed_method(ds, m, n_fit, seed=seed) for m in methods]
    for name, item in (models or {}).items():
        model, meta = item if isinstance(item, tuple) else (item, {})
        out.append(embed_model(ds, model, name, (meta or {}).get("history", {}).get("seconds")))
    return out


# ---------------------------------------------------------------- error against dimension


_BASIS_CACHE: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}


def pca_basis(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, components): all principal directions of the training split, rows in order of variance.

    From the eigendecomposition of the (features x features) scatter matrix: exact, and several
    times faster than an SVD of the (images x features) data when there are more images than pixels.
    The error curve and the principal angles both need it for the same split, so the last few are
    kept, keyed by a digest of the data (read-only copies are returned).
    """
    x = _flat(x_train)
    key = hashlib.sha1(np.ascontiguousarray(x).view(np.uint8)).digest()
    if key not in _BASIS_CACHE:
        x = x.astype(np.float64)
        mean = x.mean(0)
        xc = x - mean
        w, v = np.linalg.eigh(xc.T @ xc)
        comps = np.ascontiguousarray(v[:, np.argsort(w)[::-1]].T)
        mean.setflags(write=False)
        comps.setflags(write=False)
        while len(_BASIS_CACHE) >= 4:
            _BASIS_CACHE.pop(next(iter(_BASIS_CACHE)))
        _BASIS_CACHE[key] = (mean, comps)
    return _BASIS_CACHE[key]


def pca_error_curve(x_train: np.ndarray, x_test: np.ndarray, dims) -> list[tuple[int, float]]:
    """(dim, held-out squared error per image) of PCA for each dim, from one decomposition of the training split.

    PCA's components are nested, so the first k directions of one full decomposition give the
    k-component PCA. Reconstructions are clipped to [0, 1] like evaluate.summarise (and the model
    cards) do. A dim beyond the number of features is capped there (the reconstruction is exact).
    """
    mean, comps = pca_basis(x_train)
    xte = _flat(x_test).astype(np.float64)
    xc = xte - mean
    out = []
    for d in sorted({min(int(d), comps.shape[0]) for d in dims if int(d) >= 1}):
        v = comps[:d]
        x_hat = (xc @ v.T) @ v + mean
        out.append((d, evaluate.summarise(xte, x_hat)["sse"]))
    return out


def decoder_basis(model) -> np.ndarray:
    """(n_features, latent_dim): the directions decode(e_i) - decode(0); for an affine decoder they span its image."""
    eye = np.eye(model.latent_dim, dtype=np.float32)
    zero = np.zeros((1, model.latent_dim), np.float32)
    return (_flat(evaluate.decode(model, eye)) - _flat(evaluate.decode(model, zero))).T.astype(np.float64)


def principal_angles(linear_model, x_train: np.ndarray) -> np.ndarray:
    """Angles in degrees (largest first) between a linear AE's decoder column space and PCA's top-k subspace.

    k is the model's latent dimension. A linear autoencoder trained to the optimum of squared error
    spans exactly PCA's subspace (Baldi & Hornik 1989), so these should approach 0.
    """
    k = linear_model.latent_dim
    _, comps = pca_basis(x_train)
    return np.degrees(subspace_angles(decoder_basis(linear_model), comps[:k].T))


# ---------------------------------------------------------------- swiss roll / S-curve


def unrolling_score(z: np.ndarray, t: np.ndarray, n_angles: int = 180) -> float:
    """max over directions u in the plane of |Spearman(z @ u, t)|: 1 when some direction orders points
    exactly by the intrinsic coordinate t, as a perfect unrolling would.

    Directions rather than the two axes alone, because an autoencoder's latent (and PCA's) is
    free to come out rotated.
    """
    a = np.linspace(0, np.pi, n_angles, endpoint=False)
    proj = np.asarray(z, np.float64) @ np.stack([np.cos(a), np.sin(a)])
    rt = np.argsort(np.argsort(t)).astype(np.float64)
    rp = np.argsort(np.argsort(proj, axis=0), axis=0).astype(np.float64)
    rt -= rt.mean()
    rp -= rp.mean(0)
    rho = (rp * rt[:, None]).sum(0) / np.sqrt((rp**2).sum(0) * (rt**2).sum())
    return float(np.abs(rho).max())


def unrolling_comparison(dataset: str, ae_model, ae_seconds: float | None = None, n_neighbors: int = 10,
                         seed: int = 0) -> list[dict]:
    """PCA, Isomap, LLE and a given (already trained) 2-D AE on a synthetic manifold, each fitted on the
    training split and applied to the test split. Per method: method, embedding (test, 2-D), t (test),
    unrolling (see unrolling_score), trust (k = 5), fit_seconds (the AE's: `ae_seconds`).
    workflow.unrolling trains the AE and calls this.
    """
    ds = data_mod.load_dataset(dataset)
    if ds.t_test is None:
        raise ValueError(f"{dataset} has no intrinsic coordinate; use swiss-roll or s-curve.")
    out = []
    for m in ("PCA", "Isomap", "LLE"):
        emb = Embedder2D(m, n_fit=len(ds.x_train), n_neighbors=n_neighbors, seed=seed).fit(ds.x_train)
        out.append((m, emb.transform(ds.x_test), emb.fit_seconds_))
    out.append(("AE", evaluate.encode(ae_model, ds.x_test), ae_seconds))
    return [{"method": m, "embedding": z, "t": ds.t_test, "unrolling": unrolling_score(z, ds.t_test),
             "trust": metrics.trustworthiness(ds.x_test, z, TRUST_K), "fit_seconds": s}
            for m, z, s in out]
