import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles

from ae_core import evaluate, models
from ae_core.training import TrainConfig, train


@pytest.mark.parametrize("kind", list(models.KINDS))
def test_shapes_and_losses(kind):
    m = models.build(kind, latent_dim=3) if kind != "sparse" else models.build(kind, latent_dim=900)
    x = torch.rand(5, 1, 28, 28)
    z = m.encode(x)
    assert z.shape == (5, m.latent_dim)
    assert m.decode(z).shape == (5, 1, 28, 28) and m(x).shape == (5, 1, 28, 28)
    parts = m.loss(x, torch.Generator().manual_seed(0))
    assert parts["loss"].ndim == 0 and torch.isfinite(parts["loss"]) and "recon" in parts
    if kind == "sparse":
        assert "sparsity" in parts
    if kind in ("vae", "beta-vae"):
        assert "kl" in parts and parts["kl"] >= 0
    parts["loss"].backward()
    assert all(p.grad is not None for p in m.parameters())
    assert m.first_layer_filters().shape[1:] == ((1, 3, 3) if kind == "conv" else (1, 28, 28))


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 13, 17), (1, 28, 28)])
def test_image_shape_comes_from_config(shape):
    for kind in ("ae", "conv", "vae", "sdae"):
        m = models.build(kind, input_shape=shape, latent_dim=4)
        assert m(torch.rand(2, *shape)).shape == (2, *shape)


def test_point_data_shape():
    m = models.build("ae", input_shape=(3,), latent_dim=2, hidden=(16,))
    assert m(torch.rand(7, 3)).shape == (7, 3)


def test_beta_vae_defaults_and_overrides():
    assert models.build("beta-vae").config.beta == 4.0
    assert models.build("beta-vae", beta=8).config.beta == 8.0
    assert models.build("vae").config.beta == 1.0


def test_config_errors_are_clear():
    with pytest.raises(models.ConfigError, match="Unknown model kind"):
        models.build("gan")
    with pytest.raises(models.ConfigError, match="unknown config keys"):
        models.build("ae", depth=3)
    with pytest.raises(models.ConfigError, match="between 1 and"):
        models.build("ae", hidden=(1_000_000_000,))
    with pytest.raises(models.ConfigError, match="parameters"):
        models.build("ae", hidden=(16000, 16000, 16000))
    with pytest.raises(models.ConfigError):
        models.build("ae", latent_dim="two")
    with pytest.raises(models.ConfigError):
        models.build("dae", noise="blur:1")


def test_same_seed_same_init():
    a, b = models.build("ae", seed=3), models.build("ae", seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = models.build("ae", seed=4)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


def test_linear_ae_spans_pca_subspace(mnist5k):
    """The shipped linear AE's decoder columns span the same plane as PCA's top 2 components."""
    from sklearn.decomposition import PCA

    from ae_core import store

    x = mnist5k.x_train
    m, _ = store.load("linear-2d")
    w_dec = m.decoder[0].weight.detach().numpy()  # (784, 2)
    pcs = PCA(2).fit(x.reshape(len(x), -1)).components_.T
    angles = np.degrees(subspace_angles(w_dec, pcs))
    assert angles.max() < 5.0, angles
    # and so it reconstructs held-out digits as well as PCA does
    ae = evaluate.model_metrics(m, mnist5k.x_test)["sse"]
    pca = evaluate.pca_metrics(x, mnist5k.x_test, 2)["sse"]
    assert ae < pca * 1.01


def test_linear_ae_training_turns_towards_pca(mnist5k):
    """Training itself (not just the shipped file) moves a random plane towards PCA's."""
    from sklearn.decomposition import PCA

    x = mnist5k.x_train[:2000]
    pcs = PCA(2).fit(x.reshape(len(x), -1)).components_.T
    m = models.build("linear", latent_dim=2)
    before = np.degrees(subspace_angles(m.decoder[0].weight.detach().numpy(), pcs))
    # It starts near a saddle (both angles ~88 degrees); a short run turns one direction onto
    # PCA's plane, the second follows slowly (the shipped linear-2d trains 300 epochs for it).
    train(m, x, TrainConfig(epochs=32, lr=3e-2, batch_size=256, patience=0))
    after = np.degrees(subspace_angles(m.decoder[0].weight.detach().numpy(), pcs))
    assert before.min() > 80 and after.min() < 30, (before, after)


def test_what_a_kind_accepts_comes_from_its_config_dataclass():
    from ae_core import jobs

    takes = {k: models.KINDS[k].accepts() for k in models.KINDS}
    assert {k for k, a in takes.items() if "hidden" in a} == {"ae", "dae", "stacked", "sdae", "vae", "beta-vae", "umap-ae"}
    assert {k for k, a in takes.items() if "noise" in a} == {"ae", "dae", "stacked", "sdae", "sparse", "conv", "umap-ae"}
    assert {k for k, a in takes.items() if "beta" in a} == {"vae", "beta-vae"}
    assert all("input_shape" not in a and "latent_dim" in a for a in takes.values())
    # The Train page's and the CLI's form passes a kind only the fields it reads.
    spec = jobs.JobSpec("linear", latent_dim=2, hidden=(64,), noise="masking:0.3", beta=2.0)
    assert spec.overrides() == {"latent_dim": 2}
    assert jobs.JobSpec("vae", hidden=(64,), noise="masking:0.3", beta=2.0).overrides() == {"hidden": (64,), "beta": 2.0}
