"""The shipped checkpoints: present, loadable, small, and better than PCA on held-out data."""
import pytest

from ae_core import data, evaluate, metrics, store, workflow


def test_every_shipped_model_loads_and_is_small():
    root = store.default_root()
    names = {m.name for m in store.list_models(root) if not m.error}
    assert {r.name for r in workflow.SHIPPED} <= names
    total = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    assert total < 120 * 1024 * 1024, f"shipped models take {total / 2**20:.1f} MiB"
    for r in workflow.SHIPPED:
        model, meta = store.load(r.name)
        assert meta["kind"] == r.kind and meta["dataset"]["name"] == r.dataset
        assert "test" in meta["metrics"] and "pca" in meta["metrics"]
        # Trained by today's recipe: a recipe changed without a retraining would leave a stale model behind.
        norm = lambda v: list(v) if isinstance(v, (tuple, list)) else v  # noqa: E731 (JSON has lists)
        stale = {k: (meta["config"].get(k), v) for k, v in r.config.items() if norm(meta["config"].get(k)) != norm(v)}
        assert not stale, f"{r.name}: stored config differs from its recipe (stored, recipe): {stale}"


@pytest.mark.parametrize("name, dim, goal", [("ae-2d", 2, 0.75), ("ae-30d", 30, 0.55)])
def test_ae_beats_pca_on_held_out_digits(mnist5k, name, dim, goal):
    """Measured now, not read from the model card: squared error per test image, AE vs PCA."""
    model, _ = store.load(name)
    assert model.latent_dim == dim
    ae = evaluate.model_metrics(model, mnist5k.x_test)["sse"]
    pca = evaluate.pca_metrics(mnist5k.x_train, mnist5k.x_test, dim)["sse"]
    assert ae / pca <= goal, f"{name}: AE {ae:.2f} vs PCA {pca:.2f} = {ae / pca:.3f} (goal <= {goal})"


@pytest.fixture(scope="module")
def mnist():
    return data.load_dataset("mnist")


def test_full_mnist_deep_ae_reaches_hintons_error(mnist):
    """Hinton & Salakhutdinov 2006: 3.00 squared error per test image at 30-D (PCA-30: 13.87)."""
    model, meta = store.load("mnist-ae-30d")
    x_hat = evaluate.reconstruct(model, mnist.x_test)
    sse = metrics.summarise(mnist.x_test, x_hat, clip=False)["sse"]
    assert model.latent_dim == 30 and sse <= 3.00, f"mnist-ae-30d: {sse:.3f} per test image (goal <= 3.00)"
    assert meta["dataset"]["split"]["n_train"] == 60_000


def test_full_mnist_2d_ae_keeps_classes_apart(mnist):
    """Sainburg et al. 2021: a 2-D AE's 5-NN accuracy (fitted on train codes, scored on test) 0.793."""
    model, _ = store.load("mnist-ae-2d")
    acc = metrics.knn_accuracy(evaluate.encode(model, mnist.x_train), mnist.y_train,
                               evaluate.encode(model, mnist.x_test), mnist.y_test, 5)
    assert acc >= 0.79, f"mnist-ae-2d 5-NN accuracy {acc:.3f} (goal >= 0.79)"


def _knn5(model, ds) -> float:
    return metrics.knn_accuracy(evaluate.encode(model, ds.x_train), ds.y_train, evaluate.encode(model, ds.x_test),
                                ds.y_test, 5)


def test_umap_ae_reconstructs_no_worse_than_pca_2d(mnist5k):
    """Issue 12: the UMAP-loss AE keeps a decoder: squared error per test image at most PCA-2D's."""
    model, _ = store.load("umap-ae-2d")
    ae = evaluate.model_metrics(model, mnist5k.x_test)["sse"]
    pca = evaluate.pca_metrics(mnist5k.x_train, mnist5k.x_test, 2)["sse"]
    assert ae <= pca, f"umap-ae-2d: {ae:.2f} vs PCA-2D {pca:.2f}"


@pytest.mark.parametrize("umap_name, ae_name, dataset", [("umap-ae-2d", "ae-2d", "mnist-5k"),
                                                         ("mnist-umap-ae-2d", "mnist-ae-2d", "mnist")])
def test_umap_ae_keeps_classes_apart_better_than_the_plain_ae(umap_name, ae_name, dataset, mnist5k, mnist):
    ds = mnist5k if dataset == "mnist-5k" else mnist
    umap_acc, ae_acc = _knn5(store.load(umap_name)[0], ds), _knn5(store.load(ae_name)[0], ds)
    assert umap_acc >= ae_acc + 0.05, f"{umap_name} 5-NN {umap_acc:.3f} vs {ae_name} {ae_acc:.3f}"


# The goals (UMAP's own 5-NN on mnist-5k's split; the paper's UMAP + AE on full MNIST), both met by the
# augmented recipes: 0.899 and 0.955 (benchmarks/papers_*.md).
@pytest.mark.parametrize("name, dataset, goal", [
    ("umap-ae-2d", "mnist-5k", 0.88),  # measured 0.899 (the augmented recipe; 0.806 before)
    ("mnist-umap-ae-2d", "mnist", 0.95),  # measured 0.955 (augmented; 0.942 before)
])
def test_umap_ae_reaches_umaps_neighbourhoods(name, dataset, goal, mnist5k, mnist):
    acc = _knn5(store.load(name)[0], mnist5k if dataset == "mnist-5k" else mnist)
    assert acc >= goal, f"{name} 5-NN accuracy {acc:.3f} (goal >= {goal})"


# Issue 13's goal on the shipped models (seed 0 of each recipe): beta-VAE (beta 8) MIG 0.270, AE 0.039. Its other
# half, the mean over seeds, is benchmarks/disentangle.py's to judge: 0.229 +- 0.126 over five seeds there.
def test_sprites_beta_vae_disentangles_more_than_the_ae():
    """#13's goal, measured now on the shipped models (not read from a card): on sprites' held-out images the
    beta-VAE's MIG is at least 0.2 and above the plain AE's (benchmarks/disentangle.py gives it over seeds)."""
    from ae_core import groundtruth

    ds = data.load_dataset("sprites")
    beta, _ = store.load("sprites-beta-vae-10d")  # raises (fails) when the model is missing
    ae, _ = store.load("sprites-ae-10d")
    mig_beta, mig_ae = groundtruth.score(beta, ds).mig, groundtruth.score(ae, ds).mig
    assert mig_beta >= 0.2 and mig_beta > mig_ae, f"sprites MIG: beta-VAE {mig_beta:.3f}, AE {mig_ae:.3f} (goal >= 0.2 and above)"
