"""ae_core.manifold: the curse-of-dimensionality numbers, random samples, and the off-manifold detector
(measured: it separates held-out digits from noise)."""
import math

import numpy as np
import pytest

from ae_core import latent, manifold, models, store, training


def test_samples_for_density_is_per_axis_to_the_d():
    assert [manifold.samples_for_density(d) for d in (1, 2, 3)] == [10, 100, 1000]
    assert manifold.samples_for_density(10) == 10**10
    assert manifold.samples_for_density(4, per_axis=3) == 81
    assert [r["samples"] for r in manifold.density_table(3, 5)] == [5, 25, 125]


def test_distance_concentration_falls_with_dimension():
    rows = manifold.distance_concentration(dims=(2, 10, 100, 1000), n=200, seed=0)
    ratios = [r["ratio"] for r in rows]
    assert all(a > b for a, b in zip(ratios, ratios[1:])), ratios
    assert ratios[-1] < 0.5 < 5 < ratios[0]
    for r in rows:
        assert 0 < r["min"] <= r["mean"] <= r["max"]
        assert r["ratio"] == pytest.approx((r["max"] - r["min"]) / r["min"])
    # Seeded: the same call gives the same numbers.
    again = manifold.distance_concentration(dims=(5,), n=50, seed=3)
    assert manifold.distance_concentration(dims=(5,), n=50, seed=3) == again


def test_ball_fraction_matches_known_volumes():
    assert manifold.ball_fraction(1) == pytest.approx(1.0)
    assert manifold.ball_fraction(2) == pytest.approx(math.pi / 4)
    assert manifold.ball_fraction(3) == pytest.approx(math.pi / 6)
    assert manifold.ball_fraction(4) == pytest.approx(math.pi**2 / 32)
    assert manifold.ball_fraction(10) == pytest.approx(math.pi**5 / 120 / 2**10)
    fr = [manifold.ball_fraction(d) for d in range(1, 30)]
    assert all(a > b for a, b in zip(fr, fr[1:])) and fr[-1] < 1e-10
    with pytest.raises(ValueError):
        manifold.ball_fraction(0)


def test_uniform_images_are_seeded_and_in_range():
    a = manifold.uniform_images(4, (1, 28, 28), seed=1)
    assert a.shape == (4, 1, 28, 28) and a.dtype == np.float32 and 0 <= a.min() and a.max() < 1
    np.testing.assert_array_equal(a, manifold.uniform_images(4, (1, 28, 28), seed=1))


def test_decoded_samples_decode_latent_sample_codes():
    rng = np.random.default_rng(0)
    z_train = rng.normal([5.0, -3.0], [1.0, 0.1], size=(2000, 2)).astype(np.float32)
    ae = models.build("ae", latent_dim=2, hidden=(8,))
    stats = latent.latent_stats(ae, None, z_train=z_train)
    x = manifold.decoded_samples(ae, stats, 5, 0)
    assert x.shape == (5, 1, 28, 28) and x.min() >= 0 and x.max() <= 1
    from ae_core import evaluate

    np.testing.assert_allclose(x, np.clip(evaluate.decode(ae, latent.sample_codes(stats, 5, 0)), 0, 1))


def test_other_dataset_is_resized_to_the_model_shape():
    name, x = manifold.other_dataset((1, 28, 28), n=20, prefer=())
    assert name.startswith("scikit-learn") and x.shape == (20, 1, 28, 28)
    assert 0 <= x.min() and x.max() <= 1


def test_heldout_slice_is_the_training_validation_slice():
    x = np.arange(100, dtype=np.float32).reshape(100, 1)
    meta = {"train": {"seed": 3, "val_fraction": 0.2}}
    got = manifold.heldout_slice(x, meta)
    _, val = training.split_validation(100, 0.2, 3)
    np.testing.assert_array_equal(np.sort(got.ravel()), np.sort(val).astype(np.float32))
    assert len(manifold.heldout_slice(x, {})) == 10


def test_detector_contract_and_threshold_is_the_99th_percentile(mnist5k):
    model = models.build("ae", latent_dim=4, hidden=(16,))
    held = mnist5k.x_train[:200]
    det = manifold.OffManifoldDetector()
    assert not hasattr(det, "threshold_")
    assert det.fit(model, held) is det
    scores = manifold.reconstruction_errors(model, held)
    assert det.threshold_ == pytest.approx(np.percentile(scores, 99))
    assert det.predict(held).mean() <= 0.02
    np.testing.assert_allclose(det.score(held), scores)
    assert det.percentile_of(np.array([np.inf]))[0] == 100


def test_error_comparison_scores_test_noise_and_other_images(mnist5k):
    model = models.build("ae", latent_dim=4, hidden=(16,))
    det = manifold.OffManifoldDetector().fit(model, mnist5k.x_train[:100])
    out = manifold.error_comparison(det, mnist5k.x_test, "mnist-5k", n=30, seed=0)
    assert out["threshold"] == det.threshold_ and len(out["heldout"]) == 100
    assert list(out["scores"])[:2] == ["mnist-5k test images", "uniform random pixels"] and len(out["scores"]) == 3
    np.testing.assert_allclose(out["scores"]["mnist-5k test images"], det.score(mnist5k.x_test[:30]))
    assert all(len(v) == 30 for v in out["scores"].values())


def test_detection_auroc_is_the_share_of_outside_inside_pairs_ranked_right():
    assert manifold.detection_auroc([0.1, 0.2], [0.3, 0.4]) == 1.0
    assert manifold.detection_auroc([0.3, 0.4], [0.1, 0.2]) == 0.0
    assert manifold.detection_auroc([0.5, 0.5], [0.5]) == 0.5  # ties count half
    # Pairs (inside, outside) with outside above: (1,2) (1,4) (3,4) of 4 -> 0.75.
    assert manifold.detection_auroc([1.0, 3.0], [2.0, 4.0]) == pytest.approx(0.75)


def test_error_summary_rows_follow_the_scores_and_the_threshold():
    scores = {"test": np.array([0.1, 0.2, 0.3, 0.4]), "noise": np.array([0.5, 0.6, 0.05, 0.7])}
    rows = manifold.error_summary(scores, threshold=0.35)
    assert [r["name"] for r in rows] == ["test", "noise"] and [r["n"] for r in rows] == [4, 4]
    assert rows[0]["auroc"] is None and rows[1]["auroc"] == pytest.approx(12 / 16)
    assert rows[0]["median"] == pytest.approx(0.25) and rows[1]["median"] == pytest.approx(0.55)
    assert rows[0]["flagged"] == 0.25 and rows[1]["flagged"] == 0.75


def test_log_bins_span_every_set_with_a_positive_floor():
    bins = manifold.log_bins([np.array([0.0, 0.01]), np.array([1.0])], 5)
    assert len(bins) == 5 and bins[0] == pytest.approx(1e-5) and bins[-1] == pytest.approx(1.0)
    assert np.allclose(np.diff(np.log10(bins)), np.log10(bins[1] / bins[0]))
    assert manifold.log_bins(np.array([0.1, 10.0]), 3) == pytest.approx([0.1, 1.0, 10.0])


@pytest.mark.slow
def test_shipped_ae16d_detector_separates_test_digits_from_noise(mnist5k):
    """Measured: the detector's scores separate held-out test digits from uniform noise (AUROC >= 0.99),
    with the threshold set on the training split's validation slice only."""
    model, meta = store.load("ae-16d")
    det = manifold.fit_detector(model, mnist5k.x_train, meta)
    digits = mnist5k.x_test[:300]
    noise = manifold.uniform_images(300, digits.shape[1:], seed=1)
    auroc = manifold.detection_auroc(det.score(digits), det.score(noise))
    assert auroc >= 0.99, auroc
    assert det.predict(noise).mean() > 0.95
    assert det.predict(digits).mean() < 0.05
