"""The explorer in Chromium: lasso a region of the latent map and get its gallery and a CSV of exactly
those points; colour the map by reconstruction error (a colour bar, markers drawn); download a PNG and
decode it; a link opens the same view in a fresh browser context; a stale link parameter gives its notice."""
import csv
import io
import re

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

CHART = '[data-testid="stPlotlyChart"] .js-plotly-plot'

# The plot area's screen rectangle, and a function from screen pixels to data coordinates.
PLOT_AREA_JS = """
(gd) => {
  const fl = gd._fullLayout, box = gd.getBoundingClientRect();
  return {left: box.left + fl._size.l, top: box.top + fl._size.t, w: fl._size.w, h: fl._size.h,
          x0: fl.xaxis.p2l(0), x1: fl.xaxis.p2l(fl._size.w), y0: fl.yaxis.p2l(fl._size.h), y1: fl.yaxis.p2l(0)};
}
"""


def _chart(app):
    c = app.main.locator(CHART).first
    c.scroll_into_view_if_needed()
    return c


def _download(app, name: str) -> bytes:
    with app.page.expect_download() as dl:
        app.main.get_by_role("button", name=name).first.click()
    return open(dl.value.path(), "rb").read()


def test_lasso_a_region_shows_its_gallery_and_a_csv_of_those_points(app):
    app.open("/latent_space")
    app.assert_healthy()
    chart = _chart(app)
    area = chart.evaluate(PLOT_AREA_JS)
    chart.hover()
    # The mode bar's buttons are matched by their title alone: in Streamlit's plotly.js they are not <a>.
    chart.locator('[data-title="Lasso Select"]').click()
    # A triangle over the middle of the map, where the test codes are dense.
    cx, cy, r = area["left"] + area["w"] / 2, area["top"] + area["h"] / 2, min(area["w"], area["h"]) / 5
    poly = [(cx - r, cy + r), (cx + r, cy + r), (cx, cy - r)]

    def lasso():
        m = app.page.mouse
        m.move(*poly[0])
        m.down()
        for a, b in zip(poly, poly[1:] + poly[:1]):
            for t in np.linspace(0, 1, 8)[1:]:
                m.move(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
        m.up()

    heading = app.main.get_by_role("heading", name=re.compile(r"Selection: [\d,]+ image"))
    app.act(lasso, until=heading)
    app.assert_healthy()
    n = int(re.search(r"([\d,]+) image", heading.first.inner_text()).group(1).replace(",", ""))
    assert n >= 5, f"the lasso held only {n} images"
    caps = {i["caption"]: i for i in app.real_images()}
    assert "mean image of the selection" in caps and "decoder's image of the mean code" in caps, list(caps)
    assert len(app.main.locator('[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]').all()) >= 1

    rows = list(csv.DictReader(io.StringIO(_download(app, "Download the selection (CSV)").decode())))
    assert len(rows) == n
    assert {"split", "index", "label", "z0", "z1", "map_x", "map_y", "sq_error"} <= set(rows[0])
    # Every row lies inside the lasso (its bounding box in data coordinates, with a little slack).
    sx = lambda px: area["x0"] + (px - area["left"]) / area["w"] * (area["x1"] - area["x0"])  # noqa: E731
    sy = lambda py: area["y1"] - (py - area["top"]) / area["h"] * (area["y1"] - area["y0"])  # noqa: E731
    xs, ys = [sx(p[0]) for p in poly], [sy(p[1]) for p in poly]
    slack = 0.02 * (area["x1"] - area["x0"]), 0.02 * (area["y1"] - area["y0"])
    for row in rows:
        assert min(xs) - slack[0] <= float(row["map_x"]) <= max(xs) + slack[0], row
        assert min(ys) - slack[1] <= float(row["map_y"]) <= max(ys) + slack[1], row


def test_colour_by_error_draws_a_colour_bar_and_the_markers(app):
    app.open("/latent_space")
    box = app.main.locator('[data-testid="stSelectbox"]').filter(has_text="Colour by")
    box.click()
    app.act(lambda: app.page.get_by_role("option", name=re.compile("reconstruction error")).click(),
            until="() => !!document.querySelector('.js-plotly-plot .colorbar')")
    app.assert_healthy()
    assert "colour=error" in app.page.url
    # mnist-5k's 1,000 test codes are drawn as SVG: count the visible markers (the click grid's are transparent).
    visible = app.main.locator(".js-plotly-plot").first.evaluate(
        "(gd) => [...gd.querySelectorAll('.scatterlayer path.point')]"
        ".filter((p) => parseFloat(getComputedStyle(p).opacity) > 0).length")
    assert visible >= 1000, f"{visible} visible markers"
    assert app.main.locator(".js-plotly-plot .colorbar").count() == 1


def test_download_a_png_decodes_to_the_right_size(app):
    app.open("/latent_space")
    png = _download(app, "Image and reconstruction (PNG)")
    im = Image.open(io.BytesIO(png))
    assert im.format == "PNG" and im.size == ((2 * 28 + 3) * 4, (28 + 2) * 4), im.size
    a = np.asarray(im)
    assert a.max() - a.min() > 100  # a digit, not a blank


def test_a_link_to_a_picked_point_opens_the_same_view_and_a_stale_one_gives_a_notice(app, browser, warm_server):
    from tests.browser.conftest import open_app

    app.open("/latent_space?pick=test:42&colour=z1")
    app.assert_healthy()
    assert "Picked: test image #42" in app.main.inner_text()
    src = [i["src"] for i in app.images() if i["caption"] == "reconstruction"]
    with open_app(browser, warm_server.url) as other:
        other.open("/latent_space?pick=test:99999&colour=nope")
        notes = other.main.get_by_text(re.compile("The link asks for"))
        assert notes.count() == 2, notes.all_inner_texts()
        assert "Picked: test image #0" in other.main.inner_text()
        other.assert_healthy()
    assert src


SLIDER_VALUES_JS = """
(root) => [...root.querySelectorAll('[data-testid="stSlider"] input[type="range"]')].map((s) => s.value)
"""


def test_a_moved_slider_opens_the_same_code_and_image_in_a_new_context(app, browser, warm_server):
    from tests.browser.conftest import open_app

    app.open("/generate")
    thumb = app.slider_inputs().first  # st.slider renders an <input type=range>
    thumb.focus()
    app.act(lambda: [thumb.press("ArrowRight") for _ in range(15)], until="() => location.search.includes('code=')")
    app.assert_healthy()
    url, values = app.page.url, app.main.evaluate(SLIDER_VALUES_JS)
    decoded = [i for i in app.real_images() if i["caption"].startswith("the decoder's image")]
    assert decoded, "no decoded image"
    with open_app(browser, warm_server.url) as other:
        other.page.goto(url, wait_until="domcontentloaded")
        other.settle()
        other.assert_healthy()
        assert other.main.evaluate(SLIDER_VALUES_JS) == values
        again = [i for i in other.real_images() if i["caption"].startswith("the decoder's image")]
        assert again and (again[0]["w"], again[0]["h"], again[0]["range"]) == (decoded[0]["w"], decoded[0]["h"],
                                                                               decoded[0]["range"])
        assert not other.main.get_by_text("The link asks for").count()
