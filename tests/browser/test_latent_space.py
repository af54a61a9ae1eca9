"""Latent space in Chromium: clicking a point of the map (a Vega-Lite canvas; which image a point is comes
from its tooltip) picks that test image and shows its reconstruction; a click on an empty spot decodes that spot; uploading a file that is
not an image gives a clear message, not a traceback."""
import re

import pytest

from tests.browser.conftest import MAP_CANVAS, MAP_JS, map_empty_spot, map_test_point

pytestmark = pytest.mark.browser


def _map(app) -> dict:
    """The map's canvas read by the harness's MAP_JS (its dots and empty spots, in page pixels)."""
    canvas = app.main.locator(MAP_CANVAS).first
    canvas.scroll_into_view_if_needed()
    return canvas.evaluate(MAP_JS)


def _picked(app) -> int:
    text = app.main.get_by_text(re.compile(r"Picked: test image #\d+")).first.inner_text()
    return int(re.search(r"#(\d+)", text).group(1))


def _reconstruction_src(app) -> str:
    found = [i for i in app.images() if i["caption"] == "reconstruction"]
    assert found and found[0]["w"] >= 56 and found[0]["range"] > 10, found
    return found[0]["src"]


def test_click_a_point_then_upload_a_non_image(app):
    app.open("/latent_space")
    app.assert_healthy()
    first, rec0 = _picked(app), _reconstruction_src(app)
    found = _map(app)
    target = map_test_point(app.page, found)
    assert found["ink"] >= 1000 and target, f"no isolated test-image point found on the map: {found['dots'][:5]}"
    app.act(lambda: app.page.mouse.click(target["x"], target["y"]),
            until=app.main.get_by_text(re.compile(r"Picked: test image #%d\b" % target["index"])))
    app.assert_healthy()
    assert _picked(app) == target["index"], (
        f"clicked test image #{target['index']} (nearest other ink {target['near']:.0f} px away) "
        f"but the page picked #{_picked(app)}")
    assert _reconstruction_src(app) != rec0, "the reconstruction did not change"

    # The page's own uploader: a file named .png that is not an image gets a clear message.
    uploader = app.main.locator('[data-testid="stFileUploader"]').first
    error = app.main.locator('[data-testid="stAlertContentError"]')
    app.act(lambda: uploader.locator('input[type="file"]').set_input_files(
        files=[{"name": "x.png", "mimeType": "image/png", "buffer": b"hello"}]), until=error)
    assert error.count() == 1 and "Cannot use this file" in error.first.inner_text(), error.all_inner_texts()
    assert app.page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in app.page.locator('[data-testid="stApp"]').inner_text()


def _spot_values(app, labels) -> list[float]:
    """The spot's two number inputs, found by their labels (the map's axis titles)."""
    return [float(app.main.get_by_role("spinbutton", name=lab, exact=True).input_value()) for lab in labels]


# The two inputs' values differ from `before` (arg: [labels, before]).
SPOT_MOVED_JS = """([labels, before]) => labels.some((lab, i) => {
  const e = document.querySelector(`[data-testid="stMain"] input[aria-label="${lab}"]`);
  return e && parseFloat(e.value) !== before[i]; })"""


def test_click_an_empty_spot_decodes_it(app):
    """A click where no point is drawn lands on the invisible grid (the nearest of its cells): the spot moves to
    the cell the tooltip named there, the decoder's image changes, and the picked image stays."""
    app.open("/latent_space")
    app.assert_healthy()
    first = _picked(app)
    dec0 = [i for i in app.images() if i["caption"].startswith("decoder output")]
    assert dec0 and dec0[0]["w"] >= 56 and dec0[0]["range"] > 10, dec0
    spot = map_empty_spot(app.page, _map(app))
    # an empty spot, inside the plot: its tooltip offers to decode the grid cell there
    assert spot and spot["near"] >= 15, spot
    labels = ["z0", "z1"]  # the 2-D model's axes, and the spot's number inputs
    before = _spot_values(app, labels)
    app.act(lambda: app.page.mouse.click(spot["x"], spot["y"]), until=SPOT_MOVED_JS, arg=[labels, before])
    app.assert_healthy()
    x, y = _spot_values(app, labels)
    # the grid cell that the tooltip named (to its two decimals) is the spot decoded
    assert abs(x - spot["dataX"]) <= 0.006 and abs(y - spot["dataY"]) <= 0.006, (x, y, spot)
    dec1 = [i for i in app.images() if i["caption"].startswith("decoder output")]
    assert dec1[0]["src"] != dec0[0]["src"] and dec1[0]["range"] > 10, "the decoded image did not change"
    assert _picked(app) == first, "a click on an empty spot must not change the picked image"
