"""ae_core.latent: 2-D maps and their inverses, neighbours, interpolation, statistics, grids."""
import numpy as np
import pytest
import torch
from torch import nn

from ae_core import latent, models


class PixelCodeModel(nn.Module):
    """A hand-built 'autoencoder' on 1x4x4 images: the code is (pixel 0, pixel 1), the decoder
    writes z0 into pixel 0 and z1 into pixel 1 of an empty image. Exact and easy to reason about."""

    latent_dim = 2

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def encode(self, x):
        return x.flatten(1)[:, :2]

    def decode(self, z):
        out = torch.zeros(len(z), 16)
        out[:, :2] = z
        return out.reshape(-1, 1, 4, 4)

    def forward(self, x):
        return self.decode(self.encode(x))


def _codes(n=200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    # anisotropic so PCA has a well-defined top plane
    return (rng.standard_normal((n, d)) * np.array([5.0, 3.0, 1.0, 0.5, 0.1][:d])).astype(np.float32)


# ---------------------------------------------------------------- projections

def test_2d_latent_is_identity_whatever_the_method():
    z = _codes(50, 2)
    for m in ("pca", "coords", "tsne"):
        p = latent.Projector(m).fit(z)
        np.testing.assert_array_equal(p.embedding_, z)
        assert p.invertible
        np.testing.assert_array_equal(p.inverse_transform(p.transform(z)), z)


def test_coords_picks_coordinates_and_inverse_holds_others_at_mean():
    z = _codes()
    p = latent.Projector("coords", coords=(3, 1)).fit(z)
    np.testing.assert_array_equal(p.embedding_, z[:, [3, 1]])
    back = p.inverse_transform([[7.0, -2.0]])[0]
    assert back[3] == 7.0 and back[1] == -2.0
    np.testing.assert_allclose(back[[0, 2, 4]], z.mean(0)[[0, 2, 4]], rtol=1e-5)
    with pytest.raises(ValueError):
        latent.Projector("coords", coords=(1, 1)).fit(z)
    with pytest.raises(ValueError):
        latent.Projector("coords", coords=(0, 9)).fit(z)


def test_pca_map_is_the_top_plane_and_round_trips():
    z = _codes()
    p = latent.Projector("pca").fit(z)
    assert p.embedding_.shape == (len(z), 2)
    # the first two axes carry most variance in this construction
    assert p.explained_[0] > 0.6 and p.explained_.sum() > 0.9
    pos = np.array([[1.0, -2.0], [3.0, 0.5]], np.float32)
    np.testing.assert_allclose(p.transform(p.inverse_transform(pos)), pos, atol=1e-4)
    # a new code is placed consistently with the fitted ones
    np.testing.assert_allclose(p.transform(z[:3]), p.embedding_[:3], atol=1e-4)
    with pytest.raises(ValueError):
        p.transform(np.zeros((1, 3)))


def test_project_2d_matches_projector():
    z = _codes()
    np.testing.assert_allclose(latent.project_2d(z, "pca"), latent.Projector("pca").fit(z).embedding_)
    np.testing.assert_array_equal(latent.project_2d(z, "coords", coords=(0, 2)), z[:, [0, 2]])
    with pytest.raises(ValueError):
        latent.project_2d(z, "isomap")


def test_umap_map_separates_clusters_places_new_codes_and_has_no_inverse():
    rng = np.random.default_rng(2)
    centres = np.array([[0] * 6, [20] * 6], np.float32)
    z = np.concatenate([c + rng.standard_normal((60, 6)).astype(np.float32) for c in centres])
    p = latent.Projector("umap", seed=0).fit(z)
    emb = p.embedding_
    assert emb.shape == (120, 2) and p.axis_labels() == ("UMAP 1", "UMAP 2") and not p.invertible
    gap = np.linalg.norm(emb[:60].mean(0) - emb[60:].mean(0))
    assert gap > 3 * max(emb[:60].std(0).max(), emb[60:].std(0).max())
    # A new code near the second cluster lands with the second cluster (UMAP's own transform).
    new = p.transform(centres[1][None] + 0.1)
    assert np.linalg.norm(new - emb[60:].mean(0)) < np.linalg.norm(new - emb[:60].mean(0))
    with pytest.raises(ValueError):
        p.inverse_transform(emb[:1])


def test_tsne_is_seeded_separates_clusters_and_places_new_points():
    rng = np.random.default_rng(1)
    centres = np.array([[0] * 6, [20] * 6], np.float32)
    z = np.concatenate([c + rng.standard_normal((40, 6)).astype(np.float32) for c in centres])
    a = latent.Projector("tsne", seed=3).fit(z)
    b = latent.Projector("tsne", seed=3).fit(z)
    np.testing.assert_allclose(a.embedding_, b.embedding_)
    e = a.embedding_
    within = np.linalg.norm(e[:40] - e[:40].mean(0), axis=1).mean()
    between = np.linalg.norm(e[:40].mean(0) - e[40:].mean(0))
    assert between > 3 * within
    # a new code near cluster 2 lands among cluster 2's points
    new = a.transform(centres[1] + 0.1)[0]
    assert np.linalg.norm(new - e[40:].mean(0)) < np.linalg.norm(new - e[:40].mean(0))
    assert not a.invertible
    with pytest.raises(ValueError):
        a.inverse_transform([[0.0, 0.0]])


def test_tsne_over_the_point_limit_embeds_a_subsample_and_places_the_rest():
    z = _codes(60, 4)
    p = latent.Projector("tsne", max_points=30).fit(z)
    assert p.embedding_.shape == (60, 2) and np.isfinite(p.embedding_).all()


# ---------------------------------------------------------------- neighbours

def test_pixel_and_latent_neighbours_differ_when_the_code_says_so():
    # pool images: a bright image is pixel-close to the query; the code says item 2 is closest
    x_pool = np.stack([np.full((1, 2, 2), v, np.float32) for v in (0.9, 0.0, 0.5)])
    z_pool = np.array([[10.0], [5.0], [0.1]], np.float32)
    x_q = np.full((1, 2, 2), 1.0, np.float32)
    pix, lat = latent.neighbours(x_q, x_pool, np.array([0.0]), z_pool, k=2)
    assert list(pix) == [0, 2]
    assert list(lat) == [2, 1]


def test_neighbours_exclude_the_query_itself_and_batch():
    rng = np.random.default_rng(0)
    x = rng.random((30, 1, 3, 3)).astype(np.float32)
    z = rng.random((30, 4)).astype(np.float32)
    pix, lat = latent.neighbours(x[5], x, z[5], z, k=3)
    assert pix[0] == 5 and lat[0] == 5
    pix, lat = latent.neighbours(x[5], x, z[5], z, k=3, exclude=5)
    assert 5 not in pix and 5 not in lat
    bp, bl = latent.neighbours(x[:4], x, z[:4], z, k=3, exclude=np.arange(4))
    assert bp.shape == (4, 3) and all(i not in bp[i] for i in range(4))


def test_nearest_image_is_the_pixel_space_nearest_and_ties_go_low():
    rng = np.random.default_rng(0)
    pool = rng.random((50, 1, 4, 4)).astype(np.float32)
    q = pool[17] + 0.01
    assert latent.nearest_image(pool, q) == 17
    brute = int(np.argmin(np.linalg.norm(pool.reshape(50, -1) - q.reshape(1, -1), axis=1)))
    assert latent.nearest_image(pool, q) == brute
    dup = np.concatenate([pool[:3], pool[:3]])
    assert latent.nearest_image(dup, pool[2]) == 2


def test_share_label_and_label_agreement():
    assert latent.share_label(np.array([1, 2, 1, 1]), [0, 1, 3], 1) == 2
    # labels are invisible in pixels (noise) but written in the code: latent neighbours agree, pixel ones don't
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 25)
    x = rng.random((100, 1, 5, 5)).astype(np.float32)
    z = (y[:, None] * 10 + rng.standard_normal((100, 2))).astype(np.float32)
    pix, lat = latent.label_agreement(x, z, y, k=5)
    assert lat > 0.95 and pix < 0.5


# ---------------------------------------------------------------- interpolation

def test_interpolate_pixels_is_a_cross_fade():
    a, b = np.zeros((1, 2, 2), np.float32), np.ones((1, 2, 2), np.float32)
    f = latent.interpolate_pixels(a, b, 5)
    assert f.shape == (5, 1, 2, 2)
    np.testing.assert_allclose(f[:, 0, 0, 0], [0, 0.25, 0.5, 0.75, 1])
    with pytest.raises(ValueError):
        latent.interpolate_pixels(a, np.ones((1, 3, 3)), 5)
    with pytest.raises(ValueError):
        latent.interpolate_pixels(a, b, 1)


def test_interpolate_latent_decodes_the_line_between_codes():
    m = PixelCodeModel()
    a = np.zeros((1, 4, 4), np.float32)
    b = np.zeros((1, 4, 4), np.float32)
    a[0, 0, :2] = (0.0, 1.0)
    b[0, 0, :2] = (1.0, 0.0)
    b[0, 3, 3] = 1.0  # not in the code: the morph's end frame is b's reconstruction, without it
    f = latent.interpolate_latent(m, a, b, 3)
    np.testing.assert_allclose(f[:, 0, 0, :2], [[0, 1], [0.5, 0.5], [1, 0]])
    assert f[-1, 0, 3, 3] == 0.0


# ---------------------------------------------------------------- statistics and sampling

def test_latent_stats_rank_by_variance():
    z = _codes(300, 5)[:, [2, 0, 4, 1, 3]]  # variances 1, 25, 0.01, 9, 0.25
    stats = latent.latent_stats(PixelCodeModel(), np.zeros((300, 1, 4, 4), np.float32), z_train=z)
    assert list(stats.order) == [1, 3, 0, 4, 2]
    assert stats.score == "variance" and stats.prior == "empirical"
    np.testing.assert_allclose(stats.mean, z.mean(0), atol=1e-5)
    np.testing.assert_allclose(stats.std, z.std(0), rtol=1e-4)
    assert (stats.lo <= stats.mean).all() and (stats.mean <= stats.hi).all()
    dead = latent.latent_stats(PixelCodeModel(), np.zeros((300, 1, 4, 4), np.float32),
                               z_train=np.c_[z[:, :1], np.zeros((300, 1), np.float32)])
    np.testing.assert_array_equal(dead.spread, np.float32([dead.std[0], latent.SPREAD_FLOOR]))  # a dead coordinate: the floor


def test_latent_stats_of_a_vae_rank_by_kl(mnist5k):
    m = models.build("vae", latent_dim=3, hidden=(32,))
    x = mnist5k.x_train[:200]
    stats = latent.latent_stats(m, x)
    assert stats.score == "KL" and stats.prior == "normal"
    with torch.no_grad():
        kl = m.kl_per_dim(torch.tensor(x)).numpy()
    np.testing.assert_allclose(stats.importance, kl, rtol=1e-4)
    assert list(stats.order) == list(np.argsort(-kl))


def test_sample_codes():
    z = _codes(400, 3)
    stats = latent.latent_stats(PixelCodeModel(), np.zeros((400, 1, 4, 4), np.float32), z_train=z)
    s = latent.sample_codes(stats, 2000, seed=1)
    assert s.shape == (2000, 3)
    assert (s >= stats.lo - 1e-6).all() and (s <= stats.hi + 1e-6).all()
    np.testing.assert_allclose(s.mean(0), stats.mean, atol=0.3)
    np.testing.assert_array_equal(s, latent.sample_codes(stats, 2000, seed=1))
    stats.prior = "normal"
    n = latent.sample_codes(stats, 4000, seed=0)
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05


# ---------------------------------------------------------------- grids

def test_decode_grid_orientation_and_ranges():
    g = latent.decode_grid(PixelCodeModel(), [0.0, 0.0], (0, 1), ((0, 1), (10, 20)), n=3)
    assert g.shape == (3, 3, 1, 4, 4)
    # across: dims[0] grows left to right; up: dims[1] grows bottom to top (row 0 is the top)
    np.testing.assert_allclose(g[0, :, 0, 0, 0], [0, 0.5, 1])
    np.testing.assert_allclose(g[:, 0, 0, 0, 1], [20, 15, 10])
    # the other coordinates stay at the centre; swapped dims swap the roles
    g2 = latent.decode_grid(PixelCodeModel(), [0.0, 0.0], (1, 0), ((0, 1), (10, 20)), n=3)
    np.testing.assert_allclose(g2[0, :, 0, 0, 1], [0, 0.5, 1])
    with pytest.raises(ValueError):
        latent.decode_grid(PixelCodeModel(), [0.0, 0.0], (0, 0))
