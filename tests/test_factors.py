"""ae_core.factors: measured image factors on synthetic shapes, traversals, and naming latent coordinates."""
import numpy as np
import pytest
import torch
from torch import nn

from ae_core import factors, latent

H = W = 28


def _img(mask) -> np.ndarray:
    return np.asarray(mask, np.float32)[None, None]


def _bar(width: int, shear: float = 0.0, height: int = 16) -> np.ndarray:
    """A vertical bar of `width` pixels, sheared so its top moves `shear` pixels right per row up."""
    img = np.zeros((H, W), np.float32)
    top = (H - height) // 2
    for r in range(top, top + height):
        c0 = int(round(W / 2 - width / 2 + shear * ((top + height / 2) - r)))
        img[r, max(c0, 0):min(c0 + width, W)] = 1.0
    return img


def _one(m: dict, k: str) -> float:
    return float(m[k][0])


def test_thick_stroke_is_wider_than_thin():
    thin, thick = factors.measure(_img(_bar(2))), factors.measure(_img(_bar(6)))
    assert _one(thick, "stroke width") > 2 * _one(thin, "stroke width")
    assert 1.0 <= _one(thin, "stroke width") <= 3.0
    assert _one(thick, "ink") > _one(thin, "ink")


def test_slant_sign_follows_the_shear():
    fwd = _one(factors.measure(_img(_bar(3, shear=0.5))), "slant")   # like "/"
    back = _one(factors.measure(_img(_bar(3, shear=-0.5))), "slant")  # like "\"
    upright = _one(factors.measure(_img(_bar(3))), "slant")
    assert fwd > 0.3 and back < -0.3 and abs(upright) < 0.05
    assert fwd == pytest.approx(0.5, abs=0.1)


def test_bigger_square_has_larger_size_and_aspect_tracks_shape():
    small, big = np.zeros((H, W)), np.zeros((H, W))
    small[11:17, 11:17] = 1
    big[6:22, 6:22] = 1
    m = factors.measure(np.stack([small, big])[:, None])
    assert m["size"][1] > 2 * m["size"][0]
    np.testing.assert_allclose(m["aspect"], [1.0, 1.0])
    tall = np.zeros((H, W))
    tall[4:24, 12:16] = 1
    assert _one(factors.measure(_img(tall)), "aspect") == pytest.approx(20 / 4)


def test_empty_image_has_no_factors_but_no_crash():
    m = factors.measure(np.zeros((2, 1, H, W)))
    assert np.isnan(m["size"]).all() and np.isnan(m["slant"]).all() and np.isnan(m["stroke width"]).all()
    assert (m["ink"] == 0).all()
    with pytest.raises(ValueError):
        factors.measure(np.zeros((2, 3, H, W)))


def test_pooled_r_ignores_base_offsets_and_nans():
    v = np.tile(np.linspace(-1, 1, 5), (3, 1))
    f = v * 2 + np.array([[0.0], [10.0], [-7.0]])  # perfect within each base, large offsets between
    assert factors.pooled_r(v, f) == pytest.approx(1.0)
    assert factors.pooled_r(v, -f) == pytest.approx(-1.0)
    f[1, 2] = np.nan
    assert factors.pooled_r(v, f) == pytest.approx(1.0)
    assert np.isnan(factors.pooled_r(v, np.ones_like(v)))


def test_labels():
    assert factors.label_for(3, "slant", 0.812) == "z3 ≈ slant (r = 0.81)"
    assert factors.label_for(3, "slant", -0.7) == "z3 ≈ slant (r = -0.70)"
    assert factors.label_for(3, "slant", 0.59) == "z3: mixed"
    assert factors.label_for(3, None, float("nan")) == "z3: no effect"


class BlobModel(nn.Module):
    """A hand-built decoder: z0 sets the width of a Gaussian blob, z1 shears it, z2 does nothing."""

    latent_dim = 3

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))
        ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32),
                                indexing="ij")
        self.register_buffer("xs", xs - (W - 1) / 2)
        self.register_buffer("ys", ys - (H - 1) / 2)

    def decode(self, z):
        s = (2.5 + 0.5 * z[:, 0]).clamp(min=0.5)[:, None, None]
        shear = 0.3 * z[:, 1][:, None, None]
        x = self.xs[None] + shear * self.ys[None]  # top (negative y) moves right when shear > 0
        img = torch.exp(-(x**2) / (2 * s**2) - self.ys[None] ** 2 / (2 * (2 * s) ** 2))
        return img[:, None]

    def encode(self, x):
        return torch.zeros(len(x), 3)


def _stats(n=3):
    z = np.random.default_rng(0).standard_normal((500, n)).astype(np.float32)
    return latent.latent_stats(None, None, z_train=z)


def test_sweep_codes_sweep_each_coordinate_around_each_base():
    bases = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], np.float32)
    z = factors.sweep_codes(bases, [0, 2], np.array([1.0, 9.0, 0.5]), n_steps=3, span=2.0)
    assert z.shape == (2, 2, 3, 3) and z.dtype == np.float32
    np.testing.assert_array_equal(z[0, 1, :, 0], [1.0, 3.0, 5.0])  # base 3 +- 2 x 1
    np.testing.assert_array_equal(z[1, 0, :, 2], [1.0, 2.0, 3.0])  # base 2 +- 2 x 0.5
    np.testing.assert_array_equal(z[0, :, :, 1:], np.repeat(bases[:, None, 1:], 3, 1))  # the others held
    np.testing.assert_array_equal(factors.sweep_codes(bases[0], [1], np.ones(3), 5)[:, 0, 2], bases[:1])  # middle: base
    with pytest.raises(ValueError):
        factors.sweep_codes(bases, [5], np.ones(3))


def test_traversals_decode_one_row_per_coordinate():
    m = BlobModel()
    rows = factors.traversals(m, [0.0, 0.0, 0.0], [0, 2], np.ones(3), n_steps=3, span=1.0)
    assert rows.shape == (2, 3, 1, H, W)
    size = factors.measure(rows[0])["size"]
    assert size[0] < size[1] < size[2]
    np.testing.assert_allclose(rows[1, 0], rows[1, 2], atol=1e-6)  # z2 does nothing
    z = np.zeros((3, 3), np.float32)
    z[:, 0] = [-1.0, 0.0, 1.0]
    from ae_core import evaluate
    np.testing.assert_allclose(rows[0], evaluate.decode(m, z), atol=1e-6)


def test_name_factors_finds_size_and_slant():
    m = BlobModel()
    bases = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32) * 0.3
    names = {n.dim: n for n in factors.name_factors(m, bases, _stats(), n_steps=9, dims=[0, 1, 2])}
    assert names[0].factor == "size" and names[0].r > 0.9
    assert names[0].label.startswith("z0 ≈ size (r = ")
    assert names[1].factor == "slant" and names[1].r > 0.9
    assert names[2].label in ("z2: no effect", "z2: mixed")
    assert names[2].change < 1e-6 < names[0].change  # z2 changes no pixel; z0 does
    assert not any(abs(r) >= factors.LABEL_R for r in names[2].rs.values() if np.isfinite(r))


def test_name_model_factors_names_the_most_important_coordinates():
    stats = _stats()
    z = np.random.default_rng(2).standard_normal((50, 3)).astype(np.float32) * 0.3
    names = factors.name_model_factors(BlobModel(), z, stats, max_dims=2, n_bases=4)
    assert [n.dim for n in names] == [int(d) for d in stats.order[:2]]
    again = factors.name_model_factors(BlobModel(), z, stats, max_dims=2, n_bases=4)
    np.testing.assert_array_equal([n.r for n in names], [n.r for n in again])  # seeded bases (NaN = no effect)
