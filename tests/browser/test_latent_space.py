"""Latent space in Chromium: clicking a point of the scatter (SVG for mnist-5k's 1,000 test codes) picks that
test image and shows its reconstruction; a click on an empty spot decodes that spot; uploading a file that is
not an image gives a clear message, not a traceback."""
import re

import pytest

pytestmark = pytest.mark.browser

# The screen position of every test-image point of the map (customdata = [kind, index], kind 0 = test),
# computed from the plot's own axes, and the most isolated one, so a click there cannot hit a neighbour.
# Points near the "picked" / "decoded spot" markers (kind 3) are left out: those markers sit on top.
ISOLATED_POINT_JS = """
(gd) => {
  const fl = gd._fullLayout, box = gd.getBoundingClientRect();
  const px = (t, i) => [box.left + fl._size.l + fl.xaxis.l2p(t.x[i]), box.top + fl._size.t + fl.yaxis.l2p(t.y[i])];
  const pts = [], marks = [];
  for (const t of gd._fullData) {
    if (!t.x || !t.customdata || t.visible === false) continue;
    for (let i = 0; i < t.x.length; i++) {
      const cd = Array.from(t.customdata[i] || []);
      const [x, y] = px(t, i);
      if (cd[0] === 3) marks.push([x, y]);
      else if (cd[0] === 0) pts.push({x, y, index: cd[1]});
    }
  }
  const inside = (p) => p.x > box.left + fl._size.l + 10 && p.x < box.left + fl._size.l + fl._size.w - 10
                     && p.y > box.top + fl._size.t + 10 && p.y < box.top + fl._size.t + fl._size.h - 10;
  let best = null;
  for (const p of pts) {
    if (!inside(p) || marks.some(([x, y]) => Math.hypot(p.x - x, p.y - y) < 25)) continue;
    let near = Infinity;
    for (const q of pts) if (q !== p) near = Math.min(near, Math.hypot(p.x - q.x, p.y - q.y));
    if (!best || near > best.near) best = {...p, near};
  }
  return {best, n: pts.length};
}
"""


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
    chart = app.main.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first
    chart.scroll_into_view_if_needed()
    found = chart.evaluate(ISOLATED_POINT_JS)
    target = found["best"]
    assert found["n"] >= 100 and target, f"no test-image points found on the map: {found}"
    assert target["index"] != first
    app.act(lambda: app.page.mouse.click(target["x"], target["y"]),
            until=app.main.get_by_text(re.compile(r"Picked: test image #%d\b" % target["index"])))
    app.assert_healthy()
    assert _picked(app) == target["index"], (
        f"clicked test image #{target['index']} (nearest other point {target['near']:.0f} px away) "
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


# The emptiest spot of the map (the lattice pixel farthest from every drawn point and marker), its data
# coordinates, and the clickable grid's spacing, from the plot's own axes.
EMPTY_SPOT_JS = """
(gd) => {
  const fl = gd._fullLayout, box = gd.getBoundingClientRect(), s = fl._size;
  const taken = [], grid = {x: new Set(), y: new Set()};
  for (const t of gd._fullData) {
    if (!t.x || !t.customdata || t.visible === false) continue;
    for (let i = 0; i < t.x.length; i++) {
      const kind = Array.from(t.customdata[i] || [])[0];
      if (kind === 2) { grid.x.add(t.x[i]); grid.y.add(t.y[i]); continue; }
      taken.push([fl.xaxis.l2p(t.x[i]), fl.yaxis.l2p(t.y[i])]);
    }
  }
  let best = null;
  for (let px = 20; px < s.w - 20; px += 6) for (let py = 20; py < s.h - 20; py += 6) {
    let near = Infinity;
    for (const [x, y] of taken) near = Math.min(near, Math.hypot(px - x, py - y));
    if (!best || near > best.near) best = {px, py, near};
  }
  const step = (v) => { const a = [...v].sort((p, q) => p - q); return a.length > 1 ? a[1] - a[0] : null; };
  return {x: box.left + s.l + best.px, y: box.top + s.t + best.py, near: best.near,
          dataX: fl.xaxis.p2l(best.px), dataY: fl.yaxis.p2l(best.py), stepX: step(grid.x), stepY: step(grid.y),
          titleX: fl.xaxis.title.text, titleY: fl.yaxis.title.text};
}
"""


def _spot_values(app, labels) -> list[float]:
    """The spot's two number inputs, found by their labels (the map's axis titles)."""
    return [float(app.main.get_by_role("spinbutton", name=lab, exact=True).input_value()) for lab in labels]


# The two inputs' values differ from `before` (arg: [labels, before]).
SPOT_MOVED_JS = """([labels, before]) => labels.some((lab, i) => {
  const e = document.querySelector(`[data-testid="stMain"] input[aria-label="${lab}"]`);
  return e && parseFloat(e.value) !== before[i]; })"""


def test_click_an_empty_spot_decodes_it(app):
    """A click where no point is drawn lands on the invisible grid: the spot moves there (to within one grid
    step), the decoder's image changes, and the picked image stays."""
    app.open("/latent_space")
    app.assert_healthy()
    first = _picked(app)
    dec0 = [i for i in app.images() if i["caption"].startswith("decoder output")]
    assert dec0 and dec0[0]["w"] >= 56 and dec0[0]["range"] > 10, dec0
    chart = app.main.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first
    chart.scroll_into_view_if_needed()
    spot = chart.evaluate(EMPTY_SPOT_JS)
    assert spot["near"] >= 15 and spot["stepX"] and spot["stepY"], spot  # an empty spot, and a grid to hit
    labels = [spot["titleX"].split(" (")[0], spot["titleY"].split(" (")[0]]
    before = _spot_values(app, labels)
    app.act(lambda: app.page.mouse.click(spot["x"], spot["y"]), until=SPOT_MOVED_JS, arg=[labels, before])
    app.assert_healthy()
    x, y = _spot_values(app, labels)
    assert abs(x - spot["dataX"]) <= spot["stepX"] and abs(y - spot["dataY"]) <= spot["stepY"], (x, y, spot)
    dec1 = [i for i in app.images() if i["caption"].startswith("decoder output")]
    assert dec1[0]["src"] != dec0[0]["src"] and dec1[0]["range"] > 10, "the decoded image did not change"
    assert _picked(app) == first, "a click on an empty spot must not change the picked image"
