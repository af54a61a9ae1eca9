"""The UMAP-loss autoencoder: its loss by hand, its graph, what training does to two blobs, the store."""
import math

import numpy as np
import pytest
import torch

from ae_core import evaluate, metrics, models, store, training



def test_cross_entropy_equals_a_hand_computation():
    # One edge of length 1 and one negative pair of length 2, with a = b = 1:
    # q_pos = 1 / (1 + 1) = 0.5, q_neg = 1 / (1 + 4) = 0.2; the loss is the mean of -log 0.5 and -log 0.8.
    head = torch.tensor([[0.0, 0.0]])
    tail = torch.tensor([[1.0, 0.0]])
    neg = torch.tensor([[[0.0, 2.0]]])
    got = models.umap_cross_entropy(head, tail, neg, a=1.0, b=1.0)
    assert float(got) == pytest.approx((-math.log(0.5) - math.log(0.8)) / 2, rel=1e-6)
    # UMAP's curve with b != 1: q = 1 / (1 + a d^(2b)), and the repulsion weight scales the negatives only.
    a, b = 1.577, 0.895
    q_pos, q_neg = 1 / (1 + a * 1.0 ** (2 * b)), 1 / (1 + a * 2.0 ** (2 * b))
    got = models.umap_cross_entropy(head, tail, neg, a, b, repulsion=3.0)
    assert float(got) == pytest.approx((-math.log(q_pos) - 3.0 * math.log(1 - q_neg)) / 2, rel=1e-5)


def test_cross_entropy_clips_like_the_reference_and_stays_finite_where_codes_coincide():
    z = torch.zeros(1, 2, requires_grad=True)
    # A negative on top of its head: 1 - q = 0, clipped at EPS, so the loss is -log(EPS) / 2 and the
    # gradient is finite (no NaN from d^b at d = 0).
    loss = models.umap_cross_entropy(z, torch.ones(1, 2), torch.zeros(1, 1, 2), 1.0, 1.0)
    loss.backward()
    assert torch.isfinite(z.grad).all()
    q_pos = 1 / (1 + 2.0)
    assert float(loss.detach()) == pytest.approx((-math.log(q_pos) - math.log(models.UMAP_EPS)) / 2, rel=1e-5)


def _blobs(n=120, d=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.zeros((2, d), np.float32)
    centres[0, : d // 2], centres[1, d // 2 :] = 0.9, 0.9
    y = np.arange(n) % 2
    x = np.clip(centres[y] + rng.normal(0, 0.05, (n, d)), 0, 1).astype(np.float32)
    return x.reshape(n, 1, 4, 4), y


def test_graph_joins_neighbours_within_a_blob_only():
    x, y = _blobs()
    heads, tails, w = models.fuzzy_graph(x, n_neighbors=5)
    assert len(heads) and (w > 0).all() and (w <= 1).all()
    assert (y[heads] == y[tails]).all()  # 5 neighbours of a point all lie in its own, far-away blob
    # The fuzzy union is symmetric: every edge is there both ways, with the same weight.
    edges = {(int(h), int(t)): float(v) for h, t, v in zip(heads, tails, w)}
    assert all(edges.get((t, h)) == pytest.approx(v) for (h, t), v in edges.items())


def test_training_separates_two_blobs_and_the_graph_is_dropped_afterwards():
    x, y = _blobs()
    m = models.build("umap-ae", input_shape=(1, 4, 4), hidden=(32,), n_neighbors=5, edge_batch=128)
    cfg = training.TrainConfig(epochs=15, batch_size=16, lr=3e-3, patience=0)
    hist = training.train(m, x, cfg)
    assert m._fit is None  # the graph is training state only
    z = evaluate.encode(m, x)
    # The two blobs' codes are far apart compared with their spread.
    assert metrics.silhouette(z, y) > 0.8
    assert metrics.knn_accuracy(z[:80], y[:80], z[80:], y[80:], k=5) == 1.0
    assert all(math.isfinite(v) for v in hist.stages[-1].train)


def test_loss_has_both_terms_only_while_fitting():
    x, _ = _blobs(40)
    m = models.build("umap-ae", input_shape=(1, 4, 4), hidden=(8,), n_neighbors=5, edge_batch=16)
    xt = torch.tensor(x)
    out = m.loss(xt)
    assert set(out) == {"loss", "recon"}  # no graph outside a fit: the reconstruction alone
    m.begin_fit(xt)
    out = m.loss(xt)
    cfg = m.config
    assert float(out["loss"]) == pytest.approx(
        float(cfg.umap_weight * out["umap"] + cfg.recon_weight * out["recon"] / m.n_in), rel=1e-5)
    m.end_fit()
    assert m._fit is None


def test_round_trips_through_the_store_exactly(store_root):
    x, _ = _blobs(60)
    m = models.build("umap-ae", input_shape=(1, 4, 4), hidden=(8,), n_neighbors=5, edge_batch=32)
    training.train(m, x, training.TrainConfig(epochs=1, batch_size=16))
    store.save(m, "u", store_root, dataset={"name": "blobs"})
    loaded, meta = store.load("u", store_root)
    assert meta["kind"] == "umap-ae" and type(loaded) is type(m) and loaded.config == m.config
    a, b = m.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert np.array_equal(evaluate.encode(m, x), evaluate.encode(loaded, x))


def _bar(n=4):
    x = torch.zeros(n, 1, 28, 28)
    x[:, :, 8:20, 12:15] = 1.0  # a vertical bar in the middle: moved, it stays inside the frame
    return x


def test_augmentation_moves_training_heads_only_and_keeps_their_ink():
    m = models.build("umap-ae", seed=0, latent_dim=2, augment_shift=2.0, augment_degrees=10.0)
    x = _bar()
    m.train()
    g = torch.Generator().manual_seed(0)
    moved = m._augment(x, g)
    assert moved.shape == x.shape
    assert (moved - x).abs().amax(dim=(1, 2, 3)).min() > 0.1  # every image moved
    # a shift of at most 2 pixels and a turn of at most 10 degrees keep the bar's ink (bilinear resampling)
    np.testing.assert_allclose(moved.sum((1, 2, 3)).numpy(), x.sum((1, 2, 3)).numpy(), rtol=0.03)
    m.eval()
    assert torch.equal(m._augment(x, g), x)  # encoding for the app or a score is never augmented
    off = models.build("umap-ae", seed=0, latent_dim=2).train()
    assert torch.equal(off._augment(x, g), x)  # the default: Sainburg et al.'s objective, unaugmented


def test_a_pure_shift_moves_the_ink_by_that_many_pixels():
    m = models.build("umap-ae", seed=0, latent_dim=2, augment_shift=2.0).train()
    x = _bar(64)
    moved = m._augment(x, torch.Generator().manual_seed(1))
    cols = torch.arange(28.0)
    centre = lambda im: (im.sum((1, 2)) * cols).sum(-1) / im.sum((1, 2, 3))  # noqa: E731 - column centre of mass
    shift = (centre(moved) - centre(x)).abs()
    assert shift.max() <= 2.0 + 1e-4 and shift.max() > 1.0  # within the bound, and it does use it


def test_augmentation_leaves_points_that_are_not_images_alone():
    m = models.build("umap-ae", seed=0, latent_dim=2, input_shape=(16,), hidden=(8,), augment_shift=2.0).train()
    x = torch.rand(5, 16)
    assert torch.equal(m._augment(x, None), x)
