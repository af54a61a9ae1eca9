"""ae_core.metrics against scikit-learn's definitions, and the blocked computations against one block."""
import numpy as np
import pytest
from sklearn.manifold import trustworthiness as sk_trust
from sklearn.neighbors import KNeighborsClassifier

from ae_core import metrics, noise


def _data(n=300, d=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    z = x[:, :2] + 0.3 * rng.normal(size=(n, 2))
    y = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 0.5)
    return x, z, y


@pytest.mark.parametrize("k", [1, 5, 12])
def test_trustworthiness_equals_sklearn(k):
    x, z, _ = _data()
    ref = sk_trust(x, z, n_neighbors=k)
    assert metrics.trustworthiness(x, z, k) == pytest.approx(ref, abs=1e-12)
    # blocks of any size give the same figure
    assert metrics.trustworthiness(x, z, k, block=7) == pytest.approx(ref, abs=1e-12)


def test_trustworthiness_is_one_for_an_isometry_and_low_for_noise():
    x, _, _ = _data()
    rot = np.linalg.qr(np.random.default_rng(1).normal(size=(10, 10)))[0]
    assert metrics.trustworthiness(x, x @ rot, 5) == pytest.approx(1.0)
    noise = np.random.default_rng(2).normal(size=(len(x), 2))
    assert metrics.trustworthiness(x, noise, 5) < 0.6


@pytest.mark.parametrize("k", [1, 4, 5])
def test_knn_accuracy_equals_sklearn(k):
    x, z, y = _data(400)
    tr, te = slice(0, 300), slice(300, None)
    ref = KNeighborsClassifier(n_neighbors=k).fit(z[tr], y[tr]).score(z[te], y[te])
    assert metrics.knn_accuracy(z[tr], y[tr], z[te], y[te], k) == pytest.approx(ref)


def test_knn_indices_blocks_exclusion_and_order():
    x, _, _ = _data(200)
    full = np.argsort(((x[:, None] - x[None]) ** 2).sum(-1) + np.diag(np.full(200, np.inf)), axis=1, kind="stable")[:, :6]
    got = metrics.knn_indices(x, x, 6, exclude=np.arange(200), block=13)
    assert np.array_equal(got, full)
    assert not (got == np.arange(200)[:, None]).any()
    # k at least the pool size returns every pool row, nearest first
    assert metrics.knn_indices(x[:1], x[:4], 10).shape == (1, 4)


def test_summarise_clips_unless_asked_not_to():
    x = np.zeros((2, 4))
    x_hat = np.full((2, 4), -0.5)
    assert metrics.summarise(x, x_hat)["sse"] == 0.0
    assert metrics.summarise(x, x_hat, clip=False)["sse"] == pytest.approx(1.0)


def test_knn_tree_and_brute_force_agree(monkeypatch):
    rng = np.random.default_rng(3)
    for d in (2, 5):
        pool, q = rng.normal(size=(500, d)), rng.normal(size=(60, d))
        tree = metrics.knn_indices(q, pool, 7)
        loo = metrics.knn_indices(pool, pool, 4, exclude=np.arange(500))
        monkeypatch.setattr(metrics, "TREE_MAX_DIM", 0)  # force the blocked brute force
        assert np.array_equal(tree, metrics.knn_indices(q, pool, 7, block=50))
        assert np.array_equal(loo, metrics.knn_indices(pool, pool, 4, exclude=np.arange(500)))
        monkeypatch.undo()


def test_psnr_is_per_image_and_matches_the_formula():
    clean = np.zeros((3, 1, 8, 8), np.float32)
    est = clean + np.array([0.1, 0.01, 0.5], np.float32).reshape(3, 1, 1, 1)
    np.testing.assert_allclose(metrics.psnr(clean, est), [20.0, 40.0, 10 * np.log10(4)], rtol=1e-5)
    # A single image is a batch of one.
    assert metrics.psnr(clean[0], est[0]).shape == (1,)


def test_ssim_is_one_for_identical_images_and_falls_with_noise(mnist5k):
    x = mnist5k.x_test[:5]
    assert np.allclose(metrics.ssim(x, x), 1.0)
    light = metrics.ssim(x, noise.corrupt(x, "gaussian:0.1", 0))
    heavy = metrics.ssim(x, noise.corrupt(x, "gaussian:0.5", 0))
    assert (heavy < light).all() and (light < 1).all()


def test_ssim_works_on_8x8_digits():
    rng = np.random.default_rng(0)
    x = rng.random((2, 1, 8, 8)).astype(np.float32)
    assert np.allclose(metrics.ssim(x, x), 1.0)
