"""The benchmark suite: every quality and speed figure the README quotes, measured in one run.

    python -m ae_core bench                      # full run on mnist-5k, writes benchmarks/results.{json,md}
    python -m ae_core bench --quick --out /tmp/b # tiny sizes, same code paths (CI runs this)
    python benchmarks/run.py --only recon,speed --dataset digits

Sections (each on the dataset's held-out test split, fixed seeds):
    recon    held-out squared error per image and PSNR: PCA, linear AE, AE, conv AE, VAE at each latent dim
    embed    2-D embeddings: kNN accuracy (k = 1, 5) and trustworthiness (k = 5): PCA, Isomap, LLE, t-SNE, AE, VAE
    denoise  PSNR / SSIM under five corruptions: noisy input, 3x3 median, non-local means, AE, DAE, SDAE
    speed    training throughput vs a DataLoader loop and a bare loop, FLOP/s vs a big matmul,
             encode / decode latency, peak memory of training and of the loaded model store
    compress ae_core.compress.rate_distortion when that module exists (skipped otherwise)

Every number in results.json / results.md comes from the run that wrote them; goals are checked
against the measured figure, never typed in. The benchmark needs only the stable parts of
ae_core (data, models, training, workflow, evaluate, noise, store); the metrics are computed here
with scikit-learn / scikit-image / scipy directly so that it does not move when pages' helpers do.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/run.py` from anywhere
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ae_core import data as data_mod  # noqa: E402
from ae_core import evaluate, models, noise, store, workflow  # noqa: E402
from ae_core.training import TrainConfig, split_validation, train  # noqa: E402

SECTIONS = ("recon", "embed", "denoise", "speed", "compress")
RECON_KINDS = ("linear", "ae", "conv", "vae")
NOISES = ("gaussian:0.3", "gaussian:0.5", "masking:0.25", "masking:0.5", "salt-pepper:0.2")

# Published figures, quoted beside ours for context only (never used to decide a goal).
REFERENCES = {
    "recon": "Hinton & Salakhutdinov (2006), full MNIST, 30-D code: deep AE 3.00 vs PCA 13.87 squared error per image.",
    "embed": "Parametric UMAP paper (Sainburg et al. 2021), full MNIST, 2-D: 5-NN accuracy PCA 0.42, AE 0.79, t-SNE 0.95.",
    "denoise": "Vincent et al. (2010): stacked denoising AEs with masking noise.",
}


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
    # embeddings
    manifold_fit_n: int = 2000  # Isomap / LLE fitted on this many training images
    manifold_neighbors: int = 10
    tsne_max_train: int = 10_000  # t-SNE embeds at most this many training images (+ the test set)
    tsne_iter: int = 1000
    trust_max_test: int = 2000  # trustworthiness is O(n^2): first n test points
    # denoising
    noises: tuple[str, ...] = NOISES
    denoise_latent: int = 30
    nlm_h_grid: tuple[float, ...] = (0.04, 0.08, 0.12, 0.18, 0.25, 0.35, 0.5)
    nlm_patch_size: int = 5
    nlm_patch_distance: int = 6
    nlm_val_n: int = 100
    median_size: int = 3
    # speed
    speed_kind: str = "ae"
    speed_latent: int = 2
    speed_epochs: int = 3
    speed_repeats: int = 5  # best of n, interleaved: the machine may be shared
    speed_batch_grid: tuple[int, ...] = (64, 256, 1024, 4096)
    matmul_n: int = 2048
    matmul_repeats: int = 7
    encode_repeats: int = 30
    decode_repeats: int = 300
    memory_epochs: int = 2
    models_root: str | None = None
    threads: int | None = None

    @classmethod
    def quick_mode(cls, **kw) -> "Settings":
        base = dict(
            quick=True, n_train=500, n_test=200, dims=(2,), epochs=1, manifold_fit_n=300, tsne_iter=250,
            noises=("masking:0.5",), denoise_latent=30, nlm_h_grid=(0.1, 0.3), nlm_val_n=10,
            speed_epochs=1, speed_repeats=1, speed_batch_grid=(64, 256), matmul_n=512, matmul_repeats=3,
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


def _f(x) -> float:
    return float(x)


def _flat(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).reshape(len(x), -1)


def _goal(section: str, name: str, measured: float, op: str, target: float, text: str, detail: str = "") -> dict:
    ok = measured <= target if op == "<=" else measured >= target if op == ">=" else measured < target
    return {"section": section, "name": name, "goal": text, "measured": _f(measured), "op": op,
            "target": _f(target), "passed": bool(ok and math.isfinite(measured)), "detail": detail}


def _subset(ds: data_mod.Dataset, n_train: int | None, n_test: int | None) -> data_mod.Dataset:
    """The first n of each split (splits are shuffled and stratified, so prefixes stay balanced)."""
    if n_train is None and n_test is None:
        return ds
    tr, te = slice(n_train), slice(n_test)
    return dataclasses.replace(
        ds, x_train=ds.x_train[tr], y_train=ds.y_train[tr], x_test=ds.x_test[te], y_test=ds.y_test[te],
        t_train=None if ds.t_train is None else ds.t_train[tr], t_test=None if ds.t_test is None else ds.t_test[te])


# ---------------------------------------------------------------- machine


def machine_info() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    import scipy
    import skimage
    import sklearn

    return {
        "platform": platform.platform(), "python": platform.python_version(), "cpu_model": cpu,
        "cpu_count": os.cpu_count(), "cpus_usable": affinity, "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(), "load_average_at_start": load,
        "torch": torch.__version__, "numpy": np.__version__, "sklearn": sklearn.__version__,
        "skimage": skimage.__version__, "scipy": scipy.__version__,
        "cuda": torch.cuda.is_available(), "train_device": "auto (ae_core.training.resolve_device)",
    }


# ---------------------------------------------------------------- 1. reconstruction


def _train_standard(kind: str, latent: int, ds: data_mod.Dataset, s: Settings, cache: dict, log: Log,
                    **extra) -> workflow.TrainResult:
    """Train `kind` with workflow.standard_config at `latent` (epochs capped by s.epochs); cached per run."""
    key = (kind, latent, tuple(sorted(extra.items())))
    if key in cache:
        return cache[key]
    overrides, tkw = workflow.standard_config(kind, latent)
    overrides = {**overrides, **extra}
    tkw = {**tkw, "seed": s.seed}
    if s.epochs is not None:
        tkw["epochs"] = s.epochs
    t0 = time.perf_counter()
    res = workflow.train_on(kind, ds, TrainConfig(**tkw), **overrides)
    res.wall_seconds = time.perf_counter() - t0  # type: ignore[attr-defined]
    res.overrides = overrides  # type: ignore[attr-defined]
    epochs_run = sum(len(st.train) for st in res.history.stages)
    log(f"  trained {kind}-{latent}d {overrides} in {res.wall_seconds:.1f}s ({epochs_run} epochs over "
        f"{len(res.history.stages)} stage(s)); test sq.err {res.metrics['test']['sse']:.2f}")
    cache[key] = res
    return res


def _history_summary(res: workflow.TrainResult) -> dict:
    return {
        "stages": [{"name": st.name, "epochs_run": len(st.train), "best_epoch": st.best_epoch + 1,
                    "seconds": round(st.seconds, 2)} for st in res.history.stages],
        "epochs_run": sum(len(st.train) for st in res.history.stages),
        "train_seconds": round(res.history.seconds, 2),
        "train_config": dataclasses.asdict(res.train_config),
        "model_config": models.config_to_dict(res.model.config),
    }


def section_recon(ds: data_mod.Dataset, s: Settings, cache: dict, log: Log) -> tuple[dict, list]:
    rows = []
    kinds = [k for k in s.recon_kinds if ds.is_image or k != "conv"]
    for d in s.dims:
        t0 = time.perf_counter()
        p = evaluate.pca_metrics(ds.x_train, ds.x_test, d)
        rows.append({"model": "PCA", "kind": "pca", "latent": d, **p, "ratio_to_pca": 1.0,
                     "seconds": round(time.perf_counter() - t0, 2)})
        log(f"recon: PCA-{d} sq.err {p['sse']:.2f} PSNR {p['psnr']:.2f} dB")
        for kind in kinds:
            res = _train_standard(kind, d, ds, s, cache, log)
            t = res.metrics["test"]
            rows.append({"model": {"linear": "linear AE", "ae": "AE", "conv": "conv AE", "vae": "VAE"}.get(kind, kind),
                         "kind": kind, "latent": d, **t, "ratio_to_pca": t["sse"] / p["sse"],
                         "seconds": round(res.wall_seconds, 2), **_history_summary(res)})
            log(f"recon: {kind}-{d} sq.err {t['sse']:.2f} (PCA {p['sse']:.2f}, ratio {t['sse'] / p['sse']:.3f}) "
                f"PSNR {t['psnr']:.2f} dB")
    goals = []
    for d, target in ((2, 0.75), (30, 0.55)):
        r = next((r for r in rows if r["kind"] == "ae" and r["latent"] == d), None)
        if r is not None:
            goals.append(_goal("recon", f"AE/PCA squared error at {d}-D", r["ratio_to_pca"], "<=", target,
                               f"AE <= {target} x PCA squared error at {d}-D"))
    note = ("Each model uses ae_core.workflow.standard_config(kind, latent) for its architecture and training "
            "settings, trained by workflow.train_on on the same training images with the same seed"
            + (f" and the same epoch cap ({s.epochs}, early stopping still on)" if s.epochs is not None else
               " and standard_config's own epochs")
            + "; 10% of the training split is held out inside training for early stopping. "
              "Squared error is summed over pixels per image and averaged over the test split; PSNR is the mean "
              "over test images of 10 log10(1 / per-image MSE); outputs clipped to [0, 1]. "
              "The VAE reconstructs from the posterior mean.")
    return {"rows": rows, "dims": list(s.dims), "kinds": ["pca", *kinds], "note": note,
            "reference": REFERENCES["recon"]}, goals


# ---------------------------------------------------------------- 2. embeddings


def _knn_scores(z_train, z_test, y_train, y_test) -> dict:
    from sklearn.neighbors import KNeighborsClassifier

    return {f"knn{k}": _f(KNeighborsClassifier(n_neighbors=k).fit(z_train, y_train).score(z_test, y_test)) for k in (1, 5)}


def section_embed(ds: data_mod.Dataset, s: Settings, cache: dict, log: Log) -> tuple[dict, list]:
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE, Isomap, LocallyLinearEmbedding, trustworthiness

    xtr, xte = _flat(ds.x_train), _flat(ds.x_test)
    n_trust = min(len(xte), s.trust_max_test)
    m_fit = min(len(xtr), s.manifold_fit_n)
    rows = []

    def add(method, z_train, z_test, seconds, note=""):
        sc = _knn_scores(z_train, z_test, ds.y_train, ds.y_test)
        sc["trust5"] = _f(trustworthiness(xte[:n_trust], z_test[:n_trust], n_neighbors=5))
        rows.append({"method": method, **sc, "seconds": round(seconds, 2), "note": note})
        log(f"embed: {method:8s} 1-NN {sc['knn1']:.3f} 5-NN {sc['knn5']:.3f} trust(5) {sc['trust5']:.3f} ({seconds:.1f}s)")

    t0 = time.perf_counter()
    pca = PCA(2, random_state=s.seed).fit(xtr)
    add("PCA", pca.transform(xtr), pca.transform(xte), time.perf_counter() - t0, "fitted on the whole training split")

    for name, est in (
        ("Isomap", Isomap(n_neighbors=s.manifold_neighbors, n_components=2)),
        ("LLE", LocallyLinearEmbedding(n_neighbors=s.manifold_neighbors, n_components=2, eigen_solver="dense",
                                       random_state=s.seed)),
    ):
        t0 = time.perf_counter()
        est.fit(xtr[:m_fit])
        add(name, est.transform(xtr), est.transform(xte), time.perf_counter() - t0,
            f"fitted on the first {m_fit} training images, {s.manifold_neighbors} neighbours; train and test mapped by transform()")

    t0 = time.perf_counter()
    n_ts = min(len(xtr), s.tsne_max_train)
    joint = np.concatenate([xtr[:n_ts], xte])
    z = TSNE(2, perplexity=min(30.0, (len(joint) - 1) / 3), init="pca", max_iter=s.tsne_iter,
             random_state=s.seed).fit_transform(joint)
    zt_train, zt_test = z[:n_ts], z[n_ts:]
    # kNN for t-SNE is fitted on the jointly embedded training points only.
    from sklearn.neighbors import KNeighborsClassifier

    sc = {f"knn{k}": _f(KNeighborsClassifier(n_neighbors=k).fit(zt_train, ds.y_train[:n_ts]).score(zt_test, ds.y_test))
          for k in (1, 5)}
    sc["trust5"] = _f(trustworthiness(xte[:n_trust], zt_test[:n_trust], n_neighbors=5))
    secs = time.perf_counter() - t0
    rows.append({"method": "t-SNE", **sc, "seconds": round(secs, 2),
                 "note": f"no out-of-sample transform: {n_ts} training + {len(xte)} test images embedded jointly "
                         f"(perplexity 30, PCA init, {s.tsne_iter} iterations); the test images took part in the fit"})
    log(f"embed: t-SNE    1-NN {sc['knn1']:.3f} 5-NN {sc['knn5']:.3f} trust(5) {sc['trust5']:.3f} ({secs:.1f}s)")

    for kind, label in (("ae", "AE-2D"), ("vae", "VAE-2D")):
        res = _train_standard(kind, 2, ds, s, cache, log)
        t0 = time.perf_counter()
        zr, ze = evaluate.encode(res.model, ds.x_train), evaluate.encode(res.model, ds.x_test)
        add(label, zr, ze, res.wall_seconds + time.perf_counter() - t0,
            f"standard_config({kind!r}, 2) trained on the training split; encoder (posterior mean for the VAE) applied "
            "to train and test; seconds include training")

    pix = _knn_scores(xtr, xte, ds.y_train, ds.y_test)
    log(f"embed: pixel-space reference 1-NN {pix['knn1']:.3f} 5-NN {pix['knn5']:.3f}")
    by = {r["method"]: r for r in rows}
    goals = [_goal("embed", "AE-2D minus PCA-2D 5-NN accuracy", by["AE-2D"]["knn5"] - by["PCA"]["knn5"], ">=", 0.25,
                   "AE-2D 5-NN accuracy at least 0.25 above PCA-2D",
                   f"AE {by['AE-2D']['knn5']:.3f}, PCA {by['PCA']['knn5']:.3f}")]
    note = ("kNN classifiers are fitted on the training embedding and scored on the test embedding (k = 1, 5); "
            f"trustworthiness (k = 5) compares the first {n_trust} test images' neighbourhoods in pixel space "
            "with those in the embedding.")
    return {"rows": rows, "pixel_space_knn": pix, "note": note, "reference": REFERENCES["embed"],
            "manifold_fit_n": m_fit, "tsne_train_n": n_ts, "trust_test_n": n_trust}, goals


# ---------------------------------------------------------------- 3. denoising


def _psnr(clean: np.ndarray, est: np.ndarray) -> np.ndarray:
    return evaluate.errors(clean, np.clip(est, 0.0, 1.0))["psnr"]


def _ssim(clean: np.ndarray, est: np.ndarray) -> np.ndarray:
    from skimage.metrics import structural_similarity

    est = np.clip(est, 0.0, 1.0)
    out = np.empty(len(clean))
    for i in range(len(clean)):
        a, b = clean[i], est[i]
        if a.shape[0] == 1:
            out[i] = structural_similarity(a[0], b[0], data_range=1.0)
        else:
            out[i] = structural_similarity(a, b, data_range=1.0, channel_axis=0)
    return out


def _median(x: np.ndarray, size: int) -> np.ndarray:
    from scipy.ndimage import median_filter

    return median_filter(x, size=(1, 1, size, size), mode="reflect")


def _nlm(x: np.ndarray, h: float, s: Settings) -> np.ndarray:
    from skimage.restoration import denoise_nl_means

    out = np.empty_like(x)
    for i in range(len(x)):
        img = x[i]
        if img.shape[0] == 1:
            out[i, 0] = denoise_nl_means(img[0], h=h, patch_size=s.nlm_patch_size,
                                         patch_distance=s.nlm_patch_distance, fast_mode=True)
        else:
            out[i] = denoise_nl_means(img, h=h, patch_size=s.nlm_patch_size, patch_distance=s.nlm_patch_distance,
                                      fast_mode=True, channel_axis=0)
    return out


def section_denoise(ds: data_mod.Dataset, s: Settings, cache: dict, log: Log) -> tuple[dict, list]:
    if not ds.is_image:
        return {"skipped": f"{ds.name} is not an image dataset"}, []
    L = s.denoise_latent
    nets = {}
    for kind, label in (("ae", "AE"), ("dae", "DAE"), ("sdae", "SDAE")):
        res = _train_standard(kind, L, ds, s, cache, log)
        nets[label] = res
    val = ds.x_train[-min(s.nlm_val_n, len(ds.x_train)):]
    results, tuning = {}, {}
    for j, spec in enumerate(s.noises):
        t0 = time.perf_counter()
        x_noisy = noise.corrupt(ds.x_test, spec, seed=s.seed + 100 + j)
        v_noisy = noise.corrupt(val, spec, seed=s.seed + 200 + j)
        grid = {h: _f(_psnr(val, _nlm(v_noisy, h, s)).mean()) for h in s.nlm_h_grid}
        best_h = max(grid, key=grid.get)
        tuning[spec] = {"val_psnr_by_h": {f"{h:g}": v for h, v in grid.items()}, "best_h": best_h}
        outs = {"noisy input": x_noisy, f"median {s.median_size}x{s.median_size}": _median(x_noisy, s.median_size),
                "NL-means": _nlm(x_noisy, best_h, s)}
        for label, res in nets.items():
            outs[label] = evaluate.reconstruct(res.model, x_noisy)
        results[spec] = {m: {"psnr": _f(_psnr(ds.x_test, o).mean()), "ssim": _f(_ssim(ds.x_test, o).mean())}
                         for m, o in outs.items()}
        log(f"denoise: {spec:16s} " + "  ".join(f"{m} {r['psnr']:.2f}dB/{r['ssim']:.3f}" for m, r in results[spec].items())
            + f"  (NL-means h={best_h:g}; {time.perf_counter() - t0:.1f}s)")
    goals = []
    classical = [m for m in next(iter(results.values())) if m.startswith("median") or m == "NL-means"]
    for spec in ("gaussian:0.5", "masking:0.5"):
        if spec in results:
            r = results[spec]
            best = max(classical, key=lambda m: r[m]["psnr"])
            goals.append(_goal("denoise", f"DAE minus best classical filter PSNR at {spec}",
                               r["DAE"]["psnr"] - r[best]["psnr"], ">=", 3.0,
                               f"DAE >= 3 dB above the best classical filter at {spec}",
                               f"DAE {r['DAE']['psnr']:.2f} dB, {best} {r[best]['psnr']:.2f} dB"))
    for spec in s.noises:
        if spec.startswith("masking"):
            r = results[spec]
            goals.append(_goal("denoise", f"SDAE minus DAE PSNR at {spec}", r["SDAE"]["psnr"] - r["DAE"]["psnr"], ">=", 0.0,
                               f"SDAE >= DAE under {spec} (Vincent et al. 2010)",
                               f"SDAE {r['SDAE']['psnr']:.2f} dB, DAE {r['DAE']['psnr']:.2f} dB"))
    models_info = {label: {"kind": res.model.kind, "noise_trained_on": getattr(res.model.config, "noise", "none"),
                           **_history_summary(res)} for label, res in nets.items()}
    note = (f"All three networks: latent {L}, standard_config of their kind, same training images, seed and epoch budget; "
            "'AE' has no input noise, 'DAE' is kind dae with its default mixed noise (one model for all noise types), "
            "'SDAE' is kind sdae (greedy stages with masking noise, then fine-tuned). Test images corrupted with "
            f"fixed seeds; NL-means (skimage, patch {s.nlm_patch_size}, distance {s.nlm_patch_distance}, fast mode) "
            f"uses the h of the grid {list(s.nlm_h_grid)} with the best PSNR on {len(val)} validation images from the "
            "end of the training split, tuned per noise. PSNR: mean over images; SSIM: skimage, data_range=1.")
    return {"results": results, "nlm_tuning": tuning, "models": models_info, "noises": list(s.noises), "latent": L,
            "note": note, "reference": REFERENCES["denoise"]}, goals


# ---------------------------------------------------------------- 4. speed


class _UInt8Images(torch.utils.data.Dataset):
    """The Dataset people copy from pytorch/examples: uint8 images, a per-item ToTensor-style transform."""

    def __init__(self, x_uint8: np.ndarray, y: np.ndarray, transform: Callable):
        self.x, self.y, self.transform = x_uint8, y, transform

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i):
        return self.transform(self.x[i]), int(self.y[i])


def _to_tensor():
    try:
        from torchvision import transforms

        return transforms.ToTensor(), "torchvision.transforms.ToTensor"
    except ImportError:  # same conversion: HxW uint8 -> 1xHxW float in [0, 1]
        return (lambda a: torch.from_numpy(np.ascontiguousarray(a)).unsqueeze(0).float().div(255)), "ToTensor-equivalent lambda"


def _dataloader_loop(model, x_uint8, y, batch, epochs, lr, seed) -> float:
    transform, _ = _to_tensor()
    items = x_uint8[:, 0] if x_uint8.shape[1] == 1 else np.moveaxis(x_uint8, 1, -1)  # HxW(xC), like PIL/numpy images
    loader = torch.utils.data.DataLoader(_UInt8Images(items, y, transform), batch_size=batch, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    model.train()
    t0 = time.perf_counter()
    for _ in range(epochs):
        for xb, _yb in loader:
            opt.zero_grad()
            loss = model.loss(xb, g)["loss"]
            loss.backward()
            opt.step()
    return time.perf_counter() - t0


def _bare_loop(model, x, batch, epochs, lr, seed) -> float:
    xt = torch.as_tensor(x)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    model.train()
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), batch):
            xb = xt[perm[i:i + batch]]
            opt.zero_grad()
            loss = model.loss(xb, g)["loss"]
            loss.backward()
            opt.step()
    return time.perf_counter() - t0


def _ae_core_loop(model, x, batch, epochs, lr, seed) -> float:
    cfg = TrainConfig(epochs=epochs, batch_size=batch, lr=lr, seed=seed, patience=0, device="cpu")
    t0 = time.perf_counter()
    train(model, x, cfg)
    return time.perf_counter() - t0


def _linear_macs(model: torch.nn.Module) -> int:
    return sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))


def _matmul_flops(n: int, repeats: int) -> tuple[float, list[float]]:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    a @ b  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / min(times), times


def _median_ms(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return _f(np.median(ts) * 1e3)


# Peak RSS is read from /proc/self/status VmHWM (KiB): on Linux, ru_maxrss survives exec, so a child
# started from this (large) process would report the parent's peak; VmHWM belongs to the child's own
# memory map. ru_maxrss is recorded beside it for platforms without /proc.
_MEM_PRELUDE = """
import json, resource, sys
sys.path.insert(0, {root!r})
def _status(key):
    try:
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None
def peak_kb():
    v = _status("VmHWM")
    return v if v is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
def rss_kb():
    v = _status("VmRSS")
    return v if v is not None else peak_kb()
import_start = peak_kb()
"""

_MEM_TRAIN = _MEM_PRELUDE + """
import torch
{threads}
from ae_core import data, models, workflow
from ae_core.training import TrainConfig, train
ds = data.load_dataset({dataset!r})
x = ds.x_train[:{n}]
before, rss_before = peak_kb(), rss_kb()
over, tkw = workflow.standard_config({kind!r}, {latent})
model = models.build({kind!r}, seed={seed}, input_shape=ds.sample_shape, **over)
train(model, x, TrainConfig(epochs={epochs}, batch_size=tkw["batch_size"], seed={seed}, patience=0))
print(json.dumps({{"after_data_kb": before, "rss_after_data_kb": rss_before, "peak_kb": peak_kb(),
                  "rss_end_kb": rss_kb(), "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""

_MEM_MODELS = _MEM_PRELUDE + """
import torch
from ae_core import store
before = peak_kb()
loaded, errors, params = [], {{}}, 0
held = []
for info in store.list_models({models_root!r}):
    try:
        m, _ = store.load(info.name, {models_root!r})
        held.append(m)
        loaded.append(info.name)
        params += sum(p.numel() for p in m.parameters())
    except Exception as e:
        errors[info.name] = str(e)
print(json.dumps({{"after_import_kb": before, "peak_kb": peak_kb(), "rss_end_kb": rss_kb(), "loaded": loaded, "errors": errors,
                  "parameters": params, "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def _run_children(codes: list[str]) -> list[dict]:
    """Run each snippet in a fresh interpreter, all at once (only their peak memory is read, not their time)."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", c], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=str(ROOT)) for c in codes]
    outs = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=1800)
        if p.returncode != 0:
            raise RuntimeError(f"memory subprocess failed: {stderr.strip()[-800:]}")
        out = json.loads(stdout.strip().splitlines()[-1])
        out["seconds"] = round(time.perf_counter() - t0, 2)
        outs.append(out)
    return outs


def section_speed(ds: data_mod.Dataset, s: Settings, cache: dict, log: Log) -> tuple[dict, list]:
    over, tkw = workflow.standard_config(s.speed_kind, s.speed_latent)
    lr = TrainConfig().lr
    x = np.ascontiguousarray(ds.x_train, dtype=np.float32)
    # ae_core.train holds out its validation slice; the other loops get exactly the images it fits on.
    fit_idx, _ = split_validation(len(x), TrainConfig().val_fraction, s.seed)
    x_fit = x[fit_idx]
    y_fit = ds.y_train[fit_idx]
    x_u8 = np.round(x_fit * 255).astype(np.uint8)

    def fresh():
        return models.build(s.speed_kind, seed=s.seed, input_shape=ds.sample_shape, **over)

    macs = _linear_macs(fresh())
    flops_per_image = 3 * 2 * macs  # training ~ forward + backward (2x forward)
    log(f"speed: model {s.speed_kind}-{s.speed_latent}d {over}: {macs:,} multiply-adds per image forward, "
        f"training counted as 3x = {flops_per_image / 1e6:.2f} MFLOP per image")

    mm_flops, mm_times = _matmul_flops(s.matmul_n, s.matmul_repeats)
    log(f"speed: {s.matmul_n}x{s.matmul_n} float32 matmul best of {s.matmul_repeats}: {mm_flops / 1e9:.1f} GFLOP/s")

    images = s.speed_epochs * len(x_fit)
    # Batch grid for ae_core.training.train: the throughput goal is judged at the best batch size.
    grid = {}
    for b in s.speed_batch_grid:
        secs = min(_ae_core_loop(fresh(), x, b, s.speed_epochs, lr, s.seed) for _ in range(max(1, s.speed_repeats - 1)))
        grid[b] = images / secs
        log(f"speed: ae_core.train batch {b:5d}: {grid[b]:9.0f} images/s = {grid[b] * flops_per_image / 1e9:6.1f} GFLOP/s")
    best_batch = max(grid, key=grid.get)
    loops = {}
    for b in sorted({int(tkw["batch_size"]), best_batch}):
        times = {"ae_core.train": [], "DataLoader (pytorch/examples)": [], "bare tensor loop": []}
        for _ in range(s.speed_repeats):  # interleaved so a burst of load hits all three alike
            times["ae_core.train"].append(_ae_core_loop(fresh(), x, b, s.speed_epochs, lr, s.seed))
            times["DataLoader (pytorch/examples)"].append(_dataloader_loop(fresh(), x_u8, y_fit, b, s.speed_epochs, lr, s.seed))
            times["bare tensor loop"].append(_bare_loop(fresh(), x_fit, b, s.speed_epochs, lr, s.seed))
        ips = {k: images / min(v) for k, v in times.items()}
        loops[str(b)] = {"images_per_s": ips, "seconds": times,
                         "gflops": {k: v * flops_per_image / 1e9 for k, v in ips.items()},
                         "ratio_vs_dataloader": ips["ae_core.train"] / ips["DataLoader (pytorch/examples)"],
                         "ratio_vs_bare": ips["ae_core.train"] / ips["bare tensor loop"]}
        log(f"speed: batch {b}: " + ", ".join(f"{k} {v:.0f} img/s" for k, v in ips.items())
            + f"; ratios {loops[str(b)]['ratio_vs_dataloader']:.2f}x vs DataLoader, {loops[str(b)]['ratio_vs_bare']:.2f}x vs bare")
    tuned = loops[str(best_batch)]
    train_flops = tuned["images_per_s"]["ae_core.train"] * flops_per_image

    # Latency: the app's paths (numpy in, numpy out through ae_core.evaluate). Timing does not depend on the
    # weights, so freshly built standard models are used (the section runs on its own with --only speed).
    from sklearn.decomposition import PCA

    latency = {}
    for kind, d in (("ae", 2), ("ae", 30), ("vae", 2), *((("conv", 2),) if ds.is_image else ())):
        o, _ = workflow.standard_config(kind, d)
        m = models.build(kind, seed=s.seed, input_shape=ds.sample_shape, **o).eval()
        z0 = np.zeros((1, d), np.float32)
        if d == 2:
            enc = _median_ms(lambda: evaluate.encode(m, ds.x_test), s.encode_repeats)
            what = "encode test split (already 2-D)"
        else:
            enc = _median_ms(lambda: PCA(2, random_state=s.seed).fit_transform(evaluate.encode(m, ds.x_test)), s.encode_repeats)
            what = "encode test split + PCA 2-D projection"
        dec = _median_ms(lambda: evaluate.decode(m, z0), s.decode_repeats)
        latency[f"{kind}-{d}d"] = {"encode_ms": enc, "encode_what": what, "n_test": len(ds.x_test), "decode_one_ms": dec}
        log(f"speed: {kind}-{d}d {what} ({len(ds.x_test)} images) {enc:.1f} ms median; decode one point {dec:.3f} ms median")

    log("speed: peak memory in fresh subprocesses (/proc/self/status VmHWM; psutil "
        + ("installed" if _has("psutil") else "not installed") + ")")
    threads = f"torch.set_num_threads({s.threads})" if s.threads else ""
    root = s.models_root or str(store.default_root())
    mem_train, mem_models = _run_children([
        _MEM_TRAIN.format(root=str(ROOT), threads=threads,
                          dataset=s.dataset,
                          n=len(ds.x_train), kind=s.speed_kind, latent=s.speed_latent, seed=s.seed,
                          epochs=s.memory_epochs),
        _MEM_MODELS.format(root=str(ROOT), models_root=root)])
    mem_models["models_root"] = root
    log(f"speed: training peak RSS {mem_train['peak_kb'] / 1024:.0f} MiB (peak after imports + data load "
        f"{mem_train['after_data_kb'] / 1024:.0f} MiB, resident then {mem_train['rss_after_data_kb'] / 1024:.0f} MiB); "
        f"{len(mem_models['loaded'])} shipped models loaded: {mem_models['peak_kb'] / 1024:.0f} MiB "
        f"(after import {mem_models['after_import_kb'] / 1024:.0f} MiB)")

    std = loops[str(int(tkw["batch_size"]))]
    slowest = max(latency, key=lambda k: latency[k]["decode_one_ms"])
    big = loops[str(best_batch)]
    worst_bare = min(loops, key=lambda b: loops[b]["ratio_vs_bare"])
    goals = [
        # The DataLoader's cost is per image, so it shows at the batch size models are trained with; the
        # large-batch figure is reported beside it.
        _goal("speed", "ae_core.train / DataLoader loop throughput", std["ratio_vs_dataloader"], ">=", 1.5,
              f"training throughput >= 1.5x the pytorch/examples DataLoader loop (standard batch {tkw['batch_size']})",
              f"at batch {best_batch}: {big['ratio_vs_dataloader']:.2f}x"),
        _goal("speed", "ae_core.train / bare loop throughput", loops[worst_bare]["ratio_vs_bare"], ">=", 0.95,
              "training throughput >= 0.95x a bare tensor-batch loop (the lower of the two batch sizes' ratios)",
              ", ".join(f"batch {b}: {L['ratio_vs_bare']:.2f}x" for b, L in loops.items())),
        _goal("speed", "training FLOP/s as a fraction of matmul FLOP/s", train_flops / mm_flops, ">=", 0.70,
              f"achieved training FLOP/s >= 70% of a {s.matmul_n}^3 matmul",
              f"{train_flops / 1e9:.1f} vs {mm_flops / 1e9:.1f} GFLOP/s at batch {best_batch}"),
        _goal("speed", "slowest decode of one latent point (ms)", latency[slowest]["decode_one_ms"], "<", 5.0,
              "decoding one latent point (slider path) under 5 ms", f"median over {s.decode_repeats} calls; slowest model {slowest}"),
    ]
    note = (f"Model: {s.speed_kind} standard_config latent {s.speed_latent}; {len(x_fit)} images per epoch, "
            f"{s.speed_epochs} epochs per measurement, best of {s.speed_repeats} interleaved repeats. "
            "ae_core.train's time includes its per-epoch validation pass and best-weights copy. The DataLoader loop "
            f"stores uint8 images and converts each with {_to_tensor()[1]} (num_workers=0, shuffle); the bare loop "
            "slices a float tensor by a random permutation. All three use Adam (lr 1e-3), model.loss, the same batch size "
            "and a freshly built model with the same seed. FLOPs: 2 x sum(in*out) of the Linear layers per image "
            "forward, training = 3x forward.")
    return {"model": {"kind": s.speed_kind, "latent": s.speed_latent, "config": over, "macs_forward": macs,
                      "train_flops_per_image": flops_per_image},
            "matmul": {"n": s.matmul_n, "gflops": mm_flops / 1e9, "seconds": mm_times},
            "batch_grid_images_per_s": {str(k): v for k, v in grid.items()}, "best_batch": best_batch,
            "standard_batch": int(tkw["batch_size"]), "loops": loops,
            "train_gflops": train_flops / 1e9, "flops_fraction_of_matmul": train_flops / mm_flops,
            "latency": latency, "memory": {"training": mem_train, "models_loaded": mem_models,
                                           "method": "peak RSS (VmHWM of /proc/self/status; ru_maxrss where /proc is missing) of a fresh subprocess, KiB; "
                                                     "ru_maxrss is not used on Linux because it keeps the parent's peak across exec",
                                           "psutil_installed": _has("psutil")},
            "torch_threads": torch.get_num_threads(), "note": note}, goals


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# ---------------------------------------------------------------- 5. compression (optional)


def section_compress(ds: data_mod.Dataset, s: Settings, cache: dict, log: Log) -> tuple[dict, list]:
    """ae_core.compress.rate_distortion (a colleague's module), when present: AE codec vs JPEG / WebP."""
    try:
        from ae_core import compress  # type: ignore[attr-defined]
    except ImportError as e:
        return {"skipped": f"ae_core.compress is not importable ({e})"}, []
    fn = getattr(compress, "rate_distortion", None)
    if fn is None:
        return {"skipped": "ae_core.compress has no rate_distortion"}, []
    if not ds.is_image or ds.x_test.shape[1] != 1:
        return {"skipped": f"{ds.name}: rate_distortion needs greyscale images"}, []
    dims = sorted({d for d in s.dims if d > 2} or set(s.dims))
    nets = {f"AE-{d}": _train_standard("ae", d, ds, s, cache, log).model for d in dims}
    t0 = time.perf_counter()
    try:
        rows = fn(nets, ds.x_test, ds.x_train)
        cross = {}
        if hasattr(compress, "crossover"):
            for other in ("JPEG", "WebP"):
                cross[other] = compress.crossover(rows, against=other)
    except Exception as e:  # a module mid-edit must not sink the other sections
        return {"skipped": f"rate_distortion failed: {type(e).__name__}: {e}"}, []
    secs = time.perf_counter() - t0
    log(f"compress: {len(rows)} codec settings on {len(ds.x_test)} test images in {secs:.1f}s")
    for other, c in cross.items():
        log(f"compress: {other}: {c.get('text', c)}")
    return {"rows": _jsonable(rows), "crossover": _jsonable(cross), "models": list(nets), "seconds": round(secs, 2),
            "note": "ae_core.compress.rate_distortion(models, x_test, x_train) with its default settings; AE codes "
                    "quantised per coordinate with ranges from the training codes; bytes and scores are means over "
                    "the test images."}, []


# ---------------------------------------------------------------- output


def _jsonable(o):
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return _jsonable(o.tolist())
    if isinstance(o, (np.floating, float)):
        return float(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return _jsonable(dataclasses.asdict(o))
    if isinstance(o, (str, int, bool)) or o is None:
        return o
    return str(o)


def _table(header: list[str], rows: list[list]) -> str:
    def cell(v):
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 10 else f"{v:.2f}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def render_markdown(res: dict) -> str:
    meta = res["meta"]
    mc = meta["machine"]
    ds = meta["dataset"]
    out = [
        "# Manifold Lab benchmarks", "",
        f"Written by `{meta['command']}` on {meta['date']} in {meta['wall_seconds']:.0f} s. Every figure below comes from "
        "that run (`benchmarks/results.json` holds all of them, with the grids and settings).", "",
        f"- Machine: {mc['cpu_model']}, {mc['cpus_usable']} usable cores, torch {mc['torch']} (torch threads: "
        f"{mc['torch_threads']}), {mc['platform']}; load average at start {', '.join(f'{v:.1f}' for v in mc['load_average_at_start'])}"
        + (f", at end {', '.join(f'{v:.1f}' for v in meta['load_average_at_end'])}" if meta.get("load_average_at_end") else "")
        + ".",
        f"- Data: `{ds['name']}`, {ds['n_train']} training / {ds['n_test']} held-out test images; seed {meta['seed']}.",
    ]
    busy = max(mc["load_average_at_start"] + meta.get("load_average_at_end", []), default=0.0)
    if busy > (mc["cpus_usable"] or 1):
        out += [f"- **The machine was shared during this run** (load average up to {busy:.1f} on {mc['cpus_usable']} cores): "
                "timings and throughputs are lower and noisier than on an idle machine; ratios measured in one run "
                "(interleaved repeats, best of each) are the figures to read."]
    if meta["settings"]["quick"]:
        out += ["- **Quick mode**: tiny sizes and 1 epoch, to check the code paths; the goals below are not meaningful here."]
    goals = res.get("goals", [])
    if goals:
        out += ["", "## Goals", "", _table(["section", "goal", "measured", "target", "result"], [
            [g["section"], g["goal"], f"{g['measured']:.3f}", f"{g['op']} {g['target']:g}", "PASS" if g["passed"] else "FAIL"]
            for g in goals])]
        details = [f"- {g['name']}: {g['detail']}" for g in goals if g.get("detail")]
        out += [""] + details if details else []

    if "recon" in res:
        r = res["recon"]
        if "skipped" in r:
            out += ["", "## 1. Reconstruction", "", f"Skipped: {r['skipped']}"]
        else:
            out += ["", "## 1. Reconstruction (held-out test split)", "", _table(
                ["model", "latent", "sq. error / image", "PSNR (dB)", "ratio to PCA", "epochs run", "train s"],
                [[x["model"], x["latent"], f"{x['sse']:.2f}", f"{x['psnr']:.2f}", f"{x['ratio_to_pca']:.3f}",
                  x.get("epochs_run", "-"), f"{x['seconds']:.1f}"] for x in r["rows"]]), "", r["note"], "", f"Reference: {r['reference']}"]
    if "embed" in res:
        r = res["embed"]
        if "skipped" in r:
            out += ["", "## 2. 2-D embeddings", "", f"Skipped: {r['skipped']}"]
        else:
            out += ["", "## 2. 2-D embeddings", "", _table(
                ["method", "1-NN acc.", "5-NN acc.", "trustworthiness (5)", "seconds", "how"],
                [[x["method"], f"{x['knn1']:.3f}", f"{x['knn5']:.3f}", f"{x['trust5']:.3f}", f"{x['seconds']:.1f}",
                  x["note"]] for x in r["rows"]]),
                "", r["note"], f"kNN in pixel space (no reduction) for scale: 1-NN {r['pixel_space_knn']['knn1']:.3f}, "
                f"5-NN {r['pixel_space_knn']['knn5']:.3f}.", "", f"Reference: {r['reference']}"]
    if "denoise" in res:
        r = res["denoise"]
        if "skipped" in r:
            out += ["", "## 3. Denoising", "", f"Skipped: {r['skipped']}"]
        else:
            methods = list(next(iter(r["results"].values())))
            out += ["", "## 3. Denoising (test split): PSNR dB / SSIM", "", _table(
                ["method", *r["noises"]],
                [[m, *(f"{r['results'][n][m]['psnr']:.2f} / {r['results'][n][m]['ssim']:.3f}"
                       for n in r["noises"])] for m in methods]), "",
                "NL-means h chosen per noise: " + ", ".join(f"{n}: {t['best_h']:g}" for n, t in r["nlm_tuning"].items()) + ".",
                "", r["note"]]
    if "speed" in res:
        r = res["speed"]
        if "skipped" in r:
            out += ["", "## 4. Speed", "", f"Skipped: {r['skipped']}"]
        else:
            loops = r["loops"]
            rows = []
            for b, L in loops.items():
                for k, v in L["images_per_s"].items():
                    rows.append([b, k, f"{v:,.0f}", f"{L['gflops'][k]:.1f}"])
            mem = r["memory"]
            out += ["", "## 4. Speed", "",
                    f"Model `{r['model']['kind']}` {r['model']['config']}: {r['model']['macs_forward']:,} multiply-adds per "
                    f"image forward; torch threads: {r['torch_threads']}. Float32 {r['matmul']['n']}^3 matmul: "
                    f"{r['matmul']['gflops']:.1f} GFLOP/s (best of {len(r['matmul']['seconds'])}).", "",
                    "ae_core.train by batch size (images/s): " + ", ".join(
                        f"{b}: {v:,.0f}" for b, v in r["batch_grid_images_per_s"].items())
                    + f"; best batch {r['best_batch']} (the standard recipes train at {r['standard_batch']}).", "",
                    _table(["batch", "loop", "images / s", "GFLOP/s"], rows), "",
                    *(f"- batch {b}: ae_core.train is {L['ratio_vs_dataloader']:.2f}x the DataLoader loop and "
                      f"{L['ratio_vs_bare']:.2f}x the bare loop." for b, L in loops.items()), "",
                    f"Training at batch {r['best_batch']}: {r['train_gflops']:.1f} GFLOP/s = "
                    f"{100 * r['flops_fraction_of_matmul']:.0f}% of the matmul.", "",
                    _table(["model", "encode (ms, median)", "what", "decode one point (ms, median)"],
                           [[k, f"{v['encode_ms']:.1f}", f"{v['encode_what']}, {v['n_test']} images", f"{v['decode_one_ms']:.3f}"]
                            for k, v in r["latency"].items()]), "",
                    f"Peak RSS (VmHWM of a fresh subprocess): training {mem['training']['peak_kb'] / 1024:.0f} MiB "
                    f"(peak already {mem['training']['after_data_kb'] / 1024:.0f} MiB after importing torch / ae_core and "
                    f"loading the data, {mem['training']['rss_after_data_kb'] / 1024:.0f} MiB resident then); all "
                    f"{len(mem['models_loaded']['loaded'])} models in `{Path(mem['models_loaded']['models_root']).name}/` "
                    f"loaded: {mem['models_loaded']['peak_kb'] / 1024:.0f} MiB (after import "
                    f"{mem['models_loaded']['after_import_kb'] / 1024:.0f} MiB, "
                    f"{mem['models_loaded']['parameters']:,} parameters"
                    + (f"; failed to load: {', '.join(mem['models_loaded']['errors'])}" if mem['models_loaded']['errors'] else "")
                    + ").", "", r["note"]]
    if "compress" in res:
        r = res["compress"]
        out += ["", "## 5. Compression (ae_core.compress)", ""]
        if "skipped" in r:
            out += [f"Skipped: {r['skipped']}"]
        else:
            keys = [k for k in ("codec", "setting", "bytes_file", "bytes_payload", "psnr", "ssim") if k in r["rows"][0]]
            fmt = {"bytes_file": "{:.1f}", "bytes_payload": "{:.1f}", "psnr": "{:.2f}", "ssim": "{:.3f}"}
            out += [_table(keys, [[fmt[k].format(x[k]) if k in fmt and isinstance(x.get(k), (int, float)) else x.get(k)
                                   for k in keys] for x in r["rows"]]), ""]
            out += [f"- vs {k}: {v.get('text', '')}" for k, v in r["crossover"].items()] + ["", r["note"]]
    errs = res.get("errors", {})
    if errs:
        out += ["", "## Errors", ""] + [f"- {k}: {v}" for k, v in errs.items()]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- main


def _command_line(argv: list[str]) -> str:
    """How this run was started, as a person would type it."""
    prog = sys.argv[0] if sys.argv else ""
    if prog.endswith(os.path.join("ae_core", "__main__.py")):
        return "python -m ae_core " + shlex.join(sys.argv[1:])
    if prog.endswith(os.path.join("benchmarks", "run.py")):
        return "python benchmarks/run.py " + shlex.join(sys.argv[1:])
    # called as a function (a test, a notebook): the arguments it was given
    return f"benchmarks.run.main({argv!r}) from {Path(prog).name or 'python'}"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ae_core bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, 1 epoch: checks the code paths (CI)")
    p.add_argument("--dataset", default=data_mod.DEFAULT, help=f"registry name (default {data_mod.DEFAULT})")
    p.add_argument("--only", help=f"comma-separated sections from {','.join(SECTIONS)} (default: all)")
    p.add_argument("--out", default=str(ROOT / "benchmarks"), help="folder for results.json and results.md")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help="cap every model's epochs, early stopping still on (default 50; quick 1; "
                   "0 = no cap: standard_config's own)")
    p.add_argument("--dims", help="comma-separated latent dims for reconstruction (default 2,8,30)")
    p.add_argument("--n-train", type=int, help="use the first N training images")
    p.add_argument("--n-test", type=int, help="use the first N test images")
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--models", help="model folder for the loaded-models memory figure (default: the shipped models)")
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `python -m ae_core bench -- --quick`: the CLI passes its separator through
        argv = argv[1:]
    a = build_parser().parse_args(argv)
    only = SECTIONS if not a.only else tuple(x.strip() for x in a.only.split(",") if x.strip())
    bad = set(only) - set(SECTIONS)
    if bad:
        print(f"error: unknown section(s) {sorted(bad)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    if a.threads:
        torch.set_num_threads(a.threads)
    kw = dict(dataset=a.dataset, seed=a.seed, epochs=a.epochs, n_train=a.n_train, n_test=a.n_test,
              models_root=a.models, threads=a.threads)
    if a.dims:
        kw["dims"] = tuple(int(d) for d in a.dims.split(","))
    s = Settings.quick_mode(**kw) if a.quick else Settings(**{k: v for k, v in kw.items() if v is not None})
    if s.epochs == 0:
        s.epochs = None
    log = Log(a.quiet)
    torch.manual_seed(s.seed)
    np.random.seed(s.seed)
    try:
        full = data_mod.load_dataset(s.dataset)
    except data_mod.DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    ds = _subset(full, s.n_train, s.n_test)
    log(f"bench: {'quick' if s.quick else 'full'} run on {ds.name} ({len(ds.x_train)} train / {len(ds.x_test)} test), "
        f"sections {','.join(only)}, {torch.get_num_threads()} torch threads")
    try:
        load1 = os.getloadavg()[0]
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if load1 > usable and not a.threads:
            log(f"bench: WARNING load average {load1:.1f} on {usable} cores: with several torch threads the timings "
                "collapse when other processes compete; consider --threads 1")
    except OSError:
        pass
    out_dir = Path(a.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    t_all = time.perf_counter()
    res: dict[str, Any] = {
        "meta": {
            "date": started.isoformat(timespec="seconds"),
            "command": _command_line(argv),
            "argv": argv, "seed": s.seed, "machine": machine_info(), "settings": dataclasses.asdict(s),
            "dataset": {"name": ds.name, "n_train": len(ds.x_train), "n_test": len(ds.x_test),
                        "split": full.split_info(), "sample_shape": list(ds.sample_shape)},
            "seeds": {"everything": s.seed, "noise_test": f"seed + 100 + noise index", "noise_val": "seed + 200 + noise index",
                      "split": data_mod.SPLIT_SEED},
            "section_seconds": {},
        },
        "goals": [], "errors": {},
    }
    cache: dict = {}
    fns = {"recon": section_recon, "embed": section_embed, "denoise": section_denoise, "speed": section_speed,
           "compress": section_compress}
    for name in SECTIONS:
        if name not in only:
            continue
        t0 = time.perf_counter()
        log(f"== {name}")
        try:
            body, goals = fns[name](ds, s, cache, log)
        except Exception as e:  # one broken section is reported, the others still run
            import traceback

            res["errors"][name] = f"{type(e).__name__}: {e}"
            log(f"{name} FAILED: {type(e).__name__}: {e}\n{traceback.format_exc()}")
            continue
        res[name] = body
        res["goals"] += goals
        res["meta"]["section_seconds"][name] = round(time.perf_counter() - t0, 1)
        log(f"== {name} done in {time.perf_counter() - t0:.1f}s")
    res["meta"]["wall_seconds"] = round(time.perf_counter() - t_all, 1)
    try:
        res["meta"]["load_average_at_end"] = list(os.getloadavg())
    except OSError:
        pass
    res = _jsonable(res)
    (out_dir / "results.json").write_text(json.dumps(res, indent=1, sort_keys=False, allow_nan=True) + "\n")
    (out_dir / "results.md").write_text(render_markdown(res))
    log(f"bench: wrote {out_dir / 'results.json'} and {out_dir / 'results.md'} in {res['meta']['wall_seconds']:.0f}s")
    for g in res["goals"]:
        log(f"  {'PASS' if g['passed'] else 'FAIL'}  {g['goal']}: {g['measured']:.3f} ({g['op']} {g['target']:g})")
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
