"""Larochelle et al.'s MNIST variations (ae_core/data/variants.py): what each corruption does, and the registry."""
import numpy as np
import pytest

from ae_core import data
from ae_core.data import variants


@pytest.fixture(scope="module")
def digits():
    return data.load_dataset("mnist-5k").x_test[:50]


def test_rotation_by_a_full_turn_or_two_half_turns_gives_the_digit_back(digits):
    full = variants.rotate(digits, np.full(len(digits), 2 * np.pi))
    half = variants.rotate(variants.rotate(digits, np.full(len(digits), np.pi)), np.full(len(digits), np.pi))
    assert np.abs(full - digits).max() < 1e-4
    assert np.abs(half - digits).mean() < 1e-3
    # A quarter turn moves the ink: the same digit is a different image.
    quarter = variants.rotate(digits, np.full(len(digits), np.pi / 2))
    assert np.abs(quarter - digits).mean() > 0.05
    assert quarter.min() >= 0 and quarter.max() <= 1


def test_random_background_keeps_the_ink_and_fills_the_rest_uniformly(digits):
    out = variants.random_background(digits, np.random.default_rng(0))
    ink = digits > 0
    assert np.array_equal(out[ink], digits[ink])
    bg = out[~ink]
    assert abs(bg.mean() - 0.5) < 0.01 and bg.min() >= 0 and bg.max() <= 1
    assert abs(np.quantile(bg, 0.25) - 0.25) < 0.01  # uniform, not just centred
    again = variants.random_background(digits, np.random.default_rng(0))
    assert np.array_equal(out, again)


def test_registered_as_image_datasets():
    assert {"mnist-rot", "mnist-bg-rand"} <= set(data.image_datasets())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mnist-rot", "mnist-bg-rand"])
def test_generated_from_full_mnist_with_larochelles_sizes(name):
    try:
        base = data.load_dataset("mnist")
    except data.DatasetError:
        pytest.skip("full MNIST is not on this machine")
    ds = data.load_dataset(name)
    assert ds.x_train.shape == (variants.N_TRAIN, 1, 28, 28) and ds.x_test.shape == (10_000, 1, 28, 28)
    assert np.array_equal(ds.y_train, base.y_train[: variants.N_TRAIN]) and np.array_equal(ds.y_test, base.y_test)
    assert not np.array_equal(ds.x_test[:10], base.x_test[:10])
    # Deterministic: generated again from scratch, the same images.
    fresh = variants.mnist_rot() if name == "mnist-rot" else variants.mnist_bg_rand()
    assert np.array_equal(fresh.x_train[:100], ds.x_train[:100]) and np.array_equal(fresh.x_test[-100:], ds.x_test[-100:])
