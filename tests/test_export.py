"""ae_core.export: the bytes behind every download button decode to what the page shows."""
import csv
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from ae_core import export


def _png(b: bytes) -> np.ndarray:
    im = Image.open(io.BytesIO(b))
    assert im.format == "PNG"
    return np.asarray(im)


def test_image_png_is_the_image_enlarged_crisp():
    img = np.zeros((1, 28, 28), np.float32)
    img[0, 3, 5] = 1.0
    a = _png(export.image_png(img, scale=4))
    assert a.shape == (112, 112)
    assert (a[12:16, 20:24] == 255).all() and a.sum() == 16 * 255  # one pixel became one 4x4 square


def test_grid_png_has_the_size_grid_size_says():
    x = np.random.default_rng(0).random((13, 1, 28, 28), dtype=np.float32)
    a = _png(export.grid_png(x, 5, scale=2))
    assert a.shape == export.grid_size(13, 5, 28, 28, scale=2) == ((3 * 28 + 4) * 2, (5 * 28 + 6) * 2)


def test_strip_png_stacks_rows_of_unequal_length():
    a = _png(export.strip_png([np.zeros((9, 28, 28)), np.zeros((3, 28, 28))], scale=1))
    assert a.shape == export.grid_size(18, 9, 28, 28, scale=1)
    assert a[30 + 1:, 4 * 29 + 1:].min() == 255  # the short row is padded white


def test_images_zip_has_safe_unique_names_and_a_manifest():
    x = np.random.default_rng(1).random((3, 1, 8, 8), dtype=np.float32)
    z = zipfile.ZipFile(io.BytesIO(export.images_zip(x, ["../evil", "../evil", "a b"], manifest=[{"i": 0}])))
    names = z.namelist()
    assert names == ["_evil.png", "_evil_2.png", "a_b.png", "manifest.csv"]
    assert all("/" not in n for n in names)
    assert _png(z.read("a_b.png")).shape == (32, 32)
    with pytest.raises(ValueError):
        export.images_zip(x, ["one"])


def test_embeddings_csv_round_trips():
    rng = np.random.default_rng(2)
    codes, xy, err = rng.normal(size=(4, 3)), rng.normal(size=(4, 2)), rng.random(4)
    b = export.embeddings_csv(["test", "test", "train", "train"], np.array([0, 5, 1, 2]), ["7", "a,b", "0", "1"],
                              codes, xy, err)
    rows = list(csv.DictReader(io.StringIO(b.decode())))
    assert list(rows[0]) == ["split", "index", "label", "z0", "z1", "z2", "map_x", "map_y", "sq_error"]
    assert [r["split"] for r in rows] == ["test", "test", "train", "train"]
    assert rows[1]["label"] == "a,b" and rows[1]["index"] == "5"
    got = np.array([[float(r[f"z{d}"]) for d in range(3)] for r in rows])
    np.testing.assert_allclose(got, codes, rtol=1e-5)
    np.testing.assert_allclose([float(r["sq_error"]) for r in rows], err, rtol=1e-5)
    with pytest.raises(ValueError):
        export.embeddings_csv(["test"], np.arange(2), ["a", "b"], codes[:2], xy[:2])


def test_embeddings_csv_at_full_mnist_size_is_quick():
    import time

    n = 70_000
    t = time.perf_counter()
    b = export.embeddings_csv(["test"] * n, np.arange(n), ["3"] * n, np.zeros((n, 2)), np.zeros((n, 2)), np.zeros(n))
    assert b.count(b"\n") == n + 1
    assert time.perf_counter() - t < 20  # generous: two shared cores; a row-by-row writer takes far longer
