"""Every page with full MNIST selected (60,000 / 10,000 images, the shipped mnist-* models), in Chromium:
it renders clean, its charts have points and its images real content; on the latent map a click still
picks a test image among 10,000 and the training split adds its 60,000 points."""
import re

import pytest

from tests.browser.conftest import MAP_CANVAS, MAP_JS, map_test_point
from tests.browser.test_pages import PAGES

pytestmark = pytest.mark.browser
# Coloured pixels of a canvas, on a 2-px lattice.
INK_JS = """(sel) => { const c = document.querySelector(sel); if (!c) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let y = 0; y < c.height; y += 2) for (let x = 0; x < c.width; x += 2) { const i = (y * c.width + x) * 4;
    if (d[i + 3] > 150 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++; }
  return n; }"""


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
    canvas = app.main.locator(MAP_CANVAS).first
    canvas.scroll_into_view_if_needed()
    found = canvas.evaluate(MAP_JS)
    target = map_test_point(app.page, found)
    assert found["ink"] >= 3000 and target, found["dots"][:5]  # ink of 10,000 points (2-px lattice samples)
    app.act(lambda: app.page.mouse.click(target["x"], target["y"]),
            until=app.main.get_by_text(re.compile(r"Picked: test image #%d\b" % target["index"])))
    rec = [i for i in app.images() if i["caption"] == "reconstruction"]
    assert rec and rec[0]["w"] >= 56 and rec[0]["range"] > 10, rec

    box = app.main.locator('[data-testid="stCheckbox"]').filter(has_text="Add the training split")
    ink = app.page.evaluate(INK_JS, MAP_CANVAS)
    # the map's title ("test + train codes of …") is drawn on the canvas: the training split's 60,000 points cover
    # much more of it than the test split's 10,000
    app.act(lambda: box.locator("label").click(), until=f"() => ({INK_JS})('{MAP_CANVAS}') >= {1.3 * ink}")
    app.assert_healthy()
    assert not app.page_errors, app.page_errors
