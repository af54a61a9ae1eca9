"""The measurements, one definition each, used by the app, the CLI, the tests and the benchmarks.

Reconstruction (per image, pixels in [0, 1]): `errors` gives `sse` (squared error summed over
the pixels: Hinton & Salakhutdinov's figure), `mse` (its mean per pixel) and `psnr`
(10 log10(1 / mse)); `summarise` averages them over images, clipping the reconstruction to
[0, 1] first unless `clip=False` (clipping only ever lowers the error, and changes PCA's, whose
back-projection leaves [0, 1], but not a sigmoid decoder's).

Image quality per image (images (N, C, H, W), (C, H, W) or (H, W), pixels in [0, 1], the estimate
clipped to [0, 1]): `psnr` (`errors`' psnr) and `ssim` (scikit-image's structural_similarity,
data_range 1, channels averaged, the window shrunk to fit images under 7 pixels a side). The
Denoise and Compression pages, ae_core.compress and the benchmarks all score images with these.

Neighbourhoods: `knn_indices` (exact Euclidean k nearest neighbours: a k-d tree for points of up to
8 coordinates, else computed in row blocks so that 10,000 x 60,000 distances never sit in memory), `knn_accuracy` (a k-NN classifier
fitted on training points, scored on test points, as scikit-learn's KNeighborsClassifier) and
`trustworthiness` (Venna & Kaski 2001, the same definition as `sklearn.manifold.trustworthiness`,
in blocks: scikit-learn's holds an N x N rank matrix, 800 MB at MNIST's 10,000 test points).

Features: `linear_probe` (the test error of a logistic regression on a representation, its C picked
on a validation slice of the training points: how Vincent et al. 2010 judge a stack's codes), with
`error_interval` and `paired_difference` for the uncertainty of such errors.

Disentanglement, on encoder means against ground-truth factors (datasets with `factors_*`): `mig`
(Chen et al. 2018; 20-bin discretisation of each code dimension, as disentanglement_lib),
`normalised_mi` (the coordinates × factors matrix behind it), `sap` (Kumar et al. 2018) and `dci`
(Eastwood & Williams 2018: disentanglement, completeness, informativeness from gradient-boosted trees).
"""
from __future__ import annotations

import numpy as np

BLOCK = 1024  # query rows per block of distances: 1024 x 60,000 float64 is 490 MB at most
TREE_MAX_DIM = 8  # up to this many coordinates a k-d tree finds neighbours far faster than brute force


def errors(x: np.ndarray, x_hat: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image sse, mse and psnr."""
    d = (np.asarray(x_hat, np.float64) - np.asarray(x, np.float64)).reshape(len(x), -1)
    sse = (d**2).sum(1)
    mse = sse / d.shape[1]
    return {"sse": sse, "mse": mse, "psnr": 10 * np.log10(1.0 / np.maximum(mse, 1e-10))}


def summarise(x: np.ndarray, x_hat: np.ndarray, clip: bool = True) -> dict[str, float]:
    """Mean sse, mse and psnr over images; the reconstruction is clipped to [0, 1] unless clip=False."""
    e = errors(x, np.clip(x_hat, 0.0, 1.0) if clip else x_hat)
    return {k: float(v.mean()) for k, v in e.items()}


def _image_batch(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) stays; (C, H, W) or (H, W) becomes a batch of one (float64)."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 2:
        return a[None, None]
    if a.ndim == 3:
        return a[None]
    if a.ndim != 4:
        raise ValueError(f"expected images (N, C, H, W), (C, H, W) or (H, W); got shape {a.shape}")
    return a


def _pair(clean: np.ndarray, est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c, e = _image_batch(clean), np.clip(_image_batch(est), 0.0, 1.0)
    if c.shape != e.shape:
        raise ValueError(f"shapes differ: {c.shape} vs {e.shape}")
    return c, e


def psnr(clean: np.ndarray, est: np.ndarray) -> np.ndarray:
    """Per-image PSNR in dB of `est` against `clean` (pixels in [0, 1]; est is clipped to [0, 1]). Shape (N,)."""
    c, e = _pair(clean, est)
    return errors(c, e)["psnr"]


def ssim(clean: np.ndarray, est: np.ndarray) -> np.ndarray:
    """Per-image SSIM (scikit-image, data_range = 1, channels averaged; est clipped to [0, 1]). Shape (N,)."""
    from skimage.metrics import structural_similarity

    c, e = _pair(clean, est)
    h, w = c.shape[2:]
    # SSIM's default 7x7 window needs both sides >= 7; smaller images get the largest odd window that fits.
    win = min(7, h if h % 2 else h - 1, w if w % 2 else w - 1)
    if win < 3:
        raise ValueError(f"images of {h}x{w} pixels are too small for SSIM")
    out = np.empty(len(c))
    for i in range(len(c)):
        out[i] = np.mean([structural_similarity(c[i, k], e[i, k], data_range=1.0, win_size=win)
                          for k in range(c.shape[1])])
    return out


def _flat64(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return a.reshape(len(a), -1).astype(np.float64)


def _block_sq_dists(q: np.ndarray, pool: np.ndarray, pool_sq: np.ndarray) -> np.ndarray:
    d = (q**2).sum(1)[:, None] + pool_sq[None] - 2 * q @ pool.T
    return np.maximum(d, 0.0)


def knn_indices(query: np.ndarray, pool: np.ndarray, k: int, exclude=None, block: int = BLOCK) -> np.ndarray:
    """(Q, k) indices of each query's k nearest pool rows (Euclidean), nearest first.

    `exclude`: a pool index per query (or one for all; -1 for none) that is never returned, so a
    query taken from the pool does not find itself. Ties go to the lower pool index.
    """
    q_all, pool = _flat64(query), _flat64(pool)
    n = len(pool)
    k = min(int(k), n - (exclude is not None))
    ex = None if exclude is None else np.broadcast_to(np.asarray(exclude, np.int64), (len(q_all),))
    if pool.shape[1] <= TREE_MAX_DIM and k > 0:
        return _knn_tree(q_all, pool, k, ex)
    pool_sq = (pool**2).sum(1)
    out = np.empty((len(q_all), max(k, 0)), np.int64)
    for s in range(0, len(q_all), block):
        d = _block_sq_dists(q_all[s : s + block], pool, pool_sq)
        if ex is not None:
            e = ex[s : s + block]
            rows = np.flatnonzero((e >= 0) & (e < n))
            d[rows, e[rows]] = np.inf
        if k < n:
            part = np.argpartition(d, k - 1, axis=1)[:, :k] if k > 0 else np.zeros((len(d), 0), np.int64)
        else:
            part = np.broadcast_to(np.arange(n), d.shape).copy()
        dd = np.take_along_axis(d, part, 1)
        # Sort the k candidates by (distance, index) so that results do not depend on argpartition.
        order = np.lexsort((part, dd), axis=1)
        out[s : s + block] = np.take_along_axis(part, order, 1)
    return out


def _knn_tree(q: np.ndarray, pool: np.ndarray, k: int, ex) -> np.ndarray:
    """knn_indices for low-dimensional points (2-D maps, small codes) through a k-d tree: 10,000 queries
    in 60,000 points take well under a second, where the blocked brute force takes minutes."""
    from sklearn.neighbors import KDTree

    extra = int(ex is not None)
    dist, idx = KDTree(pool).query(q, k=min(k + extra, len(pool)))
    if ex is not None:
        # Drop the excluded index where the tree found it, else the farthest of the k + 1.
        hit = idx == ex[:, None]
        drop = np.where(hit.any(1), hit.argmax(1), idx.shape[1] - 1)
        keep = np.ones(idx.shape, bool)
        keep[np.arange(len(idx)), drop] = False
        idx = idx[keep].reshape(len(idx), -1)
        dist = dist[keep].reshape(len(dist), -1)
    # Nearest first, ties to the lower index (as the brute-force path orders them).
    order = np.lexsort((idx, dist), axis=1)
    return np.take_along_axis(idx, order, 1)[:, :k].astype(np.int64)


def knn_accuracy(z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray, k: int = 5) -> float:
    """Accuracy on the test points of a k-NN classifier fitted on the training points.

    Majority vote among the k nearest training points; a tie between classes goes to the lowest
    class label, as in scikit-learn's KNeighborsClassifier (whose scores this reproduces).
    """
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    idx = knn_indices(z_test, z_train, k)
    votes = y_train[idx]  # (Q, k), nearest first
    n_cls = int(max(y_train.max(), y_test.max())) + 1
    counts = np.zeros((len(votes), n_cls), np.int64)
    np.add.at(counts, (np.arange(len(votes))[:, None], votes), 1)
    pred = counts.argmax(1)  # the first (lowest) label among the most voted
    return float((pred == y_test).mean())


def trustworthiness(x: np.ndarray, z: np.ndarray, k: int = 5, block: int = BLOCK) -> float:
    """Trustworthiness of the embedding z of the points x (both (N, ...)): 1 = no false neighbours.

    T(k) = 1 - 2 / (N k (2N - 3k - 1)) * sum_i sum_{j in U_i} (r(i, j) - k), where U_i are the
    points among i's k nearest in z but not in x, and r(i, j) is j's rank among i's neighbours
    in x (1 = nearest). Same definition and value as scikit-learn's.
    """
    x, z = _flat64(x), _flat64(z)
    n = len(x)
    if k >= n / 2:
        raise ValueError(f"k = {k} must be below half the number of points ({n})")
    nn_z = knn_indices(z, z, k, exclude=np.arange(n), block=block)
    x_sq = (x**2).sum(1)
    penalty = 0.0
    for s in range(0, n, block):
        d = _block_sq_dists(x[s : s + block], x, x_sq)
        rows = np.arange(len(d))
        d[rows, s + rows] = -np.inf  # the point itself has rank 0
        dj = np.take_along_axis(d, nn_z[s : s + block], 1)  # (B, k) distances in x to the z-neighbours
        # rank of j = 1 + the number of other points strictly closer than j (the point itself sits at -inf,
        # so it is counted once). Points at exactly j's distance (duplicates) do not count: scikit-learn
        # breaks such ties in argsort's arbitrary order, here they get the lowest rank.
        # One broadcast pass (B, k, N): each row of d is compared k times while it is in cache.
        rank = (d[:, None, :] < dj[:, :, None]).sum(2)
        penalty += np.maximum(rank - k, 0).sum()
    return float(1.0 - penalty * (2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0))))


def silhouette(z: np.ndarray, y: np.ndarray, sample: int = 5000, seed: int = 0) -> float:
    """Mean silhouette of the classes in an embedding (scikit-learn's silhouette_score, Euclidean).

    Its cost and memory grow with the square of the points, so above `sample` points it is the
    score of a seeded random sample of them (scikit-learn's own sample_size option).
    """
    from sklearn.metrics import silhouette_score

    z = np.asarray(z, dtype=np.float64).reshape(len(z), -1)
    n = sample if len(z) > sample else None
    return float(silhouette_score(z, np.asarray(y), sample_size=n, random_state=seed))


def linear_probe(z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray,
                 cs: tuple[float, ...] = (0.01, 0.1, 1.0), n_val: int | None = None, max_iter: int = 300) -> dict:
    """Test error of a linear classifier on features: multinomial logistic regression on standardised
    features (scaler fitted on the fitting part), its inverse regularisation C picked among `cs` on the
    last `n_val` training points (a fifth where None, as Larochelle et al.'s 10,000 + 2,000), then used
    as fitted on the rest. -> {"error", "C", "val_error": {C: error}, "n_fit", "n_val", "n_test",
    "wrong": bool per test point (for paired comparisons)}. The test points are only used once, at the end.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    z_train, z_test = _flat64(z_train), _flat64(z_test)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    n_val = len(z_train) // 5 if n_val is None else int(n_val)
    fit, val = slice(0, len(z_train) - n_val), slice(len(z_train) - n_val, None)
    scaler = StandardScaler().fit(z_train[fit])
    zf, zv, zt = scaler.transform(z_train[fit]), scaler.transform(z_train[val]), scaler.transform(z_test)
    # From strong to weak regularisation, each fit starting from the last one's weights (far fewer iterations).
    clf = LogisticRegression(max_iter=max_iter, warm_start=True)
    best, val_error = None, {}
    for c in sorted(cs):
        clf.set_params(C=c).fit(zf, y_train[fit])
        val_error[c] = float((clf.predict(zv) != y_train[val]).mean())
        if best is None or val_error[c] < val_error[best[0]]:
            best = (c, clf.coef_.copy(), clf.intercept_.copy())
    clf.coef_, clf.intercept_ = best[1], best[2]
    wrong = clf.predict(zt) != y_test
    return {"error": float(wrong.mean()), "C": best[0], "val_error": val_error, "n_fit": int(len(zf)),
            "n_val": int(n_val), "n_test": int(len(zt)), "wrong": wrong}


def error_interval(error: float, n: int, z: float = 1.96) -> float:
    """Half-width of the normal-approximation 95% interval of an error rate measured on n points
    (Vincent et al. 2010 report their test errors with this interval)."""
    return float(z * np.sqrt(max(error * (1 - error), 0.0) / max(n, 1)))


def paired_difference(wrong_a: np.ndarray, wrong_b: np.ndarray, z: float = 1.96) -> tuple[float, float]:
    """(error of b minus error of a, half-width of its 95% interval) on the same test points: the
    paired interval (from the per-point differences), far tighter than two independent intervals."""
    d = np.asarray(wrong_b, np.float64) - np.asarray(wrong_a, np.float64)
    return float(d.mean()), float(z * d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0


# ---------------------------------------------------------------- disentanglement (ground-truth factors)
# Scored on encoder means (a VAE's mean, never a sample): codes (N, D) against factors (N, F).

MIG_BINS = 20  # disentanglement_lib's num_bins for MIG's discretisation of each code dimension
FACTOR_MAX_LEVELS = 64  # a factor with at most this many distinct values is used as it is, else binned too


def histogram_discretize(a: np.ndarray, bins: int = MIG_BINS) -> np.ndarray:
    """Each column of a (N, D) into `bins` equal-width bins over its own range, as disentanglement_lib's
    `_histogram_discretize` (np.digitize against np.histogram's left edges): labels 1..bins."""
    a = np.asarray(a, np.float64)
    out = np.zeros(a.shape, np.int64)
    for j in range(a.shape[1]):
        edges = np.histogram(a[:, j], bins)[1][:-1]
        out[:, j] = np.digitize(a[:, j], edges)
    return out


def factor_labels(factors: np.ndarray, bins: int = MIG_BINS) -> np.ndarray:
    """Integer labels of each factor column: its own distinct values where it has at most FACTOR_MAX_LEVELS
    (dSprites' grids: 3, 6, 40, 32, 32 values), else `bins` histogram bins (a continuous factor)."""
    f = np.asarray(factors, np.float64)
    out = np.zeros(f.shape, np.int64)
    for j in range(f.shape[1]):
        levels, inv = np.unique(f[:, j], return_inverse=True)
        out[:, j] = inv.ravel() if len(levels) <= FACTOR_MAX_LEVELS else histogram_discretize(f[:, j : j + 1], bins)[:, 0]
    return out


def mutual_information(codes: np.ndarray, factors: np.ndarray, bins: int = MIG_BINS) -> np.ndarray:
    """(D, F) mutual information in nats between each discretised code dimension and each factor
    (scikit-learn's `mutual_info_score` on the labels)."""
    from sklearn.metrics import mutual_info_score

    zc, fl = histogram_discretize(codes, bins), factor_labels(factors, bins)
    return np.array([[mutual_info_score(fl[:, j], zc[:, i]) for j in range(fl.shape[1])] for i in range(zc.shape[1])])


def factor_entropy(factors: np.ndarray, bins: int = MIG_BINS) -> np.ndarray:
    """(F,) entropy in nats of each factor's labels (H(v) = I(v; v), as disentanglement_lib computes it)."""
    from sklearn.metrics import mutual_info_score

    fl = factor_labels(factors, bins)
    return np.array([mutual_info_score(fl[:, j], fl[:, j]) for j in range(fl.shape[1])])


def normalised_mi(codes: np.ndarray, factors: np.ndarray, bins: int = MIG_BINS) -> np.ndarray:
    """(D, F) mutual information of each code dimension with each factor over the factor's entropy: 0 to 1,
    1 when the dimension determines the factor (up to its 20-bin resolution)."""
    h = factor_entropy(factors, bins)
    return mutual_information(codes, factors, bins) / np.where(h > 0, h, 1.0)[None]


def mig(codes: np.ndarray, factors: np.ndarray, bins: int = MIG_BINS, per_factor: bool = False):
    """Mutual Information Gap (Chen et al. 2018) as disentanglement_lib computes it: per factor, the gap between
    the two code dimensions sharing the most information with it, over its entropy; mean over factors.
    A code of one dimension has no second dimension: its gap is its normalised MI."""
    nmi = normalised_mi(codes, factors, bins)
    top = np.sort(nmi, 0)[::-1]
    gap = top[0] - (top[1] if len(top) > 1 else 0.0)
    return gap if per_factor else float(gap.mean())


def sap(codes: np.ndarray, factors: np.ndarray, per_factor: bool = False):
    """Separated Attribute Predictability (Kumar et al. 2018), disentanglement_lib's continuous variant: the score
    of code dimension i for factor j is the R² of a linear fit of the factor on that one dimension (the squared
    Pearson correlation; 0 for a constant dimension); per factor the gap between the two best dimensions;
    mean over factors."""
    z = np.asarray(codes, np.float64)
    f = np.asarray(factors, np.float64)
    zc, fc = z - z.mean(0), f - f.mean(0)
    var_z, var_f = (zc**2).mean(0), (fc**2).mean(0)
    cov = zc.T @ fc / len(z)  # (D, F)
    ok = (var_z[:, None] > 1e-12) & (var_f[None] > 1e-12)
    score = np.where(ok, cov**2 / np.where(ok, var_z[:, None] * var_f[None], 1.0), 0.0)
    top = np.sort(score, 0)[::-1]
    gap = top[0] - (top[1] if len(top) > 1 else 0.0)
    return gap if per_factor else float(gap.mean())


def dci_importance(z_train: np.ndarray, f_train: np.ndarray, z_test: np.ndarray, f_test: np.ndarray,
                   n_estimators: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(importance (D, F), informativeness (F,)) from one gradient-boosted regressor per factor (scikit-learn's
    GradientBoostingRegressor, depth-3 trees): importance[:, j] its feature importances (non-negative, summing
    to 1); informativeness[j] its R² on the test codes, clipped at 0.

    Eastwood & Williams (2018) regress each factor from the code; disentanglement_lib classifies the factor's
    values with GradientBoostingClassifier instead, which needs one tree per value per round (40 for
    dSprites' orientation) and takes minutes on two cores. The importance matrix, hence D and C, comes out
    alike; informativeness here is an R², not an accuracy."""
    from sklearn.ensemble import GradientBoostingRegressor

    z_train, z_test = np.asarray(z_train, np.float64), np.asarray(z_test, np.float64)
    f_train, f_test = np.asarray(f_train, np.float64), np.asarray(f_test, np.float64)
    imp = np.zeros((z_train.shape[1], f_train.shape[1]))
    info = np.zeros(f_train.shape[1])
    for j in range(f_train.shape[1]):
        mu, sd = f_train[:, j].mean(), f_train[:, j].std()
        if not sd > 0:
            continue
        reg = GradientBoostingRegressor(n_estimators=n_estimators, max_depth=3, random_state=seed)
        reg.fit(z_train, (f_train[:, j] - mu) / sd)
        imp[:, j] = np.abs(reg.feature_importances_)
        info[j] = max(0.0, float(reg.score(z_test, (f_test[:, j] - mu) / sd)))
    return imp, info


def _entropy_rows(p: np.ndarray, base: int) -> np.ndarray:
    """Entropy (log base `base`) of each row of non-negative weights, normalised to sum to 1."""
    p = p / np.maximum(p.sum(1, keepdims=True), 1e-12)
    logp = np.log(np.where(p > 0, p, 1.0)) / np.log(base)
    return -(p * logp).sum(1)


def dci_from_importance(importance: np.ndarray) -> tuple[float, float]:
    """(disentanglement, completeness) of a (D, F) importance matrix, as Eastwood & Williams define them and
    disentanglement_lib computes them: each code dimension's 1 − entropy (base F) of its importance over the
    factors, weighted by its share of all importance; each factor's 1 − entropy (base D) of its importance
    over the dimensions, weighted likewise."""
    r = np.abs(np.asarray(importance, np.float64))
    total = r.sum()
    if total <= 0:
        return 0.0, 0.0
    d_f, n_f = r.shape
    dis = 1.0 - _entropy_rows(r, n_f) if n_f > 1 else np.ones(d_f)
    com = 1.0 - _entropy_rows(r.T, d_f) if d_f > 1 else np.ones(n_f)
    return float((dis * r.sum(1) / total).sum()), float((com * r.sum(0) / total).sum())


def dci(z_train, f_train, z_test, f_test, n_estimators: int = 50, seed: int = 0) -> dict[str, float]:
    """DCI (Eastwood & Williams 2018): disentanglement, completeness and informativeness (mean test R²)."""
    imp, info = dci_importance(z_train, f_train, z_test, f_test, n_estimators, seed)
    d, c = dci_from_importance(imp)
    return {"disentanglement": d, "completeness": c, "informativeness": float(info.mean())}
