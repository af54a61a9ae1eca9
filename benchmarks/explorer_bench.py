"""The latent map's explorer at full MNIST's 70,000 points, in Chromium: how long a colour change and a
box selection take, from the action to the page settled with its visible effect.

`explorer_section(browser, app_url, n)` opens `/latent_space?dataset=mnist`, ticks "Add the training split"
(10,000 test + 60,000 training codes on the map's canvas), then n times each: colour by reconstruction error
and back to class (until the link says so and the canvas has been drawn again), and a box dragged where the
points are (until the "Selection: N images" heading shows). benchmarks/browser_bench.py can call it beside its other
sections; `python -m benchmarks.explorer_bench --tiny` runs it on mnist-5k's 5,000 points as a smoke test.
The harness (server, waits) is benchmarks/harness.py, shared with the browser tests.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from benchmarks.harness import (  # noqa: E402
    MAP_CANVAS, MAP_JS, OUT, VIEWPORT, App, StreamlitServer, browser_unavailable, launch_chromium)

# A cheap signature of the map's canvas (sampled pixels), to see that it was drawn again.
CANVAS_SIG_JS = f"""() => {{ const c = document.querySelector('{MAP_CANVAS}'); if (!c) return null;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let h = 0;
  for (let i = 0; i < d.length; i += 4 * 97) h = (h * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) % 1000000007;
  return h; }}"""
# The colouring is in the link, and the canvas differs from before the change.
REDRAWN_JS = f"""(want) => location.search.includes('colour=error') === want
  && ({CANVAS_SIG_JS})() !== window.__sig"""


def _colour(app: App, label: str, to_error: bool) -> float:
    box = app.main.locator('[data-testid="stSelectbox"]').filter(has_text="Colour by")
    box.click()
    app.page.evaluate(f"window.__sig = ({CANVAS_SIG_JS})()")
    t = time.perf_counter()
    app.act(lambda: app.page.get_by_role("option", name=re.compile(label)).first.click(), until=REDRAWN_JS,
            arg=to_error, timeout=300_000)
    return (time.perf_counter() - t) * 1000


def _box(app: App, k: int) -> float:
    canvas = app.main.locator(MAP_CANVAS).first
    canvas.scroll_into_view_if_needed()
    found = canvas.evaluate(MAP_JS)
    xs = sorted(d["x"] for d in found["dots"]) or [canvas.bounding_box()["x"] + 200]
    ys = sorted(d["y"] for d in found["dots"]) or [canvas.bounding_box()["y"] + 250]
    cx, cy = xs[len(xs) // 2], ys[len(ys) // 2]  # where the points are
    r = 30 + 10 * (k % 3)  # a slightly different box each time, so each is a new selection
    x0, y0, x1, y1 = cx - r, cy - r, cx + r, cy + r
    app.page.evaluate("window.__boxN = (document.querySelector('h3[id^=selection]') || {}).innerText || ''")

    def drag():
        m = app.page.mouse
        m.move(x0, y0)
        m.down()
        m.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
        m.move(x1, y1, steps=4)
        m.up()

    t = time.perf_counter()
    app.act(drag, until="() => [...document.querySelectorAll('h3')].some((h) => /^Selection: [\\d,]+ image/.test("
                        "h.innerText) && h.innerText !== window.__boxN)", timeout=300_000)
    return (time.perf_counter() - t) * 1000


def explorer_section(browser, app_url: str, n: int = 3, dataset: str = "mnist") -> dict:
    """Median ms of a colour change and of a box selection on the latent map with both splits drawn."""
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        page = ctx.new_page()
        app = App(page, app_url)
        app.open("/", timeout=300_000)
        app.open(f"/latent_space?dataset={dataset}", timeout=300_000)
        app.page.evaluate(f"window.__sig = ({CANVAS_SIG_JS})()")
        app.act(lambda: app.main.get_by_text("Add the training split").click(),
                until=f"() => ({CANVAS_SIG_JS})() !== window.__sig", timeout=300_000)
        from ae_core import data

        ds = data.load_dataset(dataset)
        points = len(ds.x_test) + len(ds.x_train)  # the map draws both splits
        _colour(app, "reconstruction error", True)  # the first one computes every image's error (cached)
        _colour(app, "^class$", False)
        colour_ms, box_ms = [], []
        for k in range(n):
            colour_ms.append(_colour(app, "reconstruction error", True))
            colour_ms.append(_colour(app, "^class$", False))
            box_ms.append(_box(app, k))
        app.assert_healthy()
        return {"dataset": dataset, "points": int(points),
                "colour_change_ms": round(statistics.median(colour_ms), 1),
                "colour_samples_ms": [round(v, 1) for v in colour_ms],
                "box_select_ms": round(statistics.median(box_ms), 1), "box_samples_ms": [round(v, 1) for v in box_ms]}
    finally:
        ctx.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=3, help="timed colour changes (each way) and box selections")
    ap.add_argument("--tiny", action="store_true", help="mnist-5k (5,000 points), once: checks the code runs")
    args = ap.parse_args(argv)
    reason = browser_unavailable()
    if reason:
        print(f"skipped: {reason}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    srv = StreamlitServer(ROOT / "app.py", log=OUT / "bench-explorer-server.log").start()
    try:
        with sync_playwright() as p:
            b = launch_chromium(p)
            try:
                res = explorer_section(b, srv.url, 1 if args.tiny else args.n, "mnist-5k" if args.tiny else "mnist")
            finally:
                b.close()
    finally:
        srv.stop()
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
