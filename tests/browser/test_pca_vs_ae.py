"""PCA vs AE's linked maps in Chromium: one Vega-Lite chart on a canvas with a view per map; a box dragged in
one view picks those points (the server counts them) and they stay bright in every view; "Clear the pick"
brings every point back. The chart's spec and rows are checked in tests/test_page_pca_vs_ae.py."""
import io

import numpy as np
import pytest
from PIL import Image

from ui.widgets import MAP_SIDE

pytestmark = pytest.mark.browser
SPACING = 20  # Vega-Lite's default gap between concatenated views, px


def _views_pixels(chart, n: int) -> list[int]:
    """Coloured pixels in each of the first row's n views (columns MAP_SIDE px wide, SPACING apart)."""
    a = np.asarray(Image.open(io.BytesIO(chart.screenshot())).convert("RGB")).astype(int)
    coloured = (a.max(-1) - a.min(-1)) > 60
    top = coloured[: a.shape[0] // 2]  # the first row of views (the chart has two)
    return [int(top[:, i * (MAP_SIDE + SPACING): (i + 1) * (MAP_SIDE + SPACING)].sum()) for i in range(n)]


def test_a_box_in_one_map_lights_the_same_points_in_every_map(app):
    app.open("/pca_vs_ae?dataset=mnist-5k")
    app.assert_healthy()
    chart = app.main.locator('[data-testid="stVegaLiteChart"]').first
    assert chart.locator("canvas").count() == 1
    before = _views_pixels(chart, 4)
    assert min(before) > 2000, before  # PCA and the first three autoencoders each drew their 1,000 points

    box = chart.bounding_box()
    x0, y0 = box["x"] + 60, box["y"] + 90  # inside the first view (PCA), under its title
    app.act(lambda: (app.page.mouse.move(x0, y0), app.page.mouse.down(),
                     app.page.mouse.move(x0 + 60, y0 + 60, steps=8), app.page.mouse.up()),
            until=app.main.get_by_text("points picked in PCA"))
    app.assert_healthy()
    caption = app.main.get_by_text("points picked in PCA").first.inner_text()
    picked = int(caption.split()[0])
    assert 10 <= picked <= 900, caption
    after = _views_pixels(chart, 4)
    # every view keeps its picked points bright and fades the rest
    assert all(0 < a < 0.9 * b for a, b in zip(after, before)), (before, after)

    app.act(lambda: app.main.get_by_role("button", name="Clear the pick").click(),
            until=app.main.get_by_text("Drag a box in any map"))
    cleared = _views_pixels(chart, 4)
    assert all(c > 0.9 * b for c, b in zip(cleared, before)), (before, cleared)
    assert not app.page_errors, app.page_errors
