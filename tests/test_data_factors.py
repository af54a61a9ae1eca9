"""The datasets with ground-truth factors: `sprites` (dSprites' grid rendered here) and `mnist-affine`."""
import numpy as np
import pytest

from ae_core import data
from ae_core.data import sprites


def test_grid_factors_cover_dsprites_values():
    f = sprites.grid_factors(np.arange(int(np.prod(sprites.GRID))))
    assert f.shape == (737_280, 5)
    counts = [len(np.unique(f[:, j])) for j in range(5)]
    assert counts == [3, 6, 40, 32, 32]
    assert f[:, 1].min() == pytest.approx(0.5) and f[:, 1].max() == pytest.approx(1.0)
    assert f[:, 2].min() == 0 and f[:, 2].max() < 2 * np.pi


def test_render_is_deterministic_and_follows_each_factor():
    base = np.array([[2, 1.0, 0.0, 0.5, 0.5]], np.float32)
    a, b = sprites.render(base), sprites.render(base)
    assert a.shape == (1, 1, sprites.SIZE, sprites.SIZE) and np.array_equal(a, b)
    assert 0 <= a.min() and a.max() <= 1
    ys, xs = np.mgrid[0:sprites.SIZE, 0:sprites.SIZE]

    def centre(img):
        m = img[0, 0]
        return (m * xs).sum() / m.sum(), (m * ys).sum() / m.sum()

    right, down = base.copy(), base.copy()
    right[0, 3], down[0, 4] = 1.0, 1.0
    assert centre(sprites.render(right))[0] > centre(a)[0] + 5  # x moves the shape right
    assert centre(sprites.render(down))[1] > centre(a)[1] + 5   # y moves it down
    small = base.copy(); small[0, 1] = 0.5
    assert sprites.render(small).sum() == pytest.approx(a.sum() / 4, rel=0.25)  # area goes with scale² (edges add a little)
    turned = base.copy(); turned[0, 2] = np.pi / 2
    assert np.abs(sprites.render(turned) - a).mean() > 0.01  # a heart turned 90° is another image
    shapes = sprites.render(np.array([[k, 1.0, 0.0, 0.5, 0.5] for k in range(3)], np.float32))
    assert np.abs(shapes[0] - shapes[1]).mean() > 0.01 and np.abs(shapes[1] - shapes[2]).mean() > 0.01


@pytest.mark.parametrize("name, n_factors", [("sprites", 5), ("mnist-affine", 2)])
def test_registered_with_factors(name, n_factors):
    assert name in data.ENTRIES and data.ENTRIES[name].images
    ds = data.load_dataset(name)
    assert ds.has_factors and len(ds.factor_names) == n_factors
    assert ds.factors_train.shape == (len(ds.x_train), n_factors)
    assert ds.factors_test.shape == (len(ds.x_test), n_factors)
    assert ds.x_train.dtype == np.float32 and 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    assert not ds.factors_test.flags.writeable  # shared read-only like the images
    # Every factor varies in both splits (the metrics need it).
    assert (ds.factors_test.std(0) > 0).all() and (ds.factors_train.std(0) > 0).all()


def test_sprites_split_is_disjoint_and_fixed():
    tr, te = sprites.split_indices(data.SPLIT_SEED)
    assert len(tr) == sprites.N_TRAIN and len(te) == sprites.N_TEST
    assert not set(tr.tolist()) & set(te.tolist())
    tr2, _ = sprites.split_indices(data.SPLIT_SEED)
    assert np.array_equal(tr, tr2)
    ds = data.load_dataset("sprites")
    assert np.array_equal(ds.factors_train, sprites.grid_factors(tr))
    assert np.array_equal(ds.y_train, ds.factors_train[:, 0].astype(np.int64))  # the label is the shape


def test_mnist_affine_applies_its_factors():
    base = data.load_dataset("mnist-5k")
    ds = data.load_dataset("mnist-affine")
    k = sprites.AFFINE_COPIES
    assert len(ds.x_train) == k * len(base.x_train) and len(ds.x_test) == k * len(base.x_test)
    assert np.array_equal(ds.y_test[: len(base.y_test)], base.y_test)  # test copies come from test digits
    # Ink mass goes with scale²: the measured ratio follows the applied factor.
    ratio = ds.x_train.sum((1, 2, 3)) / np.tile(base.x_train.sum((1, 2, 3)), k)
    assert np.corrcoef(ratio, ds.factors_train[:, 0] ** 2)[0, 1] > 0.95
    # The identity transform gives the digit back.
    same = sprites.transform_digits(base.x_test[:5], np.ones(5), np.zeros(5))
    assert np.abs(same - base.x_test[:5]).max() < 1e-5


def test_the_registry_says_which_datasets_have_factors():
    assert data.factor_datasets() == ["sprites", "mnist-affine"]
    assert not data.load_dataset("digits").has_factors
