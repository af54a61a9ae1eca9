"""Every page with full MNIST selected (60,000 / 10,000 images, the shipped mnist-* models), in Chromium:
it renders clean, its charts have points and its images real content; on the latent map a click still
picks a test image among 10,000 and the training split adds 60,000 WebGL points."""
import re

import pytest

from tests.browser.test_latent_space import ISOLATED_POINT_JS
from tests.browser.test_pages import PAGES

pytestmark = pytest.mark.browser


def _picked(app, i: int) -> str:
    """The value shown by the sidebar's i-th selectbox (0: dataset, 1: model)."""
    return app.sidebar.locator('[data-testid="stSelectbox"]').nth(i).locator('input[role="combobox"]').input_value()


@pytest.mark.parametrize("path", list(PAGES), ids=lambda p: p.strip("/") or "home")
def test_page_renders_on_full_mnist(app, path):
    title, control, n_charts, n_images = PAGES[path]
    app.open(path + "?dataset=mnist", timeout=180_000)  # a cold cache encodes 70,000 images once
    app.assert_healthy()
    ds = _picked(app, 0)
    assert ds == "mnist", f"{path}: the link did not select full MNIST: {ds!r}"
    assert title in app.main.locator("h1").first.inner_text()
    assert app.main.locator(control).first.is_visible(), f"{path}: {control} is not shown"
    with_points = [c for c in app.charts() if c["points"] >= 5]
    assert len(with_points) >= n_charts, f"{path}: {app.charts()}"
    assert len(app.real_images()) >= n_images, f"{path}: {app.images()}"
    assert not app.page_errors, app.page_errors


def test_latent_map_of_full_mnist_picks_a_click_and_draws_the_training_split(app):
    app.open("/latent_space?dataset=mnist", timeout=180_000)
    app.assert_healthy()
    model = _picked(app, 1)
    assert model == "mnist-ae-2d", f"full MNIST should open on its own 2-D AE, not {model!r}"
    assert app.main.get_by_text("Measured over all 10000 test images").count() == 1
    chart = app.main.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first
    assert app.charts()[0]["glPoints"] >= 10_000, app.charts()  # WebGL data points (and the clickable grid)
    chart.scroll_into_view_if_needed()
    found = chart.evaluate(ISOLATED_POINT_JS)
    target = found["best"]
    assert found["n"] == 10_000 and target, found["n"]
    app.act(lambda: app.page.mouse.click(target["x"], target["y"]),
            until=app.main.get_by_text(re.compile(r"Picked: test image #%d\b" % target["index"])))
    rec = [i for i in app.images() if i["caption"] == "reconstruction"]
    assert rec and rec[0]["w"] >= 56 and rec[0]["range"] > 10, rec

    box = app.main.locator('[data-testid="stCheckbox"]').filter(has_text="Add the training split")
    app.act(lambda: box.locator("label").click(), until=app.main.get_by_text("test + train codes"))
    app.assert_healthy()
    assert app.charts()[0]["glPoints"] >= 70_000, app.charts()
    assert not app.page_errors, app.page_errors
