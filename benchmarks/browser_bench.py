"""The browser benchmark: what a person waits for in Chromium, against a bare Streamlit app.

    python benchmarks/browser_bench.py                 # writes benchmarks/browser_results.json
    python benchmarks/browser_bench.py --moves 10 --out /tmp/b.json

Measures, in one run and one browser:
  slider   key press (ArrowRight) on the first latent slider of /generate -> the decoded image's URL
           changes (and -> the new image has loaded), median over --moves moves; the same on
           benchmarks/bare_app.py (a slider and one image, nothing else). Goal: app <= 1.5x bare.
  pages    each page's first render: navigation start -> the app is idle (no script run, no status
           widget) and the page's main element is visible, images loaded; each visit a new Streamlit
           session. Three kinds of visit:
             cold       the first visit after the server started (it fills the server's caches:
                        embeddings, fitted detectors), in a new browser context;
             new        later visits, each in a new browser context (empty HTTP cache: Streamlit's
                        and Plotly's JavaScript are fetched and parsed again), median;
             returning  reloads in one context that has loaded the page before (cached JavaScript),
                        median;
             navigate   the usual way in: a new browser context opens the app's home page, then a click on
                        the page's link in the sidebar (click -> page there), median. Streamlit's own
                        JavaScript is loaded by then, Plotly's is not until the first page with a chart.
           Also: the page's first script run as the browser saw it (the server's share of the
           time) and new / returning time over the bare app's (a ratio less sensitive to load).
           Goal: every page < 3 s with the shipped models (checked per kind of visit).
  datasets the latent page on mnist-5k and on full MNIST (10,000 test points): cold and new first render,
           and a click on the map -> the picked image's reconstruction loaded. Goal: full MNIST within 2x.
  memory   the server's resident memory after one latent-page visit per shipped model, on its dataset.
  cold     the server started as `make run` starts it (`python -m ui.serve`: Streamlit plus the cache
           warm-up of ui/warm.py): launch -> health check answered (the server start itself), launch ->
           the warm-up's log line (every page visited once), then the first browser visit of every page
           after that start, each in a new context. Goal: every page's first visit < 3 s.
  floor    the bare app with one three-point Plotly line chart added (?plotly=1), new visits: what any
           page that shows a Plotly chart costs a new visitor before it computes or draws anything of
           its own (Streamlit loads its 4.6 MB Plotly bundle on the first chart). With --only-floors:
           the bare app alone and with one element of each kind (Plotly chart, Vega-Lite chart,
           st.dataframe, st.table), --visits new visits each (writes benchmarks/floors_results.json).

Every figure comes from this run. The harness (server start/stop, waits) is the browser tests' own
(tests/browser/conftest.py), so "settled" means the same thing here as there. Timings depend on the
machine and its load: the load average is recorded before and after.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/browser_bench.py` from anywhere
    sys.path.insert(0, str(ROOT))

from tests.browser.conftest import (  # noqa: E402
    OUT, SETTLED_JS, VIEWPORT, StreamlitServer, browser_unavailable, launch_chromium)

SLIDER_GOAL = 1.5
PAGE_GOAL_S = 3.0
DECODED = "the decoder's image of this code"
BARE_MAIN = '[data-testid="stImage"] img'
# The element whose appearance means "the page is there", per page.
MAIN = {
    "/": '[data-testid="stPageLink"]',
    "/latent_space": '[data-testid="stVegaLiteChart"] canvas',
    "/generate": '[data-testid="stImage"] img',
    "/pca_vs_ae": '[data-testid="stVegaLiteChart"] canvas',
    "/denoise": '[data-testid="stImage"] img',
    "/compression": '[data-testid="stVegaLiteChart"] svg .role-mark',
    "/train": '[data-testid="stFormSubmitButton"] button',
    "/manifold": '[data-testid="stVegaLiteChart"] svg .role-mark',
}

# Records performance.now() (ms since navigation start) at the first moment the app is idle, the main
# element is visible (a canvas: with something drawn on it) and every image has loaded.
FIRST_RENDER_JS = """
(sel) => {
  if (window.__firstRender) return true;
  const a = document.querySelector('[data-testid="stApp"]');
  const el = document.querySelector(sel);
  const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const inked = (e) => {
    if (e.tagName !== 'CANVAS' || !e.width || !e.height) return e.tagName !== 'CANVAS';
    const d = e.getContext('2d').getImageData(0, 0, e.width, e.height).data;
    for (let i = 3; i < d.length; i += 4 * 97) if (d[i] > 0) return true;
    return false;
  };
  const ok = a && a.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]') && el && visible(el) && inked(el)
    && [...document.querySelectorAll('[data-testid="stImage"] img')].every((i) => i.complete && i.naturalWidth > 0);
  if (ok) window.__firstRender = performance.now();
  return !!ok;
}
"""

# From the first byte of each page: when the first script run started and ended as the browser saw it
# (stApp's data-test-script-state), to split a first render into the server's run and the rest.
RUN_TIMES_JS = """
window.__run = {start: null, end: null};
new MutationObserver((records) => {
  for (const r of records) {
    const s = r.target.getAttribute('data-test-script-state');
    if (s === 'running' && window.__run.start === null) window.__run.start = performance.now();
    if (s === 'notRunning' && window.__run.start !== null && window.__run.end === null) {
      window.__run.end = performance.now();
    }
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
"""

# Before a key press: remember the watched image's URL, then time the key press (keydown) and the
# moments the URL changes and the new image has loaded.
WATCH_JS = """
(caption) => {
  const find = () => [...document.querySelectorAll('[data-testid="stImage"]')]
    .find((el) => ((el.querySelector('[data-testid="stImageCaption"]') || {}).innerText || '').startsWith(caption));
  const old = find().querySelector('img').getAttribute('src');
  window.__bench = {t0: null, tSrc: null, tLoad: null};
  document.addEventListener('keydown', () => { if (window.__bench.t0 === null) window.__bench.t0 = performance.now(); },
                            {capture: true, once: true});
  const check = () => {
    const el = find(); const img = el && el.querySelector('img');
    if (!img || img.getAttribute('src') === old || window.__bench.tSrc !== null) return;
    window.__bench.tSrc = performance.now();
    const loaded = () => { window.__bench.tLoad = performance.now(); };
    if (img.complete && img.naturalWidth > 0) loaded(); else img.addEventListener('load', loaded, {once: true});
    obs.disconnect();
  };
  const obs = new MutationObserver(check);
  obs.observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
}
"""


def _settle(page) -> None:
    page.evaluate("window.__stSettledSince = null")
    page.wait_for_function(SETTLED_JS, arg=200, polling=50, timeout=180_000)


@contextlib.contextmanager
def _tab(browser):
    """A tab in a new browser context: its own HTTP cache and its own Streamlit session."""
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        ctx.add_init_script(RUN_TIMES_JS)
        page = ctx.new_page()
        page.set_default_timeout(180_000)
        yield page
    finally:
        ctx.close()


def first_render(page, url: str, main: str) -> dict:
    """Navigate `page` to url: ms from navigation start to the page being there, and to the start and end
    of its first script run (None when a run was too quick to be seen as "running")."""
    page.goto(url, wait_until="commit")
    page.wait_for_function(FIRST_RENDER_JS, arg=main, polling="raf", timeout=300_000)
    r = page.evaluate("({done: window.__firstRender, start: window.__run.start, end: window.__run.end})")
    run = None if r["start"] is None or r["end"] is None else r["end"] - r["start"]
    return {"total_ms": float(r["done"]), "run_ms": run}


# Armed before a click on a sidebar link: time the click, and forget the previous page's render and run.
NAV_ARM_JS = """
(path) => {
  window.__firstRender = null;
  window.__run = {start: null, end: null};
  window.__clickAt = null;
  document.addEventListener('click', () => { window.__clickAt = performance.now(); }, {capture: true, once: true});
  const a = [...document.querySelectorAll('[data-testid="stSidebarNav"] a[href]')]
    .find((e) => new URL(e.href).pathname.replace(/\\/$/, '') === path.replace(/\\/$/, ''));
  if (!a) return false;
  a.setAttribute('data-bench-target', '1');
  return true;
}
"""
# Done: the URL is the new page's and the page is there (its main element, which the page clicked from does
# not have, with the app idle). Not "a run was seen": a busy browser can draw running -> notRunning as one frame.
NAV_DONE_JS = ("([path, sel]) => location.pathname.replace(/\\/$/, '') === path.replace(/\\/$/, '')"
               " && (" + FIRST_RENDER_JS.strip() + ")(sel)")


def navigations(browser, base: str, path: str, main: str, n: int) -> list[dict]:
    """Per visit, in a new browser context: open another page, settle, click `path`'s sidebar link; ms from
    the click to the page being there (and the script run, as the browser saw it)."""
    start = "/train" if path == "/" else "/"
    out = []
    for _ in range(n):
        with _tab(browser) as page:
            page.goto(base + start, wait_until="commit")
            _settle(page)
            if not page.evaluate(NAV_ARM_JS, path):
                raise RuntimeError(f"no sidebar link to {path}")
            page.locator('[data-bench-target="1"]').click()
            page.wait_for_function(NAV_DONE_JS, arg=[path, main], polling="raf", timeout=300_000)
            r = page.evaluate("({done: window.__firstRender, click: window.__clickAt, "
                              "start: window.__run.start, end: window.__run.end})")
            run = None if r["start"] is None or r["end"] is None else r["end"] - r["start"]
            out.append({"total_ms": float(r["done"] - r["click"]), "run_ms": run})
    return out


def new_visits(browser, url: str, main: str, n: int) -> list[dict]:
    out = []
    for _ in range(n):
        with _tab(browser) as page:
            out.append(first_render(page, url, main))
    return out


def returning_visits(browser, url: str, main: str, n: int) -> list[dict]:
    with _tab(browser) as page:
        first_render(page, url, main)  # fills this context's HTTP cache; not timed
        return [first_render(page, url, main) for _ in range(n)]


def slider_moves(browser, url: str, caption: str, moves: int, warmup: int = 2) -> list[dict]:
    """Per key press: ms from keydown to the image URL changing and to the new image loaded."""
    with _tab(browser) as page:
        page.goto(url, wait_until="commit")
        _settle(page)
        slider = page.locator('[data-testid="stMain"] [data-testid="stSlider"] input[type="range"]').first
        slider.focus()
        out = []
        for i in range(warmup + moves):
            page.evaluate(WATCH_JS, caption)
            slider.press("ArrowRight")
            page.wait_for_function("window.__bench.tLoad !== null", polling="raf", timeout=120_000)
            b = page.evaluate("window.__bench")
            _settle(page)  # idle again before the next move, so moves do not overlap
            if i >= warmup:
                out.append({"src_ms": b["tSrc"] - b["t0"], "loaded_ms": b["tLoad"] - b["t0"]})
        return out


# The map's isolated test-image points (the browser tests' own finder: pixels, then each point's tooltip).
from tests.browser.conftest import MAP_CANVAS, MAP_JS, map_test_point  # noqa: E402

# Armed before a click on the map: time the click and the moment the picked image's reconstruction
# (caption "reconstruction") has a new URL and has loaded.
CLICK_WATCH_JS = """
() => {
  const rec = () => [...document.querySelectorAll('[data-testid="stImage"]')].find((el) =>
    ((el.querySelector('[data-testid="stImageCaption"]') || {}).innerText || '') === 'reconstruction');
  const old = rec().querySelector('img').getAttribute('src');
  window.__click = {t0: null, tLoad: null};
  // pointerdown: Vega takes the pointer events, and a mousedown may never follow
  const start = () => { window.__click.t0 = performance.now(); };
  document.addEventListener('pointerdown', start, {capture: true, once: true});
  const obs = new MutationObserver(() => {
    const img = rec() && rec().querySelector('img');
    if (!img || img.getAttribute('src') === old || window.__click.tLoad !== null) return;
    const done = () => { window.__click.tLoad = performance.now(); };
    if (img.complete && img.naturalWidth > 0) done(); else img.addEventListener('load', done, {once: true});
    obs.disconnect();
  });
  obs.observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
}
"""


def latent_clicks(browser, url: str, n: int) -> list[float]:
    """ms from a mouse press on an isolated test point of the latent map to its reconstruction loaded."""
    out = []
    with _tab(browser) as page:
        page.goto(url, wait_until="commit")
        page.wait_for_function(FIRST_RENDER_JS, arg=MAIN["/latent_space"], polling="raf", timeout=300_000)
        _settle(page)
        clicked: set[int] = set()
        for _ in range(n):
            canvas = page.locator(MAP_CANVAS).first
            canvas.scroll_into_view_if_needed()
            target = map_test_point(page, canvas.evaluate(MAP_JS), exclude=clicked)  # a new image each click
            clicked.add(target["index"])
            page.evaluate(CLICK_WATCH_JS)
            page.mouse.click(target["x"], target["y"])
            page.wait_for_function("window.__click.tLoad !== null", polling="raf", timeout=120_000)
            c = page.evaluate("window.__click")
            out.append(c["tLoad"] - c["t0"])
            _settle(page)
    return out


def rss_mb(pid: int) -> dict:
    """The server's resident memory now and at its peak (VmRSS, VmHWM), in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {k: round(int(fields[v].split()[0]) / 1024, 1) for k, v in (("rss_mb", "VmRSS"), ("peak_mb", "VmHWM"))}


def dataset_section(browser, app, datasets: list[str], visits: int, clicks: int) -> dict:
    """The latent page on each dataset: cold and new-visit first render, and click -> reconstruction."""
    out = {}
    for name in datasets:
        url = f"{app.url}/latent_space?dataset={name}"
        cold = new_visits(browser, url, MAIN["/latent_space"], 1)[0]
        new = new_visits(browser, url, MAIN["/latent_space"], visits)
        times = latent_clicks(browser, url, clicks)
        out[name] = {"cold_ms": round(cold["total_ms"], 1), "new_ms": _median(new),
                     "new_samples_ms": [round(v["total_ms"], 1) for v in new],
                     "click_ms": round(statistics.median(times), 1), "click_samples_ms": [round(t, 1) for t in times]}
        print(f"  latent space on {name:9s} cold {_s(out[name]['cold_ms'])} s  new {_s(out[name]['new_ms'])} s  "
              f"click -> reconstruction {out[name]['click_ms']:.0f} ms", flush=True)
    return out


def memory_section(browser, app) -> dict:
    """Server memory with every dataset and every shipped model loaded: one latent-page visit per shipped
    model, on the dataset it was trained on (each visit loads the model and encodes the test split)."""
    from ae_core import workflow

    before = rss_mb(app.proc.pid)
    for r in workflow.SHIPPED:
        with _tab(browser) as page:
            first_render(page, f"{app.url}/latent_space?dataset={r.dataset}&model={r.name}", MAIN["/latent_space"])
    after = rss_mb(app.proc.pid)
    print(f"  server memory: {before['rss_mb']:.0f} MB before, {after['rss_mb']:.0f} MB with every shipped model and "
          f"dataset loaded (peak {after['peak_mb']:.0f} MB)", flush=True)
    return {"before": before, "all_loaded": after, "models": [r.name for r in workflow.SHIPPED]}


def cold_start_section(browser, paths: list[str], timeout_s: float = 900.0) -> dict:
    """A fresh server from the app's launcher: its start, its warm-up, then each page's first visit."""
    import subprocess
    import urllib.request

    from tests.browser.conftest import free_port
    from ui.warm import WARM_DONE

    log = OUT / "bench-cold-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"")
    port = free_port()
    t0 = time.monotonic()
    with open(log, "ab") as f:
        proc = subprocess.Popen([sys.executable, "-m", "ui.serve", "--server.headless", "true", "--server.port",
                                 str(port), "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
                                cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    out: dict = {"launcher": "python -m ui.serve"}
    try:
        deadline = t0 + timeout_s
        while "start_s" not in out and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited; see {log}")
            try:
                with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        out["start_s"] = round(time.monotonic() - t0, 2)
            except OSError:
                time.sleep(0.1)
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            line = next((ln for ln in text.splitlines() if WARM_DONE in ln), None)
            if line:
                out["warm_s"], out["warm_log"] = round(time.monotonic() - t0, 2), line.strip()
                break
            time.sleep(0.2)
        url = f"http://localhost:{port}"
        out["pages_ms"], out["pages_run_ms"] = {}, {}
        for path in paths:
            v = new_visits(browser, url + path, MAIN[path], 1)[0]
            out["pages_ms"][path] = round(v["total_ms"], 1)
            # The script run as the browser saw it (None when too quick to be seen): the server's part of the visit.
            out["pages_run_ms"][path] = None if v["run_ms"] is None else round(v["run_ms"], 1)
            print(f"  first visit after start + warm-up {path:15s} {_s(out['pages_ms'][path])} s"
                  f" (script run {_s(v['run_ms'])} s)", flush=True)
        out["goal_s"] = PAGE_GOAL_S
        out["goal_met"] = all(v < PAGE_GOAL_S * 1000 for v in out["pages_ms"].values())
        return out
    finally:
        proc.terminate()  # by its pid
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


# The bare app's variants for --only-floors: query -> the element whose appearance means it is there.
FLOORS = {"": BARE_MAIN, "?plotly=1": '[data-testid="stPlotlyChart"] .js-plotly-plot',
          "?vega=1": '[data-testid="stVegaLiteChart"] svg .role-mark',
          "?dataframe=1": '[data-testid="stDataFrame"] canvas', "?table=1": '[data-testid="stTable"] table'}


def floors_section(browser, visits: int) -> dict:
    """New visits of the bare app alone and with one element of each kind: each element's cost to a new visitor."""
    bare = StreamlitServer(ROOT / "benchmarks" / "bare_app.py", log=OUT / "bench-floors-server.log")
    try:
        bare.start()
        new_visits(browser, bare.url + "/", BARE_MAIN, 1)  # the server's first run
        out = {}
        for query, sel in FLOORS.items():
            v = new_visits(browser, bare.url + "/" + query, sel, visits)
            out[query or "bare"] = {"new_ms": _median(v), "samples_ms": [round(x["total_ms"], 1) for x in v]}
            print(f"  bare app {query or '(alone)':14s} {_s(out[query or 'bare']['new_ms'])} s", flush=True)
        return out
    finally:
        bare.stop()


def merge_cold_starts(runs: list[dict]) -> dict:
    """Several cold starts (each a fresh server) as one: each page's median first visit, with every sample."""
    out = dict(runs[0])
    out["repeats"] = len(runs)
    for key in ("pages_ms", "pages_run_ms"):
        samples = {p: [r[key][p] for r in runs] for p in runs[0][key]}
        out[key.replace("_ms", "_samples_ms")] = samples
        out[key] = {p: (None if any(v is None for v in vs) else round(statistics.median(vs), 1))
                    for p, vs in samples.items()}
    for key in ("start_s", "warm_s"):
        out[key] = round(statistics.median(r[key] for r in runs if key in r), 2)
    out["goal_met"] = all(v < PAGE_GOAL_S * 1000 for v in out["pages_ms"].values())
    return out


def _median(visits: list[dict], key: str = "total_ms") -> float | None:
    vals = [v[key] for v in visits if v[key] is not None]
    return round(statistics.median(vals), 1) if vals else None


def _page_row(cold: dict, new: list[dict], returning: list[dict], nav: list[dict], bare: dict) -> dict:
    row = {"cold_ms": round(cold["total_ms"], 1), "cold_run_ms": _median([cold], "run_ms"),
           "navigate_ms": _median(nav), "navigate_samples_ms": [round(v["total_ms"], 1) for v in nav],
           "new_ms": _median(new), "new_samples_ms": [round(v["total_ms"], 1) for v in new],
           "returning_ms": _median(returning), "returning_samples_ms": [round(v["total_ms"], 1) for v in returning],
           "run_ms": _median(new + returning, "run_ms")}
    row["new_vs_bare"] = round(row["new_ms"] / bare["new_ms"], 2)
    row["returning_vs_bare"] = round(row["returning_ms"] / bare["returning_ms"], 2)
    return row


def _s(ms: float | None) -> str:
    return "   -  " if ms is None else f"{ms / 1000:6.2f}"


def _summary(samples: list[dict]) -> dict:
    src = [s["src_ms"] for s in samples]
    load = [s["loaded_ms"] for s in samples]
    p90 = sorted(src)[max(0, math.ceil(0.9 * len(src)) - 1)]  # nearest rank
    return {"median_ms": round(statistics.median(src), 1), "p90_ms": round(p90, 1),
            "median_loaded_ms": round(statistics.median(load), 1), "n": len(src),
            "samples_ms": [round(v, 1) for v in src]}


def _wait_for_idle(limit_s: float, below: float = 1.0) -> float:
    """Seconds waited for the 1-minute load average to fall below `below` (at most limit_s): the page times
    are meant for this machine idle, and a test run just before leaves the load high for a minute."""
    t0 = time.monotonic()
    while os.getloadavg()[0] >= below and time.monotonic() - t0 < limit_s:
        time.sleep(5)
    return round(time.monotonic() - t0, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--moves", type=int, default=20, help="slider moves timed per app (after 2 warm-up moves)")
    ap.add_argument("--visits", type=int, default=3, help="timed new and returning visits per page")
    ap.add_argument("--pages", nargs="*", default=list(MAIN), help="only these pages (paths), e.g. /manifold")
    ap.add_argument("--idle-wait", type=float, default=180,
                    help="seconds to wait at most for the 1-minute load average to fall below 1 before starting")
    ap.add_argument("--datasets", nargs="*", default=["mnist-5k", "mnist"],
                    help="the latent page's first render and click latency on each of these datasets")
    ap.add_argument("--clicks", type=int, default=8, help="timed clicks on the latent map per dataset")
    ap.add_argument("--no-memory", action="store_true", help="skip loading every shipped model for the memory figure")
    ap.add_argument("--no-cold-start", dest="cold_start", action="store_false",
                    help="skip the launcher's server start, warm-up and first visit of every page")
    ap.add_argument("--only-cold-start", action="store_true", help="only that section (writes its own JSON)")
    ap.add_argument("--only-floors", action="store_true",
                    help="only the bare app with one element of each kind, new visits (writes its own JSON)")
    ap.add_argument("--cold-repeats", type=int, default=None,
                    help="cold starts, each a fresh server; each page's median is reported (default: 3 with "
                         "--only-cold-start, else 1)")
    ap.add_argument("--out", type=Path, default=None,
                    help="results file (default: benchmarks/browser_results.json, with --only-cold-start "
                         "benchmarks/cold_start_results.json)")
    args = ap.parse_args(argv)
    if args.out is None:  # the cold start alone must not overwrite the full run's file
        args.out = ROOT / "benchmarks" / ("floors_results.json" if args.only_floors else "cold_start_results.json"
                                          if args.only_cold_start else "browser_results.json")
    reason = browser_unavailable()
    if reason:
        print(f"browser benchmark skipped: {reason}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    waited = _wait_for_idle(args.idle_wait)
    load_before = os.getloadavg()
    if args.only_floors:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                print(f"new visits ({args.visits} each, median):")
                floors = floors_section(browser, args.visits)
            finally:
                browser.close()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"when": datetime.datetime.now().isoformat(timespec="seconds"),
                                   "load_avg_before": load_before, "load_avg_after": os.getloadavg(),
                                   "floors": floors}, indent=2, sort_keys=True) + "\n")
        print(f"wrote {args.out}")
        return 0
    cold_start = None
    if args.cold_start or args.only_cold_start:
        # First, on a machine with no other server of ours: a cold start is the point of it.
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                repeats = args.cold_repeats or (3 if args.only_cold_start else 1)
                runs = []
                for i in range(repeats):
                    print(f"server start from the launcher, its warm-up, then each page's first visit ({i + 1}/{repeats}):")
                    runs.append(cold_start_section(browser, args.pages))
                cold_start = merge_cold_starts(runs)
                if repeats > 1:
                    for path, ms in cold_start["pages_ms"].items():
                        print(f"  median of {repeats}: {path:15s} {_s(ms)} s"
                              f" (samples {', '.join(_s(v).strip() for v in cold_start['pages_samples_ms'][path])})")
            finally:
                browser.close()
        print(f"  server start {cold_start.get('start_s')} s, warm-up done {cold_start.get('warm_s')} s after launch")
        if args.only_cold_start:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"when": datetime.datetime.now().isoformat(timespec="seconds"),
                                            "load_avg_before": load_before, "cold_start": cold_start},
                                           indent=2, sort_keys=True) + "\n")
            print(f"wrote {args.out}")
            return 0
    app = StreamlitServer(ROOT / "app.py", log=OUT / "bench-app-server.log")
    bare = StreamlitServer(ROOT / "benchmarks" / "bare_app.py", log=OUT / "bench-bare-server.log")
    try:
        app.start()
        bare.start()
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                # The first script run of a server imports torch and the app's modules: a start-up
                # cost, paid before any page is timed (it is reported apart).
                with _tab(browser) as page:
                    startup_ms = first_render(page, app.url + "/", MAIN["/"])["total_ms"]
                new_visits(browser, bare.url + "/", BARE_MAIN, 1)  # the bare server's first run
                bare_render = {
                    "new_ms": _median(new_visits(browser, bare.url + "/", BARE_MAIN, args.visits)),
                    "returning_ms": _median(returning_visits(browser, bare.url + "/", BARE_MAIN, args.visits)),
                    "plotly_new_ms": _median(new_visits(browser, bare.url + "/?plotly=1",
                                                        '[data-testid="stPlotlyChart"] .js-plotly-plot', args.visits))}
                print("first render, s     cold    new  returning  navigate  script run  new/bare  returning/bare")
                print(f"  bare app            -  {_s(bare_render['new_ms'])}  {_s(bare_render['returning_ms'])}")
                print(f"  bare app + Plotly   -  {_s(bare_render['plotly_new_ms'])}      (floor for a new visitor)")
                pages = {}
                for path, sel in ((p, MAIN[p]) for p in args.pages):
                    cold = new_visits(browser, app.url + path, sel, 1)[0]
                    r = pages[path] = _page_row(cold, new_visits(browser, app.url + path, sel, args.visits),
                                                returning_visits(browser, app.url + path, sel, args.visits),
                                                navigations(browser, app.url, path, sel, args.visits),
                                                bare_render)
                    print(f"  {path:15s} {_s(r['cold_ms'])} {_s(r['new_ms'])}  {_s(r['returning_ms'])}"
                          f"     {_s(r['navigate_ms'])}      {_s(r['run_ms'])}  {r['new_vs_bare']:7.1f}x"
                          f"  {r['returning_vs_bare']:13.1f}x", flush=True)
                by_dataset = dataset_section(browser, app, args.datasets, args.visits, args.clicks)
                memory = None if args.no_memory else memory_section(browser, app)
                app_moves = slider_moves(browser, app.url + "/generate", DECODED, args.moves)
                bare_moves = slider_moves(browser, bare.url + "/", "bare image", args.moves)
            finally:
                browser.close()
    finally:
        app.stop()
        bare.stop()

    a, b = _summary(app_moves), _summary(bare_moves)
    ratio = a["median_ms"] / b["median_ms"]
    goal_ms = PAGE_GOAL_S * 1000
    met = {kind: all(v[f"{kind}_ms"] < goal_ms for v in pages.values()) for kind in ("cold", "new", "returning", "navigate")}
    result = {
        "when": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_avg_before": [round(x, 2) for x in load_before], "waited_for_idle_s": waited,
                    "load_avg_after": [round(x, 2) for x in os.getloadavg()]},
        "slider": {"app_generate": a, "bare_app": b, "ratio": round(ratio, 2), "goal_ratio": SLIDER_GOAL,
                   "goal_met": ratio <= SLIDER_GOAL},
        "first_render": {"server_startup_ms": round(startup_ms, 1), "pages": pages, "bare_app": bare_render,
                         "goal_s": PAGE_GOAL_S, "goal_met": met},
        "latent_by_dataset": by_dataset,
        "memory": memory,
        "cold_start": cold_start,
    }
    if "mnist" in by_dataset and "mnist-5k" in by_dataset:
        small, big = by_dataset["mnist-5k"], by_dataset["mnist"]
        result["full_mnist_vs_5k"] = {k: round(big[k] / small[k], 2) for k in ("cold_ms", "new_ms", "click_ms")}
        result["full_mnist_vs_5k"]["goal"] = "within 2x of mnist-5k"
        result["full_mnist_vs_5k"]["goal_met"] = all(v <= 2 for k, v in result["full_mnist_vs_5k"].items()
                                                     if k.endswith("_ms"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")

    print(f"\nslider -> image (median of {a['n']} key presses, keydown to new image URL; to image loaded)")
    print(f"  /generate   {a['median_ms']:7.1f} ms  (p90 {a['p90_ms']:.1f}; loaded {a['median_loaded_ms']:.1f})")
    print(f"  bare app    {b['median_ms']:7.1f} ms  (p90 {b['p90_ms']:.1f}; loaded {b['median_loaded_ms']:.1f})")
    print(f"  ratio       {ratio:7.2f} x  (goal <= {SLIDER_GOAL}: {'met' if ratio <= SLIDER_GOAL else 'NOT met'})")
    print(f"first render < {PAGE_GOAL_S:g} s on every page: "
          + ", ".join(f"{k} {'met' if ok else 'NOT met'}" for k, ok in met.items())
          + f"; the server's first visit after start-up (imports) took {startup_ms / 1000:.2f} s")
    la, lb = result["machine"]["load_avg_before"], result["machine"]["load_avg_after"]
    if la[0] >= 1.0:  # after the run the load is the benchmark's own (a server and a browser)
        print(f"note: the load average was {la[0]} on {os.cpu_count()} CPUs at the start (waited {waited} s): "
              "other work was running, so times are inflated.")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
