"""Generate & traverse on datasets with ground-truth factors (sprites): sliders named by the true factor,
the coordinates × factors MI heatmap, MIG / SAP / DCI; on MNIST, the line saying the names are a heuristic.
Run by AppTest behind the shared sidebar (tests/page_shim.py) with the shipped models."""
import pytest

from ae_core.data import sprites
from page_shim import ok, page_app


def _app(**params):
    at = page_app("generate", 240)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def _captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


@pytest.mark.slow
def test_sprites_sliders_carry_ground_truth_names_and_scores():
    at = _app(dataset="sprites", model="sprites-beta-vae-10d")
    ok(at)
    sliders = [s for s in at.slider if s.key.startswith("gen_sprites-beta-vae-10d_z")]
    assert len(sliders) == 10
    named = [s.label for s in sliders if "≈" in s.label]
    assert named and all(any(f"≈ {f} (MI" in lab for f in sprites.FACTOR_NAMES) for lab in named), named
    assert all("≈" in s.label or "no single factor" in s.label for s in sliders)
    assert "ground-truth factor" in _captions(at)
    assert "heuristic" not in _captions(at).lower()
    labels = {m.label for m in at.metric}
    assert {"MIG", "SAP", "DCI disentanglement", "DCI completeness", "DCI informativeness"} <= labels
    mig = float(next(m.value for m in at.metric if m.label == "MIG"))
    assert 0 <= mig <= 1
    assert any("Ground-truth factors" == h.value for h in at.subheader)
    # The factor-movement table: one row per slider, one column per factor, fractions in [0, 1].
    moved = next(d.value for d in at.dataframe if "swept" in d.value.columns)
    assert list(moved.columns[1:]) == list(sprites.FACTOR_NAMES) and len(moved) == 10
    assert ((moved[list(sprites.FACTOR_NAMES)] >= 0) & (moved[list(sprites.FACTOR_NAMES)] <= 1)).all().all()


def test_mnist_says_its_naming_is_a_heuristic():
    at = _app()
    ok(at)
    text = _captions(at)
    assert "The slider names here are a heuristic." in text and "`sprites`" in text
    assert not any(m.label == "MIG" for m in at.metric)


@pytest.mark.slow
@pytest.mark.parametrize("page", ["latent_space", "generate", "pca_vs_ae", "denoise", "compression", "manifold",
                                  "train"])
def test_every_page_runs_on_sprites(page):
    """Sprites are 32×32, not MNIST's 28×28: every page takes the dataset's own image size."""
    at = _app_page(page, dataset="sprites", model="sprites-ae-10d")
    ok(at)
    assert not [w.value for w in at.warning if "32" in w.value and "28" in w.value]


def _app_page(page, **params):
    at = page_app(page, 300)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()
