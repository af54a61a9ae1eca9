"""The one harness that starts a Streamlit server and Debian's Chromium, shared by the browser tests
(tests/browser/conftest.py), the browser benchmark (benchmarks/browser_bench.py) and the load benchmark
(benchmarks/load.py), so "started" and "settled" mean the same thing in all three.

Owns: starting and stopping a server (`StreamlitServer`: `streamlit run app.py`, or the app's launcher
`python -m ui.serve` with its cache warm-up; on a free port or a given one, with extra environment such
as MANIFOLD_LAB_MODELS, stopped by its process id), which Chromium and with which flags (`CHROMIUM`,
`LAUNCH_ARGS`: the sync `launch_chromium` and load.py's async launch both use them), and `App`, one tab
on the app that waits for Streamlit's reruns and reads what is shown.

Streamlit reruns asynchronously: an action (a key press, an upload) sends a message, the server
reruns the script, and the page updates in pieces. So every action waits for its own visible effect
(a new image URL, a message) and then for the app to be idle (stApp's data-test-script-state is
"notRunning", no status widget or spinner) for a moment: element waits, never fixed sleeps.
No pytest here: the fixtures and screenshots of failed tests are conftest.py's.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "test-output" / "browser"
CHROMIUM = os.environ.get("MANIFOLD_LAB_CHROMIUM", "/usr/bin/chromium")  # Debian's; override elsewhere
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]
TIMEOUT_MS = 60_000  # per wait: CI has 2 cores and a cold cache computes embeddings on first view
START_TIMEOUT_S = 180  # importing torch + streamlit on a loaded 2-core machine
VIEWPORT = {"width": 1400, "height": 1000}
INSTALL_HINT = "sudo apt-get install chromium; pip install -r requirements-test.txt"

# True once the app is connected and idle (a script run has finished and none is running: the state
# is "initial" until the first run starts), no status widget or spinner is shown, and all that has
# held for `stableMs` (a page may chain reruns: st.rerun, fragments).
SETTLED_JS = """
(stableMs) => {
  const a = document.querySelector('[data-testid="stApp"]');
  const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const ok = !!a
    && a.getAttribute('data-test-connection-state') === 'CONNECTED'
    && a.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && ![...document.querySelectorAll('[data-testid="stSpinner"], [data-testid="stSkeleton"]')].some(visible);
  const now = performance.now();
  if (!ok) { window.__stSettledSince = null; return false; }
  if (window.__stSettledSince == null) window.__stSettledSince = now;
  return now - window.__stSettledSince >= stableMs;
}
"""

# Every st.image in the main area: natural size, whether loaded, and the pixel range (a blank or a
# 1-pixel image fails the tests). Media files are same-origin, so the canvas is readable.
IMAGES_JS = """
(root) => [...root.querySelectorAll('[data-testid="stImage"] img')].map((img) => {
  const cap = img.closest('[data-testid="stImage"]').querySelector('[data-testid="stImageCaption"]');
  const out = {src: img.getAttribute('src'), w: img.naturalWidth, h: img.naturalHeight, complete: img.complete,
               caption: cap ? cap.innerText : '', range: null};
  if (img.complete && img.naturalWidth > 0) {
    try {
      const c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let lo = 255, hi = 0;
      for (let i = 0; i < d.length; i += 4) { const v = d[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
      out.range = hi - lo;
    } catch (e) { out.range = -1; }
  }
  return out;
})
"""

# Per Plotly chart: its trace types, the number of SVG points (scatter markers, bars) and of data
# points held by WebGL traces (those draw on a canvas, so their pixels are checked separately).
# Plotly charts first, then Vega-Lite ones (SVG: a path per bar or point mark, legends' symbols not counted).
CHARTS_JS = """
(root) => [...root.querySelectorAll('.js-plotly-plot')].map((gd) => {
  const full = gd._fullData || [];
  const gl = full.filter((t) => t.type === 'scattergl' && t.visible !== false && t.x && t.x.length);
  return {types: full.map((t) => t.type), svgPoints: gd.querySelectorAll('.cartesianlayer .point').length,
          glPoints: gl.reduce((n, t) => n + t.x.length, 0),
          width: gd.getBoundingClientRect().width, height: gd.getBoundingClientRect().height};
}).concat([...root.querySelectorAll('[data-testid="stVegaLiteChart"]')].map((el) => ({
  types: ['vega-lite'], glPoints: 0, canvas: el.querySelectorAll('canvas').length > 0,
  svgPoints: el.querySelectorAll('svg g.role-mark.mark-symbol > path, svg g.role-mark.mark-rect > path').length,
  width: el.getBoundingClientRect().width, height: el.getBoundingClientRect().height})))
"""


# The Latent space map (ui.explorer.map_chart) is a Vega-Lite chart on one canvas, so its points are read from its
# pixels: each clearly coloured pixel on a 2-px lattice is ink. `dots`: centres of ink blobs, each with `near`, the
# distance to the nearest other ink 6-40 px away (40: none), most isolated first; `empties`: lattice points of the
# plot far from any ink (`near`: that distance), emptiest first. Both in page pixels. The canvas also holds the
# legend, title and axes, so what a dot or an empty spot is comes from Vega's tooltip there (map_tooltip): a
# point's "… · test #N", the clickable grid's "decode here (x, y)", nothing outside the plot.
MAP_CANVAS = '[data-testid="stVegaLiteChart"] canvas'
MAP_JS = """
(canvas) => {
  const r = canvas.getBoundingClientRect(), W = canvas.width, H = canvas.height, s = W / r.width;
  const d = canvas.getContext('2d').getImageData(0, 0, W, H).data;
  const ink = [], cell = 20, bins = new Map();
  for (let y = 0; y < H; y += 2) for (let x = 0; x < W; x += 2) {
    const i = (y * W + x) * 4, mx = Math.max(d[i], d[i + 1], d[i + 2]), mn = Math.min(d[i], d[i + 1], d[i + 2]);
    if (d[i + 3] > 150 && mx - mn > 60) {
      const p = [x / s, y / s]; ink.push(p);
      const k = Math.floor(p[0] / cell) + ',' + Math.floor(p[1] / cell);
      if (!bins.has(k)) bins.set(k, []); bins.get(k).push(p);
    }
  }
  const around = (x, y, reach, f) => {
    const cx = Math.floor(x / cell), cy = Math.floor(y / cell);
    for (let i = cx - reach; i <= cx + reach; i++) for (let j = cy - reach; j <= cy + reach; j++)
      for (const q of bins.get(i + ',' + j) || []) f(q);
  };
  const dots = [], used = new Set();
  for (const p of ink) {
    let sx = 0, sy = 0, n = 0;
    around(p[0], p[1], 1, (q) => { if (Math.hypot(q[0] - p[0], q[1] - p[1]) < 5) { sx += q[0]; sy += q[1]; n++; } });
    const c = [sx / n, sy / n], key = Math.round(c[0] / 6) + ',' + Math.round(c[1] / 6);
    if (n < 3 || used.has(key)) continue;
    used.add(key);
    let near = 40;
    around(c[0], c[1], 2, (q) => { const e = Math.hypot(q[0] - c[0], q[1] - c[1]); if (e >= 6 && e < near) near = e; });
    dots.push({x: r.left + c[0], y: r.top + c[1], near});
  }
  dots.sort((a, b) => b.near - a.near);
  // Empty spots are looked for where most of the ink is (the 2nd to 98th percentile box of its pixels): the
  // plot, not the margins, the title or the legend's column.
  const pct = (v, q) => { const a = [...v].sort((p, q) => p - q); return a[Math.floor(q * (a.length - 1))]; };
  const xs = ink.map((p) => p[0]), ys = ink.map((p) => p[1]);
  const x0 = pct(xs, 0.02), x1 = pct(xs, 0.98), y0 = pct(ys, 0.02), y1 = pct(ys, 0.98);
  const empties = [];
  for (let y = y0; y < y1; y += 6) for (let x = x0; x < x1; x += 6) {
    let near = 60;
    around(x, y, 3, (q) => { const e = Math.hypot(q[0] - x, q[1] - y); if (e < near) near = e; });
    empties.push({x: r.left + x, y: r.top + y, near});
  }
  empties.sort((a, b) => b.near - a.near);
  return {ink: ink.length, dots: dots.slice(0, 200), empties: empties.slice(0, 400)};
}
"""
TOOLTIP = "#vg-tooltip-element"
# The text of Vega's tooltip while one shows, else ''.
TOOLTIP_TEXT_JS = f"""() => {{ const e = document.querySelector('{TOOLTIP}');
  return e && e.classList.contains('visible') ? e.innerText.trim() : ''; }}"""
TEST_POINT = re.compile(r"· test #(\d+)$")


def map_tooltip(page, x: float, y: float, timeout_ms: int = 1500) -> str:
    """Hover (x, y) and return the text of Vega's tooltip there ('' when none shows)."""
    page.mouse.move(x, y)
    try:
        page.wait_for_function(f"() => ({TOOLTIP_TEXT_JS})() !== ''", timeout=timeout_ms)
    except Exception:  # no tooltip at this spot
        return ""
    return page.evaluate(TOOLTIP_TEXT_JS)


def map_test_point(page, found: dict, min_near: float = 12, tries: int = 20, exclude=()) -> dict | None:
    """The most isolated dot of MAP_JS's `found` whose tooltip names a test image (not one of `exclude`):
    {x, y, near, index}."""
    for dot in found["dots"][:tries + len(exclude)]:
        if dot["near"] < min_near:
            break
        m = TEST_POINT.search(map_tooltip(page, dot["x"], dot["y"]))
        if m and int(m.group(1)) not in exclude:
            return {**dot, "index": int(m.group(1))}
    return None


def map_grid_cells(page, found: dict, n: int = 1, tries: int = 25) -> list[dict]:
    """Up to n of the plot's emptiest spots, each in its own empty patch, whose tooltip offers to decode the grid
    cell there: {x, y, near, dataX, dataY} (the cell's position, to its tooltip's two decimals)."""
    seen: list[tuple[float, float]] = []
    out = []
    for spot in found["empties"]:
        if len(seen) >= tries or len(out) >= n:
            break
        if any(abs(spot["x"] - x) < 30 and abs(spot["y"] - y) < 30 for x, y in seen):
            continue  # the next candidate of the same empty patch
        seen.append((spot["x"], spot["y"]))
        m = re.search(r"decode here \((\S+), (\S+)\)", map_tooltip(page, spot["x"], spot["y"], 800))
        if m:
            out.append({**spot, **{k: float(v.replace("\u2212", "-")) for k, v in zip(("dataX", "dataY"), m.groups())}})
    return out


def map_empty_spot(page, found: dict, tries: int = 25) -> dict | None:
    """The emptiest spot of the plot (map_grid_cells' first), or None."""
    cells = map_grid_cells(page, found, 1, tries)
    return cells[0] if cells else None


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, with how to fix it; None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"Playwright is not importable; install the browser test tools: {INSTALL_HINT}"
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing; install Debian's Chromium and the browser test tools: {INSTALL_HINT}"
    return None


# ---------------------------------------------------------------- the server


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """`streamlit run <script>` on a free port, with its output in a log file; stopped by its pid.

    launcher="ui.serve": the app's own launcher (python -m ui.serve, which warms the caches before the
    first visitor); else `streamlit run script` (default: app.py). env: variables added to this
    process's environment (e.g. MANIFOLD_LAB_MODELS for a scratch model folder). port: a fixed port
    (default: a free one, tried again on another if something takes it first).
    """

    def __init__(self, script: Path | None = None, env: dict[str, str] | None = None, log: Path | None = None,
                 launcher: str | None = None, port: int | None = None):
        self.script, self.extra_env, self.launcher = Path(script or ROOT / "app.py"), dict(env or {}), launcher
        self.log = Path(log) if log else OUT / f"{self.script.stem}-server.log"
        self.proc: subprocess.Popen | None = None
        self.fixed_port = port
        self.port: int | None = port
        self.cpu_s: float | None = None  # CPU seconds the server used, read when it is stopped
        self.started_at: float | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self, timeout_s: float = START_TIMEOUT_S) -> "StreamlitServer":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(1 if self.fixed_port else 3):  # another process may take a free port before Streamlit binds it
            self.port = self.fixed_port or free_port()
            with open(self.log, "ab") as logf:
                cmd = [sys.executable, "-m", self.launcher] if self.launcher else \
                    [sys.executable, "-m", "streamlit", "run", str(self.script)]
                self.proc = subprocess.Popen(
                    cmd + ["--server.headless", "true", "--server.port", str(self.port),
                     "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
                    cwd=ROOT, env={**os.environ, **self.extra_env}, stdout=logf, stderr=subprocess.STDOUT)
            self.started_at = time.monotonic()
            try:
                healthy = self._wait_healthy(timeout_s)
            except BaseException:  # not healthy in time (or interrupted): never leave the process behind
                self.stop()
                raise
            if healthy:
                return self
            self.stop()
        raise RuntimeError(f"Streamlit did not start; last lines of {self.log}:\n{self.log_tail()}")

    def _wait_healthy(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False  # exited: e.g. the port was taken; the caller retries on another
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        time.sleep(0.3)
                        return self.proc.poll() is None  # not some other server that answered on this port
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"Streamlit was not healthy after {timeout_s:.0f} s; last lines of {self.log}:\n"
                           f"{self.log_tail()}")

    def stop(self, timeout_s: float = 10) -> None:
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        self.cpu_s = _cpu_seconds(p.pid)
        p.terminate()
        try:
            p.wait(timeout_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout_s)

    def __enter__(self) -> "StreamlitServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc; None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)


# ---------------------------------------------------------------- the page helper


class App:
    """One browser tab on the app: open pages, act and wait for the rerun, and check what is shown."""

    def __init__(self, page, base_url: str):
        self.page, self.base_url = page, base_url
        self.page_errors: list[str] = []
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    # -- waiting
    def settle(self, stable_ms: int = 300, timeout: int = TIMEOUT_MS) -> None:
        """Wait until the app is idle: no script run, no status widget, no spinner, for stable_ms."""
        self.page.evaluate("window.__stSettledSince = null")
        self.page.wait_for_function(SETTLED_JS, arg=stable_ms, timeout=timeout, polling=100)

    def act(self, action, until, arg=None, timeout: int = TIMEOUT_MS) -> None:
        """Do `action` (a callable driving the page), wait for its visible effect `until` (a Locator
        that must become visible, or a JS predicate called with `arg`), then for the app to be idle.

        The effect is what proves the rerun happened: the script state alone cannot, since a fast
        rerun may go running -> notRunning between two looks at the page.
        """
        action()
        if isinstance(until, str):
            self.page.wait_for_function(until, arg=arg, timeout=timeout, polling=100)
        else:
            until.first.wait_for(state="visible", timeout=timeout)
        self.settle(timeout=timeout)

    def open(self, path: str, timeout: int = TIMEOUT_MS) -> None:
        self.page.goto(self.base_url + path, wait_until="domcontentloaded")
        self.settle(timeout=timeout)

    # -- reading
    @property
    def main(self):
        return self.page.locator('[data-testid="stMain"]')

    @property
    def sidebar(self):
        return self.page.locator('[data-testid="stSidebar"]')

    def images(self, within=None) -> list[dict]:
        """Each st.image under `within` (default: the main area), once every one has loaded."""
        root = within or self.main
        root.evaluate("""(root) => Promise.all([...root.querySelectorAll('[data-testid="stImage"] img')]
            .map((img) => img.complete ? null : new Promise((r) => {
              img.addEventListener('load', r, {once: true}); img.addEventListener('error', r, {once: true}); })))""")
        return root.evaluate(IMAGES_JS)

    def real_images(self, within=None, min_side: int = 56) -> list[dict]:
        """The loaded images at least min_side pixels each way that are not blank."""
        return [i for i in self.images(within) if i["w"] >= min_side and i["h"] >= min_side and (i["range"] or 0) > 10]

    def charts(self, within=None) -> list[dict]:
        """Each Plotly chart, then each Vega-Lite chart, with `points`: SVG points (Vega-Lite: its bars and point
        marks), or for WebGL and canvas charts the coloured pixels drawn."""
        root = within or self.main
        out = root.evaluate(CHARTS_JS)
        plots = root.locator(".js-plotly-plot")
        vegas = root.locator('[data-testid="stVegaLiteChart"]')
        n_plotly = plots.count()
        for i, c in enumerate(out):
            c["points"] = c["svgPoints"]
            if c["glPoints"]:
                c["glPixels"] = coloured_pixels(plots.nth(i).screenshot())
                c["points"] = max(c["points"], c["glPixels"])
            if c.get("canvas"):
                c["canvasPixels"] = coloured_pixels(vegas.nth(i - n_plotly).screenshot())
                c["points"] = max(c["points"], c["canvasPixels"])
        return out

    def assert_healthy(self) -> None:
        """No exception block, no traceback text, no error message anywhere on the page."""
        exc = self.page.locator('[data-testid="stException"]')
        assert exc.count() == 0, f"the page shows an exception: {exc.first.inner_text()[:1500]}"
        text = self.page.locator('[data-testid="stApp"]').inner_text()
        assert "Traceback" not in text, f"the page shows a traceback: {text[text.index('Traceback'):][:1500]}"
        errors = self.page.locator('[data-testid="stAlertContentError"]')
        assert errors.count() == 0, f"the page shows an error: {errors.first.inner_text()[:500]}"

    def slider_inputs(self):
        """The range inputs of the main area's sliders (st.slider renders a hidden <input type=range>)."""
        return self.main.locator('[data-testid="stSlider"] input[type="range"]')

    def screenshot(self, path: Path) -> Path:
        """The whole app, not just the viewport: Streamlit scrolls inside stMain, so the viewport is
        stretched to the content's height for the shot and restored afterwards."""
        path.parent.mkdir(parents=True, exist_ok=True)
        page = self.page
        size = page.viewport_size or VIEWPORT
        h = page.evaluate("""() => Math.max(window.innerHeight,
            ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stSidebarContent"]')]
               .map((e) => e.scrollHeight))""")
        try:
            page.set_viewport_size({"width": size["width"], "height": min(int(h), 12_000)})
            page.wait_for_timeout(150)  # one layout pass at the new size
            page.screenshot(path=str(path), full_page=True)
        finally:
            page.set_viewport_size(size)
        return path


def coloured_pixels(png: bytes, spread: int = 60) -> int:
    """How many pixels of a screenshot are clearly coloured (markers), not white or grey (grid, text)."""
    import numpy as np
    from PIL import Image

    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int(((a.max(-1) - a.min(-1)) > spread).sum())
