"""UMAP in Chromium (#12): beside the other maps on PCA vs AE with its held-out scores and fit time, and as a
map of a code above 2-D on the Latent space page."""
import re

import pytest

pytestmark = pytest.mark.browser
# UMAP compiles with numba the first time a server process asks for it, then fits: minutes on a busy CI box.
SLOW_MS = 300_000
UMAP_TITLE = re.compile(r"^UMAP(?!-loss)")  # the UMAP map itself, not the UMAP-loss AE's


def test_pca_vs_ae_adds_umap_with_its_scores_and_fit_time(app):
    app.open("/pca_vs_ae?dataset=mnist-5k")
    app.assert_healthy()
    before = len(app.charts())
    toggle = app.main.locator('[data-testid="stCheckbox"], [data-testid="stToggle"]').filter(has_text="UMAP")
    app.act(lambda: toggle.locator("label").first.click(), until=app.main.locator(".gtitle").filter(has_text=UMAP_TITLE),
            timeout=SLOW_MS)
    app.assert_healthy()
    charts = app.charts()
    assert len(charts) >= before + 4, charts  # Isomap, LLE, t-SNE and UMAP
    # every map has its 1,000 test points drawn: none blanked (nine WebGL charts once lost the first one's)
    drawn = [c for c in charts if c["points"] >= 500]
    assert len(drawn) == len(charts), charts
    titles = app.main.locator(".gtitle").evaluate_all("els => els.map((e) => e.textContent)")  # SVG text
    umap_title = [t for t in titles if UMAP_TITLE.match(t)]
    # its held-out scores and its measured fit time
    assert umap_title and re.search(r"5-NN acc\. 0\.\d\d · trust 0\.\d\d · fit \d+\.\d s", umap_title[0]), titles
    assert not app.page_errors, app.page_errors


def test_latent_space_draws_a_umap_map_of_a_16d_code(app):
    app.open("/latent_space?dataset=mnist-5k&model=ae-16d")
    app.assert_healthy()
    radio = app.main.locator('[data-testid="stRadio"]').filter(has_text="Map of the latent space")
    app.act(lambda: radio.get_by_text("UMAP", exact=True).click(),
            until=app.main.get_by_text(re.compile(r"UMAP was fitted on [\d,]+ of these")), timeout=SLOW_MS)
    app.assert_healthy()
    chart = app.charts()[0]
    assert chart["points"] >= 1000 or chart.get("glPoints", 0) >= 1000, chart
    axis = app.main.locator(".xtitle").first.text_content()
    assert axis == "UMAP 1", axis
    assert app.main.get_by_text("map has no inverse").count() >= 1
    assert not app.page_errors, app.page_errors
