"""The explorer in Chromium: drag a box on the latent map and get its gallery and a CSV of exactly those
points; colour the map by reconstruction error (a colour scale, points drawn); download a PNG and
decode it; a link opens the same view in a fresh browser context; a stale link parameter gives its notice."""
import csv
import io
import re

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import (
    MAP_CANVAS, MAP_JS, coloured_pixels, map_grid_cells, map_test_point, map_tooltip)

pytestmark = pytest.mark.browser



def _map(app) -> dict:
    canvas = app.main.locator(MAP_CANVAS).first
    canvas.scroll_into_view_if_needed()
    return canvas.evaluate(MAP_JS)


def _pixels_to_data(app, found: dict):
    """Page pixels -> map coordinates, fitted to empty spots whose tooltips name their grid cells (each within
    half a grid step of its spot), and that step's size in map units (x, y)."""
    cells = map_grid_cells(app.page, found, 6)
    assert len(cells) >= 3, cells
    px, py = np.array([c["x"] for c in cells]), np.array([c["y"] for c in cells])
    dx, dy = np.array([c["dataX"] for c in cells]), np.array([c["dataY"] for c in cells])
    assert np.ptp(px) > 50 and np.ptp(py) > 50, cells  # spread enough to fit a line each way
    fx, fy = np.polyfit(px, dx, 1), np.polyfit(py, dy, 1)
    return (lambda x: float(np.polyval(fx, x))), (lambda y: float(np.polyval(fy, y))), (abs(fx[0]) * 12, abs(fy[0]) * 12)


def _download(app, name: str) -> bytes:
    with app.page.expect_download() as dl:
        app.main.get_by_role("button", name=name).first.click()
    return open(dl.value.path(), "rb").read()


def test_a_box_shows_its_gallery_and_a_csv_of_those_points(app):
    app.open("/latent_space")
    app.assert_healthy()
    found = _map(app)
    to_x, to_y, slack = _pixels_to_data(app, found)
    dots = np.array([(d["x"], d["y"]) for d in found["dots"]])
    # A box over the middle of the ink, where the test codes are dense.
    (cx, cy), r = np.median(dots, axis=0), 50
    corners = [(cx - r, cy - r), (cx + r, cy + r)]

    def drag():
        m = app.page.mouse
        m.move(*corners[0])
        m.down()
        m.move(*corners[1], steps=10)
        m.up()

    heading = app.main.get_by_role("heading", name=re.compile(r"Selection: [\d,]+ image"))
    app.act(drag, until=heading)
    app.assert_healthy()
    n = int(re.search(r"([\d,]+) image", heading.first.inner_text()).group(1).replace(",", ""))
    assert n >= 5, f"the box held only {n} images"
    assert "Picked: test image #0" in app.main.inner_text()  # a box does not change the picked image
    caps = {i["caption"]: i for i in app.real_images()}
    assert "mean image of the selection" in caps and "decoder's image of the mean code" in caps, list(caps)
    assert len(app.main.locator('[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]').all()) >= 2

    rows = list(csv.DictReader(io.StringIO(_download(app, "Download the selection (CSV)").decode())))
    assert len(rows) == n
    assert {"split", "index", "label", "z0", "z1", "map_x", "map_y", "sq_error"} <= set(rows[0])
    # Every row lies inside the box (in map coordinates, within the fit's error: a grid step)
    xs, ys = sorted(to_x(c[0]) for c in corners), sorted(to_y(c[1]) for c in corners)
    for row in rows:
        assert xs[0] - slack[0] <= float(row["map_x"]) <= xs[1] + slack[0], (row, xs, slack)
        assert ys[0] - slack[1] <= float(row["map_y"]) <= ys[1] + slack[1], (row, ys, slack)


# The two ends of viridis, as the screenshot's pixels: dark purple (68, 1, 84) and yellow (253, 231, 37), loosely
# (points are drawn at 80 % opacity on white, and anti-aliased).
VIRIDIS_ENDS = {"purple": lambda r, g, b: (r < 130) & (g < 80) & (b > 70) & (b < 170),
                "yellow": lambda r, g, b: (r > 170) & (g > 170) & (b < 120)}


def test_colour_by_error_draws_a_colour_scale_and_the_points(app):
    app.open("/latent_space")
    canvas = app.main.locator(MAP_CANVAS).first
    before = canvas.screenshot()
    box = app.main.locator('[data-testid="stSelectbox"]').filter(has_text="Colour by")
    box.click()
    app.act(lambda: app.page.get_by_role("option", name=re.compile("reconstruction error")).click(),
            until="() => location.search.includes('colour=error')")
    app.assert_healthy()
    a = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")).astype(int)
    b = np.asarray(Image.open(io.BytesIO(before)).convert("RGB")).astype(int)
    purple_before = int(VIRIDIS_ENDS["purple"](b[..., 0], b[..., 1], b[..., 2]).sum())
    # both ends of the viridis scale are drawn (its legend's gradient and the best and worst points)
    for name, end in VIRIDIS_ENDS.items():
        close = int(end(a[..., 0], a[..., 1], a[..., 2]).sum())
        assert close >= 20, f"{close} {name} pixels"
    purple = int(VIRIDIS_ENDS["purple"](a[..., 0], a[..., 1], a[..., 2]).sum())
    # most errors are small: viridis' dark end dominates, where the class palette drew few such pixels
    assert purple >= max(500, 5 * purple_before), (purple, purple_before)
    assert coloured_pixels(canvas.screenshot()) >= 2000  # 1,000 coloured points
    # a point's tooltip gives its error beside its class
    target = map_test_point(app.page, _map(app))
    assert target, "no isolated test point"
    tip = map_tooltip(app.page, target["x"], target["y"])
    assert re.fullmatch(r"\S+ · [-\d.e+]+ · test #\d+", tip), tip


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
