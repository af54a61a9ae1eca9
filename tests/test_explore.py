"""ae_core.explore: colourings, per-image errors, a selection's summary, and checked indices."""
import dataclasses

import numpy as np
import pytest

from ae_core import data, explore, metrics, store


@pytest.fixture(scope="module")
def ae2d():
    model, _ = store.load("ae-2d", store.default_root())
    return model, data.load_dataset("mnist-5k")


def test_point_errors_match_the_metric(ae2d):
    model, ds = ae2d
    x = ds.x_test[:50]
    e = explore.point_errors(model, x, batch=16)  # batches must not change the result
    from ae_core import evaluate
    ref = metrics.errors(x, np.clip(evaluate.reconstruct(model, x), 0, 1))
    np.testing.assert_allclose(e["sse"], ref["sse"], rtol=1e-6)
    np.testing.assert_allclose(e["mse"], ref["mse"], rtol=1e-6)
    assert e["sse"].shape == (50,)


def test_reconstruct_one_is_the_point_errors_of_one_image(ae2d):
    model, ds = ae2d
    from ae_core import evaluate
    x = ds.x_test[3]
    r = explore.reconstruct_one(model, x)
    np.testing.assert_array_equal(r.code, evaluate.encode(model, x[None])[0])
    np.testing.assert_allclose(r.reconstruction, evaluate.reconstruct(model, x[None])[0], rtol=1e-6, atol=1e-7)
    e = explore.point_errors(model, x[None])
    assert r.sse == pytest.approx(e["sse"][0], rel=1e-6)
    assert r.psnr == pytest.approx(metrics.errors(x[None], np.clip(r.reconstruction, 0, 1)[None])["psnr"][0])
    assert r.error_map.shape == x.shape and r.error_map.max() == pytest.approx(1.0) and r.error_map.min() >= 0


def test_colourings_list_every_coordinate_and_factor():
    keys = [c.key for c in explore.colourings(3, {"scale": None})]
    assert keys == ["class", "error", "offmanifold", "z0", "z1", "z2", "factor:scale"]
    assert not explore.colourings(2)[0].continuous and explore.colourings(2)[1].continuous


def test_factor_columns_reads_an_array_with_names_and_the_intrinsic_coordinate(ae2d):
    _, ds = ae2d
    assert explore.factor_columns(ds, "test") == {}
    f = np.arange(len(ds.x_test) * 2, dtype=float).reshape(-1, 2)
    ds2 = dataclasses.replace(ds, t_test=np.linspace(0, 1, len(ds.x_test)))
    object.__setattr__(ds2, "factors_test", f)
    object.__setattr__(ds2, "factor_names", ("scale", "orientation"))
    cols = explore.factor_columns(ds2, "test")
    assert list(cols) == ["scale", "orientation", "intrinsic coordinate"]
    np.testing.assert_array_equal(cols["orientation"], f[:, 1])
    object.__setattr__(ds2, "factors_test", f[:3])  # wrong length: ignored, not an error
    assert list(explore.factor_columns(ds2, "test")) == ["intrinsic coordinate"]


def test_summarise_selection(ae2d):
    model, ds = ae2d
    from ae_core import evaluate
    idx = np.flatnonzero(ds.y_test == 3)[:20]
    x, y = ds.x_test[idx], ds.y_test[idx]
    z = evaluate.encode(model, x)
    s = explore.summarise_selection(model, x, z, np.r_[y[:-1], 5])
    assert s.n == 20 and s.counts == {3: 19, 5: 1}
    np.testing.assert_allclose(s.mean_image, x.mean(0), atol=1e-6)
    np.testing.assert_allclose(s.mean_code, z.mean(0), atol=1e-5)
    assert s.decoded_mean.shape == x.shape[1:] and 0 <= s.decoded_mean.min() and s.decoded_mean.max() <= 1
    with pytest.raises(ValueError):
        explore.summarise_selection(model, x[:0], z[:0], y[:0])


@pytest.mark.parametrize("raw", ["nan", "inf", "-1", "10", "2.5", "seven", ""])
def test_parse_indices_refuses_bad_values_with_a_sentence(raw):
    with pytest.raises(ValueError, match=r"."):
        explore.parse_indices(raw, 10)


def test_parse_indices_accepts_good_values():
    assert explore.parse_indices(" 7 ", 10) == 7 and explore.parse_indices("0", 1) == 0 and explore.parse_indices(3.0, 4) == 3
