"""ae_core.stacks: a greedy stack's partial reconstructions, their errors, and its units' top images."""
import numpy as np
import pytest
import torch

from ae_core import data, evaluate, models, stacks
from ae_core.training import TrainConfig, train


@pytest.fixture(scope="module")
def ds():
    return data.load_dataset("mnist-5k")


@pytest.fixture(scope="module")
def greedy(ds):
    """A three-stage SDAE after its greedy stages only (no fine-tuning): the walk the lecture describes."""
    torch.set_num_threads(1)
    m = models.build("sdae", seed=0, input_shape=ds.sample_shape, hidden=(64, 32), latent_dim=8)
    train(m, ds.x_train[:600], TrainConfig(epochs=2, fine_tune_epochs=0, batch_size=64, seed=0))
    return m


def test_all_stages_is_the_models_own_reconstruction(greedy, ds):
    x = ds.x_test[:200]
    full = stacks.partial_reconstruct(greedy, x, stacks.n_stages(greedy))
    assert full.shape == x.shape
    np.testing.assert_allclose(full, evaluate.reconstruct(greedy, x), atol=1e-6)


def test_k_stages_decode_through_their_own_decoders_in_reverse(greedy, ds):
    x = ds.x_test[:50]
    t = torch.tensor(x).reshape(len(x), -1)
    with torch.no_grad():
        one = greedy.decoders[0](greedy.encoders[0](t)).reshape(x.shape).numpy()
        two = greedy.decoders[0](greedy.decoders[1](greedy.encoders[1](greedy.encoders[0](t)))).reshape(x.shape).numpy()
    np.testing.assert_allclose(stacks.partial_reconstruct(greedy, x, 1), one, atol=1e-6)
    np.testing.assert_allclose(stacks.partial_reconstruct(greedy, x, 2), two, atol=1e-6)
    # Different depths keep different amounts: the three reconstructions are not the same picture.
    assert np.abs(one - two).mean() > 1e-3


def test_stage_errors_one_row_per_stage_with_the_code_size(greedy, ds):
    rows = stacks.stage_errors(greedy, ds.x_test[:200])
    assert [r["k"] for r in rows] == [1, 2, 3] and [r["units"] for r in rows] == [64, 32, 8]
    assert all(np.isfinite(r["sse"]) and r["sse"] > 0 for r in rows)
    assert rows[-1]["sse"] == pytest.approx(evaluate.model_metrics(greedy, ds.x_test[:200])["sse"], rel=1e-5)


def test_top_images_are_the_inputs_with_the_largest_activation(greedy, ds):
    x = ds.x_test[:300]
    r = stacks.top_images(greedy, x, layer=2, n_units=5, n_top=4)
    h = stacks.codes(greedy, x, 2)
    assert r["top"].shape == (5, 4)
    for u, idx, act in zip(r["units"], r["top"], r["activation"]):
        assert idx[0] == int(np.argmax(h[:, u]))
        assert np.all(np.diff(act) <= 0)
        assert np.all(h[:, u][idx] >= np.sort(h[:, u])[-4] - 1e-7)
    assert np.all(np.diff(r["spread"]) <= 0)


def test_refuses_models_that_are_not_stacks_and_depths_out_of_range(greedy, ds):
    assert not stacks.is_stacked(models.build("ae", input_shape=ds.sample_shape, latent_dim=2))
    with pytest.raises(ValueError):
        stacks.partial_reconstruct(models.build("ae", input_shape=ds.sample_shape, latent_dim=2), ds.x_test[:2], 1)
    with pytest.raises(ValueError):
        stacks.partial_reconstruct(greedy, ds.x_test[:2], 4)


def test_walk_gathers_every_view_of_the_stack(greedy, ds):
    w = stacks.walk(greedy, ds.x_test[:300], ds.x_train[:500], n_show=5, n_filters=10, n_units=4, n_top=3)
    assert w["recon"].shape == (3, 5, 1, 28, 28)
    np.testing.assert_allclose(w["recon"][-1], evaluate.reconstruct(greedy, ds.x_test[:5]), atol=1e-6)
    assert w["filters"].shape == (10, 1, 28, 28) and w["filters"].min() >= 0 and w["filters"].max() <= 1
    assert [u["top"].shape for u in w["units"]] == [(4, 3)] * 3
    assert all(r["pca_sse"] > 0 for r in w["stages"])


def test_top_images_of_given_units(greedy, ds):
    r = stacks.top_images(greedy, ds.x_test[:100], layer=1, n_top=2, units=[5, 3])
    assert list(r["units"]) == [5, 3] and r["top"].shape == (2, 2)
