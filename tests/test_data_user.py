"""ae_core.data.user: a user's ZIP of class folders or .npz becomes a Dataset with its origin; each bad
upload is refused with a message naming what is wrong; the private file round-trips exactly."""
import io
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from ae_core import data
from ae_core.data import DatasetError, user


def png(value: int, size=(16, 16)) -> bytes:
    rng = np.random.default_rng(value)
    arr = rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8)
    arr[0, 0] = value
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def make_zip(entries) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in entries:
            zf.writestr(name, payload)
    return buf.getvalue()


def classes_zip(n=(6, 6), top="", size=(16, 16), extra=()) -> bytes:
    entries = [(f"{top}{c}/{i}.png", png(10 * k + i, size)) for k, c in enumerate(("circle", "square")[: len(n)])
               for i in range(n[k])]
    return make_zip(entries + list(extra))


def refused(blob, *words, name="mine.zip", **kw):
    with pytest.raises(DatasetError) as e:
        user.load_upload(blob, name, **kw)
    for w in words:
        assert w in str(e.value), str(e.value)
    return str(e.value)


def test_zip_of_class_folders():
    blob = classes_zip()
    ds = user.load_upload(blob, "shapes.zip")
    assert ds.class_names == ("circle", "square")
    assert ds.sample_shape == (1, 16, 16)
    assert len(ds.x_train) + len(ds.x_test) == 12 and len(ds.x_test) == 2
    assert sorted(np.bincount(ds.y_test)) == [1, 1]
    assert ds.x_train.dtype == np.float32 and 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    o = ds.origin
    assert o["file"] == "shapes.zip" and o["format"] == "zip" and len(o["sha256"]) == 64
    assert (o["n_images"], o["n_train"], o["n_test"], o["n_classes"]) == (12, 10, 2, 2)
    assert ds.name == f"shapes-{o['sha256'][:8]}"
    # The pixels are the PNGs' own: the image with value 10*0+3 at (0, 0) is in there.
    x = np.concatenate([ds.x_train, ds.x_test])
    assert np.isclose(x[:, 0, 0, 0] * 255, 3).any()


def test_one_top_folder_and_os_clutter_are_fine():
    blob = classes_zip(top="dataset/", extra=[("__MACOSX/dataset/._x", b"meta"), ("dataset/circle/.DS_Store", b"x")])
    ds = user.load_upload(blob, "d.zip")
    assert ds.class_names == ("circle", "square") and ds.origin["skipped"] == 2


def test_same_content_same_name():
    assert user.load_upload(classes_zip(), "a.zip").name == user.load_upload(classes_zip(), "a.zip").name


def test_each_bad_zip_has_its_message():
    refused(classes_zip(n=(12,)), "single class")
    refused(classes_zip(extra=[("triangle/", b"")]), "'triangle'", "empty")
    refused(classes_zip(extra=[("circle/notes.txt", b"hello")]), "notes.txt", "not an image")
    refused(classes_zip(extra=[("circle/broken.png", b"not really a png")]), "broken.png", "not an image Pillow")
    refused(classes_zip(extra=[("circle/big.png", png(1, (20, 16)))]), "mixed sizes", "20×16", "16×16")
    refused(classes_zip(extra=[("loose.png", png(1))]), "not in a class folder")
    refused(classes_zip(extra=[("circle/inner/x.png", png(1))]), "inside a class")
    refused(classes_zip(n=(2, 2)), "at least 10")
    refused(classes_zip(extra=[("../../evil.png", png(1))]), "path traversal")
    refused(classes_zip(extra=[("circle/inner.zip", make_zip([("a.png", png(1))]))]), "nested")
    refused(make_zip([("circle/zeros.png", bytes(20_000_000)), ("square/1.png", png(1))]), "ZIP bomb")
    link = zipfile.ZipInfo("circle/link.png")
    link.create_system, link.external_attr = 3, (stat.S_IFLNK | 0o777) << 16
    refused(classes_zip(extra=[(link, "/etc/passwd")]), "symbolic link")
    refused(classes_zip(size=(80, 80)), "the limit is", "Resize")
    refused(b"garbage", "not a readable ZIP")
    refused(b"x", "upload a .zip", name="mine.tar")


def test_resize_takes_mixed_and_large_images():
    blob = classes_zip(size=(80, 80), extra=[("circle/odd.png", png(3, (50, 30)))])
    ds = user.load_upload(blob, "big.zip", resize=28)
    assert ds.sample_shape == (1, 28, 28) and ds.origin["resized_to"] == 28
    with pytest.raises(ValueError):
        user.load_upload(blob, "big.zip", resize=27)


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_npz_upload_with_origin():
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 12, 12), dtype=np.float32), np.repeat([0, 1], 20)
    blob = npz(X=x, y=y)
    ds = user.load_upload(blob, "arrays.npz")
    assert ds.sample_shape == (1, 12, 12) and ds.class_names == ("0", "1")
    assert ds.origin["format"] == "npz" and ds.origin["n_images"] == 40 and ds.name.startswith("arrays-")
    # Every image is one of X's, unchanged.
    got = np.concatenate([ds.x_train, ds.x_test])[:, 0]
    assert sorted(map(bytes, got)) == sorted(map(bytes, x))


def test_bad_npz_messages():
    refused(b"PK\x03\x04 not really", "not a readable .npz", name="a.npz")
    refused(npz(images=np.zeros((20, 8, 8))), "no array named 'X'", name="a.npz")
    refused(npz(X=np.zeros((20, 5))), "square", name="a.npz")
    refused(npz(X=np.zeros((20, 8, 8)), y=np.zeros(19, int)), "y must be", name="a.npz")
    refused(npz(X=np.array(["a"] * 20)), "numbers", name="a.npz")


def test_private_file_round_trip(tmp_path):
    ds = user.load_upload(classes_zip(), "shapes.zip")
    path = user.save_private(ds, tmp_path)
    assert path.name == f"{ds.name}.npz"
    back = user.load_private(path)
    for a in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(back, a), getattr(ds, a))
    assert (back.name, back.class_names, back.origin, back.description) == (ds.name, ds.class_names, ds.origin,
                                                                           ds.description)
    assert user.save_private(ds, tmp_path) == path  # the same content is not written twice
    (tmp_path / "junk.npz").write_bytes(b"nope")
    with pytest.raises(DatasetError):
        user.load_private(tmp_path / "junk.npz")


def test_private_dir_is_private():
    d = user.private_dir()
    assert d.is_dir() and d.stat().st_mode & 0o077 == 0


def test_card_meta_records_the_origin():
    from ae_core import models, workflow
    from ae_core.training import History, TrainConfig

    ds = user.load_upload(classes_zip(), "shapes.zip")
    model = models.build("ae", input_shape=ds.sample_shape, latent_dim=2, hidden=(8,))
    meta = workflow.TrainResult(model, History([]), {}, ds, TrainConfig()).meta()
    assert meta["dataset"]["name"] == ds.name
    assert meta["dataset"]["origin"]["sha256"] == ds.origin["sha256"]
    assert meta["dataset"]["origin"]["file"] == "shapes.zip"
    assert "origin" not in workflow.TrainResult(model, History([]), {}, data.load_dataset("digits"),
                                                TrainConfig()).meta()["dataset"]
