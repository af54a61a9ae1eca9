"""Every page, opened by URL in Chromium with the shipped models: it renders without an exception,
traceback or error, shows its title and its main control, its charts have points and its images
real content (at least 56 px each way, not blank). Sections that wait to be opened: test_sections.py."""
import pytest

pytestmark = pytest.mark.browser

# path -> (title shown, a control that must be visible, charts with points, real images)
PAGES = {
    "/": ("Manifold Lab", '[data-testid="stPageLink"] a', 0, 0),
    "/latent_space": ("Latent space", '[data-testid="stFileUploader"]', 1, 3),
    "/generate": ("Generate & traverse", '[data-testid="stSlider"]', 0, 3),
    "/pca_vs_ae": ("PCA vs autoencoders", '[data-testid="stDataFrame"]', 1, 0),  # one chart, a view per map
    "/denoise": ("Denoise", '[data-testid="stRadio"]', 0, 8),
    "/compression": ("Compression", '[data-testid="stMultiSelect"]', 1, 4),
    "/train": ("Train a model", '[data-testid="stFormSubmitButton"] button', 0, 0),
    "/manifold": ("Manifold & dimensionality", '[data-testid="stSlider"]', 1, 0),
}


@pytest.mark.parametrize("path", list(PAGES), ids=lambda p: p.strip("/") or "home")
def test_page_renders(app, path):
    title, control, n_charts, n_images = PAGES[path]
    app.open(path)
    app.assert_healthy()
    h1 = app.main.locator("h1").first
    assert title in h1.inner_text(), f"{path}: first heading is {h1.inner_text()!r}, expected {title!r}"
    assert app.main.locator(control).first.is_visible(), f"{path}: {control} is not shown"
    charts = app.charts()
    with_points = [c for c in charts if c["points"] >= 5]
    assert len(with_points) >= n_charts, f"{path}: {len(with_points)} of {len(charts)} charts show points: {charts}"
    images = app.real_images()
    assert len(images) >= n_images, (f"{path}: {len(images)} real images (>= 56 px, not blank), expected "
                                     f"{n_images}; all images: {app.images()}")
    assert not app.page_errors, f"{path}: JavaScript errors: {app.page_errors}"
    if path == "/":
        hrefs = app.main.locator('[data-testid="stPageLink"] a').evaluate_all("(as) => as.map((a) => a.href)")
        missing = [p for p in PAGES if p != "/" and not any(h.rstrip("/").endswith(p) for h in hrefs)]
        assert not missing, f"home links to {hrefs}, not to {missing}"


def test_plotly_is_loaded_while_the_first_page_is_idle(app):
    # ui.widgets.prefetch_plotly: opened on a page without charts, the browser loads Streamlit's Plotly
    # bundle once idle, so the first page with a chart does not wait for it. A Streamlit upgrade that
    # renames the bundle fails here (and in tests/test_ui.py), not silently.
    app.open("/train")
    app.page.wait_for_function(
        "() => performance.getEntriesByType('resource').some((e) => /PlotlyChart\\.[^/]+\\.js$/.test(e.name))",
        timeout=30_000, polling=200)
    assert not app.main.locator('[data-testid="stPlotlyChart"]').count()
    assert not app.page_errors, app.page_errors
