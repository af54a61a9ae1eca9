"""End-to-end recipes shared by the CLI, the app and the benchmarks: train on a dataset, measure
on its held-out split, save with a model card; and the list of shipped models that
`python -m ae_core pretrain` rebuilds.

Also every other recipe that trains or walks the store, so that the analysis modules stay arrays
in, arrays out: the small AE of the swiss-roll panel (`quick_ae`, `unrolling`), the two tiny DAEs of
the filters panel (`filter_daes`), and PCA's error curve beside the stored models' (`error_vs_dimension`).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np

from . import data as data_mod
from . import evaluate, models, store
from .training import History, TrainConfig, train

# Bounds for trainings that a web visitor can start (the CLI may go further).
APP_LIMITS = {"epochs": 30, "seconds": 300.0, "n_train": 60_000, "latent_dim": 64, "hidden": 1024}
# A greedy stack is saved twice: as fine-tuned (the model) and as its stages left it, under this name
# (store.load(name, state=GREEDY_STATE)), so the stack can be shown before and after fine-tuning.
GREEDY_STATE = "greedy"


@dataclasses.dataclass
class TrainResult:
    model: models.Autoencoder
    history: History
    metrics: dict
    dataset: data_mod.Dataset
    train_config: TrainConfig
    states: dict = dataclasses.field(default_factory=dict)  # other weights to save beside the model's, by name

    def meta(self) -> dict:
        return {
            "dataset": {"name": self.dataset.name, "split": self.dataset.split_info(),
                        "sample_shape": list(self.dataset.sample_shape),
                        **({"origin": dict(self.dataset.origin)} if self.dataset.origin else {})},
            "metrics": self.metrics,
            "history": self.history.to_dict(),
            "train_config": dataclasses.asdict(self.train_config),
        }


def train_on(kind: str, dataset: data_mod.Dataset | str, train_config: TrainConfig | None = None,
             on_step=None, on_epoch=None, should_stop: Callable[[], bool] | None = None,
             n_train: int | None = None, **overrides) -> TrainResult:
    """Build a `kind` model sized for the dataset, train it, and measure it (and PCA) on the test split."""
    ds = data_mod.load_dataset(dataset) if isinstance(dataset, str) else dataset
    cfg = train_config or TrainConfig()
    overrides.setdefault("input_shape", ds.sample_shape)
    model = models.build(kind, seed=cfg.seed, **overrides)
    x_train = ds.x_train if n_train is None else ds.x_train[:n_train]
    states: dict = {}

    def keep_greedy(stage: str) -> None:
        if stage == "fine-tune":  # every greedy stage is done; fine-tuning is about to change every layer
            states[GREEDY_STATE] = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}

    history = train(model, x_train, cfg, on_step=on_step, on_epoch=on_epoch, should_stop=should_stop,
                    before_stage=keep_greedy)
    metrics = {
        "test": evaluate.model_metrics(model, ds.x_test),
        "pca": evaluate.pca_metrics(x_train, ds.x_test, model.latent_dim),
    }
    return TrainResult(model, history, metrics, ds, cfg, states)


def save_result(result: TrainResult, name: str, root: str | Path | None = None, description: str = "") -> Path:
    m = result.meta()
    return store.save(result.model, name, root, dataset=m["dataset"], metrics=m["metrics"], history=m["history"],
                      train_config=m["train_config"], description=description, states=result.states)


def standard_config(kind: str, latent_dim: int) -> tuple[dict, dict]:
    """(model overrides, TrainConfig fields) of the standard architecture of `kind` at `latent_dim`.

    Picked from a small grid on a validation slice of mnist-5k's training split: with only 4,000
    training images a deep MLP wins at 2-D, while at larger codes one wide hidden layer overfits
    less than a deep one. The benchmarks and the shipped models use these same recipes.
    """
    deep = latent_dim <= 8
    if kind in ("ae", "dae"):
        cfg = {"hidden": (512, 256) if deep else (512,)}
    elif kind in ("vae", "beta-vae"):
        cfg = {"hidden": (512, 256) if deep else (512,)}
    elif kind in ("stacked", "sdae"):
        cfg = {"hidden": (256,)}
    elif kind == "conv":
        cfg = {"channels": (32, 64)}
    else:
        cfg = {}
    train = {"epochs": 150, "patience": 20, "batch_size": 64}
    return {"latent_dim": latent_dim, **cfg}, train


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One shipped model: how `pretrain` makes it."""

    name: str
    kind: str
    config: dict
    epochs: int
    description: str
    train: dict = dataclasses.field(default_factory=dict)
    dataset: str = data_mod.DEFAULT


# Sized so that all shipped weights together stay small (69 MB in all) and each recipe trains in minutes to an hour on 2 cores.
_LONG = {"patience": 20, "batch_size": 64}
_COSINE = {"patience": 0, "schedule": "cosine"}
# sprites: 20 epochs (6,250 steps) gave the beta = 4 VAE a MIG of 0.102, 60 gave 0.166, 150 gave 0.224 (seed 0), but
# seeds 1 and 2 only 0.082 / 0.114 (x or y spread over two coordinates; 300 epochs: seed 1 0.103). beta = 8 puts each
# on one: seed 1 at 60 epochs 0.037 / 0.064 / 0.139 for beta 2 / 4 / 8 (the probe that chose it), at 150 epochs
# 0.385 (benchmarks/disentangle_results.md has every seed). Locatello et al. trained 300,000 steps. mnist-affine keeps 10.
FACTOR_EPOCHS = {"sprites": 150, "mnist-affine": 10}
_FACTOR_TRAIN = {"patience": 0, "schedule": "cosine", "batch_size": 64}
SHIPPED: tuple[Recipe, ...] = (
    Recipe("ae-2d", "ae", {"latent_dim": 2, "hidden": (512, 256)}, 150, "2-D MLP autoencoder: the latent map.", _LONG),
    # The rotation towards PCA's plane is slow along close eigenvalues: long, large-batch, cosine-decayed.
    Recipe("linear-2d", "linear", {"latent_dim": 2}, 300, "Linear autoencoder: learns the PCA plane.",
           {"lr": 1e-2, "batch_size": 256, "patience": 0, "schedule": "cosine"}),
    Recipe("ae-16d", "ae", {"latent_dim": 16, "hidden": (512,), "recon_loss": "bce"}, 120,
           "16-D MLP autoencoder for sliders and traversals.", _COSINE),
    Recipe("ae-30d", "ae", {"latent_dim": 30, "hidden": (512,), "recon_loss": "bce"}, 120,
           "30-D MLP autoencoder (Hinton & Salakhutdinov's code size).", _COSINE),
    Recipe("sparse", "sparse", {"latent_dim": 1000}, 40, "Overcomplete sparse autoencoder (KL sparsity), 1000 units."),
    Recipe("dae", "dae", {"latent_dim": 16, "hidden": (256,)}, 120,
           "Denoising AE trained on a mix of Gaussian, masking and salt-and-pepper noise.", _COSINE),
    Recipe("sdae", "sdae", {"latent_dim": 16, "hidden": (256,)}, 40,
           "Stacked denoising AE: greedy stages on masked inputs, then fine-tuned.", {"fine_tune_epochs": 80}),
    # The SDAE's plain twin (same layout, stages and seed, no noise): the Train page's stack walk shows both.
    Recipe("stacked", "stacked", {"latent_dim": 16, "hidden": (256,)}, 40,
           "Stacked AE: greedy stages on clean inputs, then fine-tuned.", {"fine_tune_epochs": 80}),
    Recipe("conv", "conv", {"latent_dim": 16}, 40, "Convolutional autoencoder, 16-D code."),
    Recipe("vae-2d", "vae", {"latent_dim": 2, "hidden": (256, 64)}, 100, "2-D variational autoencoder.",
           {"patience": 15}),
    Recipe("beta-vae-10d", "beta-vae", {"latent_dim": 10, "hidden": (256,)}, 100, "beta-VAE (beta = 4), 10-D latent.",
           {"patience": 15}),
    # Full MNIST (60,000 training images), the papers' own data. ELU trains Hinton & Salakhutdinov's
    # deep layout far faster than ReLU without their RBM pre-training (6 epochs: 7.7 vs 12.3 sq. error).
    Recipe("mnist-ae-30d", "ae", {"latent_dim": 30, "hidden": (1000, 500, 250), "activation": "elu",
                                  "recon_loss": "bce"}, 100,
           "Hinton & Salakhutdinov's 784-1000-500-250-30 deep autoencoder on full MNIST.",
           {**_COSINE, "batch_size": 128}, dataset="mnist"),
    Recipe("mnist-ae-2d", "ae", {"latent_dim": 2, "hidden": (1000, 500, 250), "activation": "elu",
                                 "recon_loss": "bce"}, 40,
           "2-D deep autoencoder on full MNIST: the latent map at the papers' scale.",
           {**_COSINE, "batch_size": 128}, dataset="mnist"),
    Recipe("mnist-vae-2d", "vae", {"latent_dim": 2, "hidden": (512, 256), "activation": "elu"}, 40,
           "2-D variational autoencoder on full MNIST.", {**_COSINE, "batch_size": 128}, dataset="mnist"),
    # The UMAP-loss AE (#12): a small encoder (UMAP's term costs an encoder pass per sampled edge), a higher
    # learning rate and many short steps. The reconstruction weighs 0.01 per pixel against UMAP's term: Adam
    # trains the decoder (which only that term reaches) at full speed all the same, and the encoder is left
    # to UMAP (measured: weight 0.1 gave 5-NN 0.767 / 0.905 on mnist-5k / full MNIST, 0.01 gave 0.806 / 0.937; full
    # MNIST 50 epochs instead of 30: 0.942). The heads are shifted (up to 2 px) and turned (up to 10°) before
    # they are encoded, which is what held-out digits differ by: on mnist-5k, 100-100-100 for 100 epochs went
    # from 0.806 to 0.825 with it, and 256-256-256 for 150 epochs reached 0.899.
    Recipe("umap-ae-2d", "umap-ae", {"latent_dim": 2, "hidden": (256, 256, 256), "recon_weight": 0.01,
                                     "augment_shift": 2.0, "augment_degrees": 10.0}, 150,
           "2-D UMAP-loss autoencoder: UMAP's neighbourhoods on its code, and a decoder.",
           {**_COSINE, "lr": 3e-3, "batch_size": 64}),
    Recipe("mnist-umap-ae-2d", "umap-ae", {"latent_dim": 2, "hidden": (128, 128, 128), "recon_weight": 0.01,
                                           "augment_shift": 2.0, "augment_degrees": 10.0}, 50,
           "2-D UMAP-loss autoencoder on full MNIST (Parametric UMAP with a decoder).",
           {**_COSINE, "lr": 3e-3, "batch_size": 64}, dataset="mnist"),
    Recipe("mnist-conv-30d", "conv", {"latent_dim": 30, "channels": (32, 64)}, 15,
           "Convolutional autoencoder on full MNIST, 30-D code.", {**_COSINE, "batch_size": 128}, dataset="mnist"),
    # Datasets with ground-truth factors (#13): the same 10-D MLP three ways, scored by MIG / SAP / DCI
    # (benchmarks/disentangle.py trains these recipes over seeds). Small: about 2.4 MB each.
    *(Recipe(f"{ds}-{name}-10d", kind, {"latent_dim": 10, "hidden": (256, 128), **extra}, epochs,
             f"{what} on {ds}, 10-D code: {why}.", _FACTOR_TRAIN, dataset=ds)
      for ds, epochs in FACTOR_EPOCHS.items()
      for name, kind, extra, what, why in (
          ("ae", "ae", {"recon_loss": "bce"}, "MLP autoencoder", "the baseline, no pressure to disentangle"),
          ("vae", "vae", {}, "Variational autoencoder", "beta = 1"),
          ("beta-vae", "beta-vae", {"beta": 8.0}, "beta-VAE (beta = 8)",
           "the KL weighted 8x pushes coordinates towards independent factors"))),
)


def recipe(name: str) -> Recipe:
    """The shipped recipe called `name`."""
    for r in SHIPPED:
        if r.name == name:
            return r
    raise ValueError(f"Unknown shipped model {name!r}; known: {[r.name for r in SHIPPED]}")


def train_recipe(r: Recipe, seed: int = 0, dataset: str | None = None, epochs_scale: float = 1.0,
                 on_step=None) -> TrainResult:
    """Train one recipe as `pretrain` does (seed 0 is the shipped model); other seeds for the benchmarks."""
    settings = {"patience": 10, **r.train, "epochs": max(1, int(r.epochs * epochs_scale)), "seed": seed}
    return train_on(r.kind, data_mod.load_dataset(dataset or r.dataset), TrainConfig(**settings), on_step=on_step,
                    **r.config)


def pretrain(root: str | Path | None = None, names: list[str] | None = None, dataset: str | None = None,
             epochs_scale: float = 1.0, on_step=None, log: Callable[[str], None] = print) -> list[Path]:
    """(Re)build the shipped models; `names` picks a subset, `epochs_scale` shortens them for smoke tests.

    Each recipe trains on its own dataset unless `dataset` overrides it (smoke tests on a small set).
    """
    chosen = [r for r in SHIPPED if names is None or r.name in names]
    unknown = set(names or ()) - {r.name for r in SHIPPED}
    if unknown:
        raise ValueError(f"Unknown shipped model(s) {sorted(unknown)}; known: {[r.name for r in SHIPPED]}")
    out = []
    for r in chosen:
        result = train_recipe(r, dataset=dataset, epochs_scale=epochs_scale, on_step=on_step)
        path = save_result(result, r.name, root, r.description)
        t, p = result.metrics["test"], result.metrics["pca"]
        ratio = f"ratio {t['sse'] / p['sse']:.3f}" if p["sse"] > 1e-9 else "PCA is lossless at this size"
        log(f"{r.name:14s} {r.kind:9s} test sse {t['sse']:7.2f} (PCA {p['sse']:7.2f}, {ratio})"
            f"  psnr {t['psnr']:.2f} dB  {result.history.seconds:.0f}s")
        out.append(path)
    return out


# ---------------------------------------------------------------- recipes behind analysis panels


def quick_ae(ds: data_mod.Dataset, seconds: float = 2.0, hidden=(64, 64), seed: int = 0):
    """A small 2-D autoencoder on a point cloud, trained for about `seconds`: (model, train seconds)."""
    model = models.build("ae", seed=seed, input_shape=ds.sample_shape, latent_dim=2, hidden=hidden)
    cfg = TrainConfig(epochs=200, batch_size=64, lr=3e-3, seed=seed, patience=0, max_seconds=seconds)
    hist = train(model, ds.x_train, cfg)
    return model, hist.seconds


def unrolling(dataset: str = "swiss-roll", ae_seconds: float = 2.0, n_neighbors: int = 10, seed: int = 0) -> list[dict]:
    """embeddings.unrolling_comparison with a quick_ae trained for about `ae_seconds` on the dataset."""
    from . import embeddings  # scikit-learn's manifold learners: only for this recipe, not for every training

    model, secs = quick_ae(data_mod.load_dataset(dataset), ae_seconds, seed=seed)
    return embeddings.unrolling_comparison(dataset, model, secs, n_neighbors=n_neighbors, seed=seed)


def filter_daes(x_train: np.ndarray, levels=(0.1, 0.5), noise_kind: str = "masking", hidden: int = 64,
                epochs: int = 8, n_train: int = 2000, seed: int = 0, max_seconds: float = 60.0) -> dict[float, object]:
    """Tiny denoising AEs, one per noise level, all with the same data, seed and architecture.

    The architecture is Vincent et al.'s (2008, 2010): one hidden layer of `hidden` sigmoid units, sigmoid
    output, cross-entropy loss, input corrupted while training. In the model zoo that is the `sparse`
    kind with its sparsity weight set to 0. Only the noise level differs between the models, so
    differences in their first-layer filters come from it.
    """
    x = np.asarray(x_train[:n_train], dtype=np.float32)
    out = {}
    for level in levels:
        m = models.build("sparse", seed=seed, input_shape=tuple(x.shape[1:]), latent_dim=hidden, weight=0.0,
                         recon_loss="bce", noise=f"{noise_kind}:{level:g}")
        train(m, x, TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, seed=seed, patience=0,
                                max_seconds=max_seconds, device="cpu"))
        out[float(level)] = m.eval()
    return out


def error_vs_dimension(dataset: data_mod.Dataset | str, dims=None, models_root: str | Path | None = None) -> dict:
    """PCA's held-out error per dimension and each stored model trained on this dataset.

    Returns {"pca": [(dim, sse)], "models": [{name, kind, latent_dim, sse, pca_sse, source}]} where source
    is "model card" (measured on the test split at training time) or "recomputed" (the card had no
    test metrics). PCA is also evaluated at every model's latent dimension (capped at the number of
    features), so each point has its PCA counterpart on the curve.
    """
    from . import embeddings

    dims = embeddings.DEFAULT_DIMS if dims is None else dims
    ds = data_mod.load_dataset(dataset) if isinstance(dataset, str) else dataset
    rows = []
    for info in store.list_models(models_root):
        if info.error or info.dataset != ds.name:
            continue
        sse = info.metrics.get("test", {}).get("sse")
        source = "model card"
        if sse is None:
            try:
                model, _ = store.load(info.name, models_root)
            except store.CheckpointError:
                continue
            if tuple(model.input_shape) != ds.sample_shape:
                continue
            sse, source = evaluate.model_metrics(model, ds.x_test)["sse"], "recomputed"
        rows.append({"name": info.name, "kind": info.kind, "latent_dim": info.latent_dim, "sse": float(sse),
                     "source": source})
    curve = embeddings.pca_error_curve(ds.x_train, ds.x_test, set(dims) | {r["latent_dim"] for r in rows})
    at = dict(curve)
    for r in rows:
        r["pca_sse"] = at[min(r["latent_dim"], ds.n_features)]
    return {"pca": curve, "models": rows}
