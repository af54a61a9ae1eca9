"""ae_core.embeddings: the scores are measured and sane, the comparisons come out the way the
theory says (Isomap unrolls the swiss roll, PCA does not; a linear AE spans PCA's plane)."""
import numpy as np
import pytest
import torch

from ae_core import data, embeddings as E, evaluate, metrics, models, training


@pytest.fixture(scope="module")
def digits():
    return data.load_dataset("digits")


@pytest.fixture(scope="module")
def swiss():
    return data.load_dataset("swiss-roll")


def test_scores_perfect_and_chance():
    rng = np.random.default_rng(0)
    y_tr, y_te = np.repeat(np.arange(5), 40), np.repeat(np.arange(5), 20)
    centres = rng.normal(size=(5, 2)) * 100
    z_tr = centres[y_tr] + rng.normal(size=(200, 2))
    z_te = centres[y_te] + rng.normal(size=(100, 2))
    x_te = np.concatenate([z_te, np.zeros((100, 3))], 1)  # the embedding is the data's own 2-D part
    s = E.scores(x_te, y_tr, y_te, z_tr, z_te)
    assert s["knn1"] == s["knn5"] == 1.0
    assert s["trust"] > 0.999
    noise = E.scores(x_te, y_tr, y_te, rng.normal(size=(200, 2)), rng.normal(size=(100, 2)))
    assert noise["knn5"] < 0.45 and noise["trust"] < 0.8


def test_pca_on_mnist5k_is_measured(mnist5k):
    r = E.embed_method(mnist5k, "PCA")
    assert r["embedding_test"].shape == (len(mnist5k.x_test), 2)
    # PCA maps every training point, and the k-NN classifier is fitted on all of them (the papers' protocol).
    assert r["embedding_train"].shape == (len(mnist5k.x_train), 2)
    # Same held-out error as the model cards' PCA reference.
    assert r["recon_sse"] == pytest.approx(evaluate.pca_metrics(mnist5k.x_train, mnist5k.x_test, 2)["sse"], rel=1e-3)
    assert 0.2 < r["knn5"] < 0.8  # far above chance (0.1), far from separating the ten digits
    assert 0.5 < r["trust"] < 1.0
    assert r["fit_seconds"] >= 0


def test_nonlinear_methods_on_digits(digits):
    res = {r["method"]: r for r in E.compare(digits, ("PCA", "Isomap", "LLE"))}
    for r in res.values():
        assert r["embedding_test"].shape == (len(digits.x_test), 2)
        assert 0 <= r["knn1"] <= 1 and 0 <= r["trust"] <= 1
    assert res["Isomap"]["recon_sse"] is None and res["LLE"]["recon_sse"] is None
    # Neighbourhood methods keep the digit classes apart better than a linear projection.
    assert res["LLE"]["knn5"] > res["PCA"]["knn5"] + 0.1
    assert res["Isomap"]["trust"] > res["PCA"]["trust"]


def test_umap_is_out_of_sample_scored_like_the_others_and_beats_pca(digits):
    res = {r["method"]: r for r in E.compare(digits, ("PCA", "UMAP"))}
    u = res["UMAP"]
    assert u["embedding_test"].shape == (len(digits.x_test), 2) and u["recon_sse"] is None
    assert "out-of-sample transform" in u["note"] and u["fit_seconds"] > 0
    # the same scores as every method: k-NN on the training map, trustworthiness, silhouette
    assert u["knn5"] == pytest.approx(metrics.knn_accuracy(u["embedding_train"], digits.y_train,
                                                           u["embedding_test"], digits.y_test, 5))
    assert u["silhouette"] == pytest.approx(metrics.silhouette(u["embedding_test"], digits.y_test))
    assert u["knn5"] > res["PCA"]["knn5"] + 0.2 and u["silhouette"] > res["PCA"]["silhouette"]


@pytest.mark.slow
def test_tsne_is_joint_and_says_so(digits):
    z_tr, z_te, secs = E.tsne_joint(digits.x_train, digits.x_test[:60], n_fit=150)
    assert z_tr.shape == (150, 2) and z_te.shape == (60, 2) and secs > 0
    with pytest.raises(ValueError):
        E.Embedder2D("t-SNE").fit(digits.x_train)
    assert "transductive" in E.TSNE_NOTE


def test_tsne_is_the_one_seeded_single_thread_call_of_both_pages(monkeypatch):
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 0.1, (15, 5)), rng.normal(3, 0.1, (15, 5))].astype(np.float32)
    a, b = E.tsne(x, seed=1), E.tsne(x, seed=1)
    assert a.shape == (30, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)  # 30 points: the perplexity is capped below scikit-learn's limit
    seen = []
    real = E.TSNE

    class Spy(real):
        def fit_transform(self, X, y=None):
            from threadpoolctl import threadpool_info
            seen.append((self.perplexity, self.max_iter, {p["num_threads"] for p in threadpool_info()}))
            return super().fit_transform(X)

    monkeypatch.setattr(E, "TSNE", Spy)
    from ae_core import latent
    latent.Projector("tsne").fit(x)
    E.tsne_joint(x[:20], x[20:], n_fit=20)
    assert [s[:2] for s in seen] == [(29 / 3, E.TSNE_ITER)] * 2 and all(s[2] == {1} for s in seen), seen


def test_model_embedding_only_for_2d(digits):
    m3 = models.build("ae", input_shape=digits.sample_shape, latent_dim=3, hidden=(8,))
    r = E.embed_model(digits, m3, "three")
    assert r["embedding_test"] is None and r["knn5"] is None and "not applicable" in r["note"]
    m2 = models.build("ae", input_shape=digits.sample_shape, latent_dim=2, hidden=(8,))
    r = E.embed_model(digits, m2, "two", train_seconds=1.5)
    assert r["method"] == "AE (two)" and r["embedding_test"].shape == (len(digits.x_test), 2)
    assert r["recon_sse"] == pytest.approx(evaluate.model_metrics(m2, digits.x_test)["sse"])
    assert r["fit_seconds"] == 1.5


def test_pca_error_curve_matches_pca_and_decreases(digits):
    curve = dict(E.pca_error_curve(digits.x_train, digits.x_test, (1, 2, 5, 10, 64, 500)))
    assert sorted(curve) == [1, 2, 5, 10, 64]  # 500 capped at the 64 features
    assert curve[2] == pytest.approx(evaluate.pca_metrics(digits.x_train, digits.x_test, 2)["sse"], rel=1e-4)
    vals = [curve[d] for d in sorted(curve)]
    assert all(a > b for a, b in zip(vals, vals[1:]))
    assert curve[64] == pytest.approx(0.0, abs=1e-8)


def test_principal_angles_exact_cases(digits):
    lin = models.build("linear", input_shape=digits.sample_shape, latent_dim=2)
    _, comps = E.pca_basis(digits.x_train)
    with torch.no_grad():
        dec = lin.decoder[0]
        mix = torch.tensor([[2.0, 1.0], [-0.5, 3.0]])  # any invertible mixing spans the same plane
        dec.weight.copy_(torch.tensor(np.array(comps[:2].T), dtype=torch.float32) @ mix)
    assert E.principal_angles(lin, digits.x_train).max() < 0.01
    with torch.no_grad():
        dec.weight.copy_(torch.tensor(np.array(comps[10:12].T), dtype=torch.float32))
    assert E.principal_angles(lin, digits.x_train).min() > 80


@pytest.mark.slow
def test_linear_ae_trained_briefly_spans_pca_plane(mnist5k):
    lin = models.build("linear", latent_dim=2)
    training.train(lin, mnist5k.x_train, training.TrainConfig(epochs=10, lr=1e-2, batch_size=32, patience=0))
    angles = E.principal_angles(lin, mnist5k.x_train)
    assert angles.max() < 10, angles


def test_unrolling_score():
    rng = np.random.default_rng(0)
    t = rng.random(300)
    a = np.deg2rad(37)
    z = np.stack([np.cos(a) * t, np.sin(a) * t], 1) + rng.normal(scale=1e-4, size=(300, 2))
    assert E.unrolling_score(z, t) > 0.999
    assert E.unrolling_score(rng.normal(size=(300, 2)), t) < 0.25


@pytest.mark.slow
def test_isomap_unrolls_the_swiss_roll_pca_squashes_it(swiss):
    """The page's claim as a measurement: Isomap orders the roll by t and keeps neighbours; PCA does not."""
    out = {}
    for m in ("PCA", "Isomap"):
        emb = E.Embedder2D(m, n_fit=len(swiss.x_train)).fit(swiss.x_train)
        z = emb.transform(swiss.x_test)
        out[m] = (E.unrolling_score(z, swiss.t_test), E.scores(swiss.x_test, swiss.y_train, swiss.y_test,
                                                               emb.transform(swiss.x_train), z)["trust"])
    assert out["Isomap"][0] > 0.95 and out["PCA"][0] < 0.6
    assert out["Isomap"][0] > out["PCA"][0] + 0.3
    assert out["Isomap"][1] > out["PCA"][1]
