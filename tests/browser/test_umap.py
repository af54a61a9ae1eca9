"""UMAP in Chromium (#12): beside the other maps on PCA vs AE, and as a map of a code above 2-D on the Latent
space page."""
import re

import pytest

from tests.browser.conftest import MAP_CANVAS, MAP_JS, map_empty_spot, map_test_point

pytestmark = pytest.mark.browser
# UMAP compiles with numba the first time a server process asks for it, then fits: minutes on a busy CI box.
SLOW_MS = 300_000


def test_pca_vs_ae_adds_the_nonlinear_maps_with_their_points(app):
    app.open("/pca_vs_ae?dataset=mnist-5k")
    app.assert_healthy()
    chart = app.main.locator('[data-testid="stVegaLiteChart"]').first
    before = app.charts()[0]["points"]  # coloured pixels of the maps' canvas: PCA and the 2-D models
    toggle = app.main.locator('[data-testid="stCheckbox"], [data-testid="stToggle"]').filter(has_text="UMAP")
    # The table (a canvas grid) lists each method; the toggle's run is over once the maps' chart has grown by
    # the four views (Isomap, LLE, t-SNE and UMAP), each with its 1,000 test points.
    app.act(lambda: toggle.locator("label").first.click(),
            until="(h) => { const c = document.querySelector('[data-testid=\"stVegaLiteChart\"]');"
                  " return c && c.getBoundingClientRect().height > h + 100; }",
            arg=chart.bounding_box()["height"], timeout=SLOW_MS)
    app.assert_healthy()
    after = app.charts()[0]["points"]
    assert after > before * 1.5, (before, after)  # 9 views now against 5 before
    # UMAP's view title with its held-out scores and fit time is drawn on the canvas: tests/test_page_pca_vs_ae.py
    # reads it from the chart's spec.
    assert not app.page_errors, app.page_errors


def test_latent_space_draws_a_umap_map_of_a_16d_code(app):
    app.open("/latent_space?dataset=mnist-5k&model=ae-16d")
    app.assert_healthy()
    radio = app.main.locator('[data-testid="stRadio"]').filter(has_text="Map of the latent space")
    app.act(lambda: radio.get_by_text("UMAP", exact=True).click(),
            until=app.main.get_by_text(re.compile(r"UMAP was fitted on [\d,]+ of these")), timeout=SLOW_MS)
    app.assert_healthy()
    chart = app.charts()[0]
    assert chart["points"] >= 1000, chart  # coloured pixels of the canvas
    # A point's tooltip names its test image; an empty spot has none: a UMAP map has no grid to decode (its axis
    # titles are on the canvas: tests/test_page_latent_space.py reads them from the spec, for t-SNE).
    canvas = app.main.locator(MAP_CANVAS).first
    canvas.scroll_into_view_if_needed()
    found = canvas.evaluate(MAP_JS)
    assert map_test_point(app.page, found), found["dots"][:5]
    assert map_empty_spot(app.page, found, tries=5) is None
    assert app.main.get_by_text("map has no inverse").count() >= 1
    assert not app.page_errors, app.page_errors
