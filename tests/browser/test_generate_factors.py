"""Generate & traverse in Chromium on `sprites`: the coordinates × factors heatmap and sliders named by their
ground-truth factor; on MNIST, the line saying the names are a heuristic."""
import pytest

from ae_core.data import sprites

from .conftest import OUT

pytestmark = pytest.mark.browser


def test_sprites_shows_the_heatmap_and_ground_truth_names(app):
    app.open("/generate?dataset=sprites&model=sprites-beta-vae-10d", timeout=180_000)
    app.assert_healthy()
    main = app.main
    text = main.inner_text()
    assert "Ground-truth factors" in text and "MIG" in text and "DCI disentanglement" in text
    assert "heuristic" not in text
    labels = main.locator('[data-testid="stSlider"] [data-testid="stWidgetLabel"]').all_inner_texts()
    assert len(labels) == 10, labels
    assert any(f"≈ {f} (MI" in lab for lab in labels for f in sprites.FACTOR_NAMES), labels
    heat = main.locator('[data-testid="stVegaLiteChart"]').filter(has_text="Mutual information: coordinates × factors")
    heat.first.wait_for(timeout=60_000)
    cells = heat.first.locator("svg g.role-mark.mark-rect > path")
    assert cells.count() == 10 * len(sprites.FACTOR_NAMES)  # the heatmap is drawn: a cell per coordinate and factor
    axis = heat.first.locator("svg g.role-axis-label text").evaluate_all("els => els.map((e) => e.textContent)")
    for f in sprites.FACTOR_NAMES:  # its x axis names the factors
        assert f in axis, (f, axis)
    app.screenshot(OUT / "generate_sprites.png")


def test_mnist_says_the_names_are_a_heuristic(app):
    app.open("/generate")
    app.assert_healthy()
    assert "The slider names here are a heuristic." in app.main.inner_text()
