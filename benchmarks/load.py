"""Load test: latent-slider latency on the Generate page for one visitor alone, then for several at once
(optionally while another visitor trains a model on the Train page).

    python benchmarks/load.py                      # 4 pages, 8 moves each, one training during the load
    python benchmarks/load.py --pages 8 --moves 12 --no-train --out /tmp/load.json

What is timed: a key press (ArrowRight, or ArrowLeft near the end of the range) on the first latent
slider of /generate -> the decoded image's URL changes (the server re-ran the page and decoded the
new code). "idle" is one page alone; "load" is --pages pages in separate browser sessions moving their
sliders at the same time, with a training started on /train first unless --no-train. The ratio of the
medians is what the extra visitors cost each of them.

Bounded: --moves per page, a per-move timeout and a --deadline for the whole run; moves that time out
are counted, not waited for. The server runs on a free port from this checkout's interpreter, with
MANIFOLD_LAB_MODELS pointing at a temporary copy of models/ (a training saves its model there, never
into the repository), and is stopped by its PID in a finally block.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]
DECODED = "the decoder's image of this code"  # the caption of the Generate page's decoded image
SLIDERS = '[data-testid="stMain"] [data-testid="stSlider"] input[type="range"], ' \
          '[data-testid="stMain"] [data-testid="stSlider"] [role="slider"]'
DECODED_SRC_JS = """(cap) => {
  const el = [...document.querySelectorAll('[data-testid="stImage"]')].find((e) => (e.innerText || '').startsWith(cap))
    || document.querySelector('[data-testid="stMain"] [data-testid="stImage"]');
  const img = el && el.querySelector('img');
  return img ? img.getAttribute('src') : null;
}"""
CHANGED_JS = f"""([cap, old]) => {{ const src = ({DECODED_SRC_JS})(cap); return src !== null && src !== old; }}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, models: Path, log: Path, timeout_s: float) -> subprocess.Popen:
    env = {**os.environ, "MANIFOLD_LAB_MODELS": str(models)}
    with open(log, "ab") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc
        except OSError:
            pass
        time.sleep(0.25)
    proc.terminate()
    raise RuntimeError(f"streamlit was not healthy after {timeout_s:.0f} s; see {log}")


def stop_server(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()  # by its PID: never by name, other servers may run on this machine
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


async def open_generate(browser, base: str, timeout_ms: int):
    """A new session (its own browser context) on /generate, once a slider and the decoded image are shown."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    await page.goto(base + "/generate", wait_until="domcontentloaded", timeout=timeout_ms)
    await page.wait_for_selector(SLIDERS, state="attached", timeout=timeout_ms)
    await page.wait_for_function(DECODED_SRC_JS, arg=DECODED, timeout=timeout_ms)
    return ctx, page


async def move_slider(page, moves: int, timeout_ms: int, deadline: float) -> tuple[list[float], int]:
    """(latencies in seconds, moves that timed out) for `moves` key presses on the first slider."""
    slider = page.locator(SLIDERS).first
    latencies, timeouts, key = [], 0, "ArrowRight"
    for _ in range(moves):
        if time.monotonic() > deadline:
            break
        now, top = await slider.get_attribute("aria-valuenow"), await slider.get_attribute("aria-valuemax")
        bottom = await slider.get_attribute("aria-valuemin")
        try:  # turn round near either end so every press changes the value
            v, lo, hi = float(now), float(bottom), float(top)
            key = "ArrowLeft" if v >= hi - (hi - lo) * 0.02 else ("ArrowRight" if v <= lo + (hi - lo) * 0.02 else key)
        except (TypeError, ValueError):
            pass
        old = await page.evaluate(DECODED_SRC_JS, DECODED)
        await slider.focus()
        t0 = time.perf_counter()
        await slider.press(key)
        try:
            await page.wait_for_function(CHANGED_JS, arg=[DECODED, old], timeout=timeout_ms, polling="raf")
            latencies.append(time.perf_counter() - t0)
        except Exception:  # noqa: BLE001 - a Playwright TimeoutError: count it, go on
            timeouts += 1
        await page.wait_for_timeout(100)  # let the page finish drawing the rest of the rerun
    return latencies, timeouts


async def start_training(browser, base: str, timeout_ms: int):
    """A session that submits the Train page's form with its defaults; returns its context (kept open)."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    await page.goto(base + "/train", wait_until="domcontentloaded", timeout=timeout_ms)
    button = page.get_by_role("button", name="Train", exact=True)
    await button.wait_for(timeout=timeout_ms)
    await button.click()
    # Submitted once the job panel (a progress bar or a status line) appears.
    await page.wait_for_selector('[data-testid="stProgress"], [data-testid="stAlertContainer"]', timeout=timeout_ms)
    return ctx, page


def summary(xs: list[float]) -> dict:
    if not xs:
        return {"n": 0}
    xs = sorted(xs)
    return {"n": len(xs), "median_s": round(statistics.median(xs), 4), "p90_s": round(xs[int(0.9 * (len(xs) - 1))], 4),
            "max_s": round(xs[-1], 4)}


async def run(args) -> dict:
    from playwright.async_api import async_playwright

    timeout_ms = int(args.move_timeout * 1000)
    deadline = time.monotonic() + args.deadline
    port = args.port or free_port()
    tmp = Path(tempfile.mkdtemp(prefix="manifold-load-"))
    proc, result = None, {}
    try:
        models = tmp / "models"
        shutil.copytree(ROOT / "models", models, ignore=shutil.ignore_patterns(".*"))
        t0 = time.perf_counter()
        proc = start_server(port, models, tmp / "server.log", args.start_timeout)
        base = f"http://localhost:{port}"
        result["server_start_s"] = round(time.perf_counter() - t0, 2)
        result["load_avg_before"] = os.getloadavg()
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            try:
                # Visit / first: until one session has run app.py (its st.navigation call), Streamlit
                # treats the pages/ folder as legacy pages and runs /generate without app.py's sidebar.
                ctx = await browser.new_context()
                page = await ctx.new_page()
                await page.goto(base + "/", wait_until="domcontentloaded", timeout=args.page_timeout * 1000)
                await page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=args.page_timeout * 1000)
                await ctx.close()
                # Idle: one visitor alone; its first move is a warm-up (caches fill), not counted.
                ctx, page = await open_generate(browser, base, args.page_timeout * 1000)
                await move_slider(page, 1, args.page_timeout * 1000, deadline)
                idle, idle_to = await move_slider(page, args.moves, timeout_ms, deadline)
                await ctx.close()
                result["idle"] = {**summary(idle), "timeouts": idle_to}
                # Load: N visitors at once (each warmed up the same way), plus a training.
                trainer = None
                if args.train:
                    trainer = await start_training(browser, base, args.page_timeout * 1000)
                sessions = await asyncio.gather(*[open_generate(browser, base, args.page_timeout * 1000)
                                                  for _ in range(args.pages)])
                await asyncio.gather(*[move_slider(pg, 1, args.page_timeout * 1000, deadline) for _, pg in sessions])
                runs = await asyncio.gather(*[move_slider(pg, args.moves, timeout_ms, deadline) for _, pg in sessions])
                loaded = [x for lat, _ in runs for x in lat]
                result["load"] = {**summary(loaded), "timeouts": sum(t for _, t in runs), "pages": args.pages,
                                  "training": bool(args.train)}
                if trainer is not None:
                    text = await trainer[1].locator('[data-testid="stMain"]').inner_text()
                    result["training_still_running"] = "running" in text or "queued" in text
                    await trainer[0].close()
                for ctx, _ in sessions:
                    await ctx.close()
            finally:
                await browser.close()
        result["load_avg_after"] = os.getloadavg()
        if result["idle"].get("n") and result["load"].get("n"):
            result["ratio_median"] = round(result["load"]["median_s"] / result["idle"]["median_s"], 2)
        result["cpus"] = os.cpu_count()
        return result
    finally:
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=4, help="visitors moving sliders at once (default 4)")
    ap.add_argument("--moves", type=int, default=8, help="timed moves per page (default 8)")
    ap.add_argument("--no-train", dest="train", action="store_false", help="no training during the load phase")
    ap.add_argument("--move-timeout", type=float, default=30.0, help="seconds one move may take (default 30)")
    ap.add_argument("--page-timeout", type=int, default=180, help="seconds a page may take to first render")
    ap.add_argument("--start-timeout", type=float, default=180.0, help="seconds the server may take to start")
    ap.add_argument("--deadline", type=float, default=600.0, help="no new moves after this many seconds")
    ap.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    ap.add_argument("--out", type=Path, help="also write the result as JSON here")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: sudo apt-get install chromium", file=sys.stderr)
        return 2
    result = asyncio.run(run(args))
    idle, load = result.get("idle", {}), result.get("load", {})
    print(f"server start {result.get('server_start_s')} s; load average before {result['load_avg_before'][0]:.1f}, "
          f"after {result['load_avg_after'][0]:.1f} on {result['cpus']} CPUs")
    print(f"idle  (1 page):  median {idle.get('median_s')} s, p90 {idle.get('p90_s')} s over {idle.get('n')} moves, "
          f"{idle.get('timeouts')} timed out")
    print(f"load  ({load.get('pages')} pages{' + a training' if load.get('training') else ''}): median "
          f"{load.get('median_s')} s, p90 {load.get('p90_s')} s over {load.get('n')} moves, "
          f"{load.get('timeouts')} timed out")
    if "training_still_running" in result:
        print(f"training still running at the end of the load phase: {result['training_still_running']}")
    print(f"ratio (median under load / idle): {result.get('ratio_median')}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
