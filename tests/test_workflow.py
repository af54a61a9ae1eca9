"""workflow: the recipes that train or walk the store (shipped models are in test_shipped.py)."""
import numpy as np
import pytest

from ae_core import data, evaluate, models, store, workflow


@pytest.fixture(scope="module")
def digits():
    return data.load_dataset("digits")


def test_error_vs_dimension_reads_cards_and_recomputes(digits, store_root):
    m = models.build("ae", input_shape=digits.sample_shape, latent_dim=3, hidden=(8,))
    dsmeta = {"name": "digits"}
    store.save(m, "carded", store_root, dataset=dsmeta, metrics={"test": {"sse": 1.25, "mse": 0.02, "psnr": 17.0}})
    store.save(m, "bare", store_root, dataset=dsmeta)
    store.save(m, "other", store_root, dataset={"name": "mnist-5k"}, metrics={"test": {"sse": 9.0, "mse": 0.1, "psnr": 10.0}})
    out = workflow.error_vs_dimension(digits, dims=(1, 2), models_root=store_root)
    rows = {r["name"]: r for r in out["models"]}
    assert set(rows) == {"carded", "bare"}
    assert rows["carded"]["sse"] == 1.25 and rows["carded"]["source"] == "model card"
    assert rows["bare"]["source"] == "recomputed"
    assert rows["bare"]["sse"] == pytest.approx(evaluate.model_metrics(m, digits.x_test)["sse"])
    assert 3 in dict(out["pca"]) and rows["bare"]["pca_sse"] == dict(out["pca"])[3]


@pytest.mark.slow
def test_tiny_filter_daes_differ_only_in_noise_level(mnist5k):
    daes = workflow.filter_daes(mnist5k.x_train, levels=(0.1, 0.5), epochs=1, n_train=256)
    assert set(daes) == {0.1, 0.5}
    a, b = daes[0.1], daes[0.5]
    assert a.config.noise == "masking:0.1" and b.config.noise == "masking:0.5"
    assert a.latent_dim == b.latent_dim == 64 and a.config.weight == 0.0
    assert not np.allclose(a.first_layer_filters(), b.first_layer_filters())


def test_unrolling_trains_the_ae_it_reports_and_scores_every_method():
    import torch

    torch.set_num_threads(1)
    rows = workflow.unrolling("swiss-roll", ae_seconds=0.3)
    assert [r["method"] for r in rows] == ["PCA", "Isomap", "LLE", "AE"]
    ae = rows[-1]
    assert ae["fit_seconds"] is not None and ae["fit_seconds"] > 0
    for r in rows:
        assert r["embedding"].shape == (len(r["t"]), 2) and 0.0 <= r["unrolling"] <= 1.0 and 0.0 <= r["trust"] <= 1.0
