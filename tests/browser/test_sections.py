"""Sections that run only while open (st.tabs / st.expander with on_change="rerun"): clicking one in
Chromium runs and draws its content, with charts that have points and real images, and no error."""
import pytest

pytestmark = pytest.mark.browser

TAB, EXPANDER = "tab", "expander"
# path -> [(kind, label, text that appears once the section has run, charts with points, real images)]
SECTIONS = {
    "/manifold": [(TAB, "2 · Distances concentrate", "Measured on 500 uniform random points", 1, 0),
                  (TAB, "3 · Corners take the volume", "inside the ball that touches its faces", 1, 0),
                  (TAB, "4 · The manifold hypothesis", "Reconstruction error: on and off the manifold", 1, 2)],
    "/pca_vs_ae": [(TAB, "Error against dimension", "principal angle 1", 1, 0),
                   (TAB, "Swiss roll and S-curve", "Unrolling score", 1, 0)],
    "/denoise": [(EXPANDER, "2 · What the first layer looks for", "The same architecture at two noise levels", 0, 3),
                 (EXPANDER, "3 · Noisy codes are pulled back to clean codes", "Each grey arrow goes from", 1, 0)],
    "/compression": [(TAB, "SSIM", "How the payload is estimated", 1, 0)],
}


@pytest.mark.parametrize("path", list(SECTIONS), ids=lambda p: p.strip("/"))
def test_opening_a_section_runs_it(app, path):
    app.open(path)
    for kind, label, text, n_charts, n_images in SECTIONS[path]:
        if kind == TAB:
            tab = app.main.get_by_role("tab", name=label)
            root = app.main.locator('[role="tabpanel"]:not([hidden])')
        else:
            tab = app.main.locator('[data-testid="stExpander"] summary', has_text=label)
            root = app.main.locator('[data-testid="stExpander"]', has_text=label)
        app.act(tab.click, app.main.get_by_text(text, exact=False), timeout=180_000)
        app.assert_healthy()
        charts = [c for c in app.charts(root.first) if c["points"] >= 5]
        assert len(charts) >= n_charts, f"{path} {label}: {len(charts)} charts with points"
        images = app.real_images(root.first)
        assert len(images) >= n_images, f"{path} {label}: {len(images)} real images: {app.images(root.first)}"
    assert not app.page_errors, f"{path}: JavaScript errors: {app.page_errors}"
