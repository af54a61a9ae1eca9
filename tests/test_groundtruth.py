"""ae_core.groundtruth: scores of a model against a dataset's factors, slider names, and the traversal probe."""
import numpy as np
import pytest

from ae_core import data, groundtruth, models


@pytest.fixture(scope="module")
def sprites_ds():
    return data.load_dataset("sprites")


@pytest.fixture(scope="module")
def model():
    return models.build("ae", seed=0, input_shape=(1, 32, 32), latent_dim=4, hidden=(16,)).eval()


def test_score_shapes_and_ranges(model, sprites_ds):
    s = groundtruth.score(model, sprites_ds, n_eval=800, n_fit=800)
    assert s.nmi.shape == (4, 5) and s.importance.shape == (4, 5)
    assert s.factor_names == sprites_ds.factor_names
    for v in s.summary().values():
        assert 0 <= v <= 1
    assert s.n_eval == 800


def test_score_refuses_a_dataset_without_factors(model):
    with pytest.raises(ValueError, match="no ground-truth factors"):
        groundtruth.score(model, data.load_dataset("digits"))


def test_labels_name_the_factor_with_the_most_information():
    nmi = np.array([[0.05, 0.6], [0.02, 0.03]])
    s = groundtruth.Scores(("scale", "rotation"), nmi, 0.5, np.array([0.5, 0.5]), 0.1,
                           {"disentanglement": 0, "completeness": 0, "informativeness": 0}, nmi, 10)
    assert s.label(0) == "z0 ≈ rotation (MI 0.60)"
    assert s.label(1).startswith("z1: no single factor")


def test_probe_reads_training_images_back_exactly(sprites_ds):
    f = groundtruth.probe_factors(sprites_ds, sprites_ds.x_train[:20])
    assert np.array_equal(f, sprites_ds.factors_train[:20])


def test_traversal_effect_is_a_fraction_per_factor(model, sprites_ds):
    from ae_core import evaluate

    z = evaluate.encode(model, sprites_ds.x_test[:3])
    moved = groundtruth.traversal_effect(model, sprites_ds, z, [0, 2], np.ones(4), n_steps=5)
    assert moved.shape == (2, 5) and (moved >= 0).all() and (moved <= 1).all()
    still = groundtruth.traversal_effect(model, sprites_ds, z, [1], np.zeros(4), n_steps=5)
    assert np.allclose(still, 0)  # a sweep of width 0 moves nothing
