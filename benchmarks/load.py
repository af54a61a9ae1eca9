"""Load test: a classroom on one server. Sessions on loopback move Generate's latent slider and click the
Latent space map for a fixed time, at several session counts, with and without a training running.

    python benchmarks/load.py                                  # 1, 5, 10, 20 sessions x 60 s, idle and training
    python benchmarks/load.py --sessions 1,2 --seconds 5      # a tiny check of the same code paths

What is timed, per action: on /generate a key press (ArrowRight, or ArrowLeft near the end of the range)
on the first latent slider -> the decoded image's URL changes (the server re-ran the fragment and
decoded the new code); on /latent_space a click on a test image's point of the map -> the page says
"Picked: test image #i" for that point. Session i of a level works on /generate when i is even and on
/latent_space when it is odd (so one session is on /generate alone). "train" runs a training
started from the Train page (full MNIST, 30 epochs, the 300 s limit; the clock starts once it is running) during the whole measurement, restarted if
it ends; the fraction of polls that found it running is recorded. Per level, condition and page:
p50 / p95 / max latency, actions, time-outs and exception boxes seen ("errors"); then the smallest
session count at which p95 passes 1 s, and the goal: the slider's median with one session on
/generate while a training runs within 1.5x of idle.

Bounded: at most 20 sessions, --seconds per phase, a per-action timeout and a --deadline for the whole
run (no new actions after it). The server is the app's launcher (python -m ui.serve: the caches are
warmed before the first phase) on a free port from this checkout's interpreter, with
MANIFOLD_LAB_MODELS pointing at a temporary copy of models/ (a training saves there, never into the
repository), stopped by its PID in a finally block: benchmarks/harness.py's StreamlitServer, and its
Chromium path and launch flags, as the browser tests and browser_bench.py use. Writes JSON and Markdown.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import re
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/load.py` from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402  (the one server/browser harness)
    CHROMIUM, LAUNCH_ARGS, MAP_CANVAS, MAP_JS, TEST_POINT, TOOLTIP_TEXT_JS, StreamlitServer)

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


MAX_SESSIONS = 20
EXCEPTION = '[data-testid="stException"]'
PICKED = re.compile(r"Picked: test image #(\d+)\b")


async def open_page(browser, base: str, path: str, ready: str, timeout_ms: int, holder: dict | None = None):
    """A new session (its own browser context) on path, once `ready` is attached. `holder` gets "ctx" and
    "pg" as soon as they exist, so a caller can close the context, and read the page, when this fails."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    if holder is not None:
        holder["ctx"], holder["pg"] = ctx, page
    await page.goto(base + path, wait_until="domcontentloaded", timeout=timeout_ms)
    await page.wait_for_selector(ready, state="attached", timeout=timeout_ms)
    if path == "/generate":
        await page.wait_for_function(DECODED_SRC_JS, arg=DECODED, timeout=timeout_ms)
    return ctx, page


async def slider_action(page, state: dict, timeout_ms: int) -> float:
    slider = page.locator(SLIDERS).first
    now, top = await slider.get_attribute("aria-valuenow"), await slider.get_attribute("aria-valuemax")
    bottom = await slider.get_attribute("aria-valuemin")
    try:  # turn round near either end so every press changes the value
        v, lo, hi = float(now), float(bottom), float(top)
        if v >= hi - (hi - lo) * 0.02:
            state["key"] = "ArrowLeft"
        elif v <= lo + (hi - lo) * 0.02:
            state["key"] = "ArrowRight"
    except (TypeError, ValueError):
        pass
    old = await page.evaluate(DECODED_SRC_JS, DECODED)
    await slider.focus()
    t0 = time.perf_counter()
    await slider.press(state.get("key", "ArrowRight"))
    await page.wait_for_function(CHANGED_JS, arg=[DECODED, old], timeout=timeout_ms, polling="raf")
    return time.perf_counter() - t0


PICKED_CHANGED_JS = """(cur) => {
  const m = (document.querySelector('[data-testid="stMain"]').innerText || '').match(/Picked: test image #(\\d+)/);
  return !!m && Number(m[1]) !== cur;
}"""


async def click_action(page, state: dict, timeout_ms: int) -> float:
    """A click on a test image's point (a random isolated one, named by its tooltip) -> another image is picked."""
    canvas = page.locator(MAP_CANVAS).first
    await canvas.scroll_into_view_if_needed()
    found = await canvas.evaluate(MAP_JS)
    text = await page.locator('[data-testid="stMain"]').inner_text()
    m = PICKED.search(text)
    current = int(m.group(1)) if m else -1
    dots = [d for d in found["dots"] if d["near"] >= 8]
    state["rng"].shuffle(dots)
    for dot in dots[:15]:  # the first whose tooltip names another test image (not the legend, not a marker)
        await page.mouse.move(dot["x"], dot["y"])
        try:
            await page.wait_for_function(f"() => ({TOOLTIP_TEXT_JS})() !== ''", timeout=1500, polling="raf")
        except Exception:
            continue
        hit = TEST_POINT.search(await page.evaluate(TOOLTIP_TEXT_JS))
        if hit and int(hit.group(1)) != current:
            break
    else:
        raise RuntimeError("no test-image point to click on the map")
    t0 = time.perf_counter()
    await page.mouse.click(dot["x"], dot["y"])
    await page.wait_for_function(PICKED_CHANGED_JS, arg=current, timeout=timeout_ms, polling="raf")
    return time.perf_counter() - t0


async def open_session(browser, base: str, i: int, timeout_ms: int, page_timeout_ms: int) -> dict:
    """Session i on its page, after one warm-up action (not counted); the clock starts after every session is open."""
    path = "/generate" if i % 2 == 0 else "/latent_space"
    ready, action = (SLIDERS, slider_action) if path == "/generate" else (MAP_CANVAS, click_action)
    out = {"page": path, "latencies": [], "timeouts": 0, "errors": 0, "ctx": None, "pg": None, "action": action,
           "state": {"rng": random.Random(i)}}
    try:
        await open_page(browser, base, path, ready, page_timeout_ms, holder=out)
        try:
            await action(out["pg"], out["state"], timeout_ms)
        except Exception:  # noqa: BLE001
            pass
    except Exception as e:  # noqa: BLE001 - the session could not open: an error, not a crash of the benchmark
        out["errors"] += 1
        out["open_error"] = f"{type(e).__name__}: {str(e)[:200]}"
        try:  # what the page showed instead, so that a level that fails can be read, not guessed
            shown = await out["pg"].locator("body").inner_text(timeout=5000) if out["pg"] is not None else ""
            out["open_error"] += " | page showed: " + " ".join(shown.split())[:300]
        except Exception:  # noqa: BLE001
            pass
        out["pg"] = None  # no actions on a page that never opened (act() still closes its context)
    return out


async def act(s: dict, until: float, timeout_ms: int) -> dict:
    page = s["pg"]
    try:
        while page is not None and time.monotonic() < until:
            try:
                s["latencies"].append(await s["action"](page, s["state"], timeout_ms))
            except Exception as e:  # noqa: BLE001 - a Playwright TimeoutError, or a page that broke
                kind = "timeouts" if "Timeout" in type(e).__name__ else "errors"
                s[kind] += 1
                s.setdefault("first_problems", []).append(f"{kind}: {type(e).__name__}: {str(e)[:200]}")
            if await page.locator(EXCEPTION).count():
                s["errors"] += 1
                text = await page.locator(EXCEPTION).first.inner_text()
                s.setdefault("first_problems", []).append(f"exception on the page: {text[:600]}")
                break
            await page.wait_for_timeout(100)  # a person's pace, and let the rest of the rerun draw
    finally:
        if s["ctx"] is not None:
            await s["ctx"].close()
    return s


async def start_training(browser, base: str, timeout_ms: int):
    """A session that submits the Train page's form and waits until the worker really trains; returns
    (ctx, page). Full MNIST, 30 epochs, the longest time limit: one training outlasts a phase (a mnist-5k
    training of 30 epochs ends in about 12 s, and a restart spends its first seconds starting a worker)."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    await page.goto(base + "/train", wait_until="domcontentloaded", timeout=timeout_ms)
    button = page.get_by_role("button", name="Train", exact=True)
    await button.wait_for(timeout=timeout_ms)
    form = page.locator('[data-testid="stForm"]')
    # No silent fallback: a form that changed must fail the phase loudly, not measure a 2-s training.
    await form.locator('[data-testid="stSelectbox"]').filter(has_text="Dataset").click()
    await page.get_by_role("option", name="mnist", exact=True).click()
    await page.get_by_role("spinbutton", name="Epochs").fill("30")
    seconds = form.locator('[data-testid="stSlider"]').filter(has_text="Time limit").get_by_role("slider")
    await seconds.focus()
    await seconds.press("End")
    await button.click()
    main = page.locator('[data-testid="stMain"]')
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        if re.search(r"· running", await main.inner_text(timeout=timeout_ms)):
            return ctx, page
        await asyncio.sleep(0.5)
    raise TimeoutError("the training never reached 'running'")


async def keep_training(browser, base: str, first, until: float, timeout_ms: int) -> dict:
    """Keep one training running until `until` (`first`: the session that started it): poll its panel,
    start another if it ended."""
    polls, running, started = 0, 0, 1
    ctx, page = first
    try:
        while time.monotonic() < until:
            await asyncio.sleep(2)
            try:
                text = await page.locator('[data-testid="stMain"]').inner_text(timeout=timeout_ms)
            except Exception:  # noqa: BLE001 - a slow poll is not a stopped training: poll again
                continue
            polls += 1
            if re.search(r"· running", text):
                running += 1
            elif time.monotonic() < until - 5:
                await ctx.close()
                ctx, page = await start_training(browser, base, timeout_ms)
                started += 1
    finally:
        # Stop the training before the next phase: an idle phase must be idle (a full-MNIST training
        # would otherwise run on for minutes after its session closed).
        stopped = False
        try:
            stop = page.get_by_role("button", name="Stop")
            if await stop.count():
                await stop.first.click(timeout=timeout_ms)
                await page.locator('[data-testid="stMain"]').get_by_text("Stopped before the end").wait_for(
                    timeout=timeout_ms)
                stopped = True
        except Exception:  # noqa: BLE001 - recorded below: the next phase would not be idle
            pass
        await ctx.close()
    return {"polls": polls, "running_fraction": round(running / max(polls, 1), 3), "trainings_started": started,
            "stopped_at_the_end": stopped}


def stats(xs: list[float]) -> dict:
    if not xs:
        return {"n": 0}
    xs = sorted(xs)
    q = lambda f: xs[min(len(xs) - 1, int(round(f * (len(xs) - 1))))]  # noqa: E731
    return {"n": len(xs), "p50_s": round(statistics.median(xs), 4), "p95_s": round(q(0.95), 4), "max_s": round(xs[-1], 4)}


async def phase(browser, base: str, n: int, train: bool, args) -> dict:
    timeout_ms = int(args.action_timeout * 1000)
    # The training is running (its worker started) before the sessions open and the clock starts.
    first, trainer_error = None, None
    if train:
        try:
            first = await start_training(browser, base, args.page_timeout * 1000)
        except Exception as e:  # noqa: BLE001 - recorded: this phase then measures without a training
            trainer_error = f"{type(e).__name__}: {str(e)[:300]}"
    opened = await asyncio.gather(*[open_session(browser, base, i, timeout_ms, args.page_timeout * 1000)
                                    for i in range(n)])
    until = min(time.monotonic() + args.seconds, args._deadline)
    trainer = (asyncio.create_task(keep_training(browser, base, first, until, args.page_timeout * 1000))
               if first is not None else None)
    runs = await asyncio.gather(*[act(s, until, timeout_ms) for s in opened])
    out = {"sessions": n, "training": train, "pages": {}}
    for path in ("/generate", "/latent_space"):
        mine = [r for r in runs if r["page"] == path]
        if mine:
            out["pages"][path] = {**stats([x for r in mine for x in r["latencies"]]), "sessions": len(mine),
                                  "timeouts": sum(r["timeouts"] for r in mine), "errors": sum(r["errors"] for r in mine)}
    failed = [r["open_error"] for r in runs if "open_error" in r]
    if failed:
        out["open_errors"] = failed[:5]
    problems = [p for r in runs for p in r.get("first_problems", [])[:2]]
    if problems:  # what the time-outs and errors were, so a failing level can be read, not guessed
        out["problems"] = problems[:10]
    if trainer is not None:
        out["trainer"] = await trainer
    elif train:
        out["trainer"] = {"polls": 0, "running_fraction": 0.0, "trainings_started": 0, "error": trainer_error}
    return out


async def run(args) -> dict:
    from playwright.async_api import async_playwright

    args._deadline = time.monotonic() + args.deadline
    tmp = Path(tempfile.mkdtemp(prefix="manifold-load-"))
    server, result = None, {"levels": args.sessions, "seconds": args.seconds, "cpus": os.cpu_count()}
    try:
        models = tmp / "models"
        shutil.copytree(ROOT / "models", models, ignore=shutil.ignore_patterns(".*"))
        t0 = time.perf_counter()
        log = tmp / "server.log"
        server = StreamlitServer(env={"MANIFOLD_LAB_MODELS": str(models)}, log=log, launcher="ui.serve",
                                 port=args.port or None)
        server.start(args.start_timeout)
        base = server.url
        result["server_start_s"] = round(time.perf_counter() - t0, 2)
        from ui.warm import WARM_DONE

        while WARM_DONE not in log.read_text(errors="replace") and time.perf_counter() - t0 < args.start_timeout:
            await asyncio.sleep(0.5)
        result["warm_s"] = round(time.perf_counter() - t0, 2)
        result["load_avg_before"] = os.getloadavg()
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            try:
                result["phases"] = []
                for n in args.sessions:
                    for train in args.conditions:
                        if time.monotonic() > args._deadline:
                            break
                        ph = await phase(browser, base, n, train, args)
                        result["phases"].append(ph)
                        g = ph["pages"].get("/generate", {})
                        l_ = ph["pages"].get("/latent_space", {})
                        print(f"{n:3d} sessions {'+ training' if train else 'idle      '}: generate p50 {g.get('p50_s')} "
                              f"p95 {g.get('p95_s')} (n {g.get('n')}), latent p50 {l_.get('p50_s')} p95 {l_.get('p95_s')} "
                              f"(n {l_.get('n')}); timeouts {g.get('timeouts', 0) + l_.get('timeouts', 0)}, errors "
                              f"{g.get('errors', 0) + l_.get('errors', 0)}"
                              + (f"; training running {ph['trainer']['running_fraction']:.0%} of polls" if train else ""),
                              flush=True)
            finally:
                await browser.close()
        result["load_avg_after"] = os.getloadavg()
        result.update(summarise(result["phases"]))
        return result
    finally:
        if server is not None:
            server.stop(30)  # by its PID: never by name, other servers may run on this machine
        shutil.rmtree(tmp, ignore_errors=True)


def summarise(phases: list[dict]) -> dict:
    out = {"p95_passes_1s_at": {}, "errors": sum(v.get("errors", 0) + v.get("timeouts", 0)
                                                   for ph in phases for v in ph["pages"].values())}
    for train in (False, True):
        for path in ("/generate", "/latent_space"):
            levels = [ph["sessions"] for ph in phases if ph["training"] == train
                      and ph["pages"].get(path, {}).get("p95_s", 0) > 1.0]
            out["p95_passes_1s_at"][f"{path} {'training' if train else 'idle'}"] = min(levels) if levels else None
    one = {ph["training"]: ph["pages"].get("/generate", {}) for ph in phases if ph["sessions"] == 1}
    if one.get(False, {}).get("n") and one.get(True, {}).get("n"):
        ratio = one[True]["p50_s"] / one[False]["p50_s"]
        running = next((ph["trainer"]["running_fraction"] for ph in phases if ph["sessions"] == 1 and ph["training"]), 0)
        out["goal"] = {"text": "Generate's slider median with one session while another trains, within 1.5x of idle",
                       "idle_p50_s": one[False]["p50_s"], "training_p50_s": one[True]["p50_s"],
                       "ratio": round(ratio, 2), "target": 1.5, "training_running_fraction": running,
                       # A phase whose training was not running measured nothing about training.
                       "result": ("NOT MEASURED (training running only {:.0%} of the phase)".format(running)
                                  if running < 0.9 else "PASS" if ratio <= 1.5 else "FAIL")}
    return out


def render_markdown(r: dict) -> str:
    lines = [f"# Load: {r['cpus']} CPUs, {r['seconds']} s per phase", "",
             f"Server start {r.get('server_start_s')} s (launcher), caches warm {r.get('warm_s')} s after launch; load "
             f"average {r['load_avg_before'][0]:.1f} before, {r['load_avg_after'][0]:.1f} after.", "",
             "| sessions | training | page | sessions on it | actions | p50 (s) | p95 (s) | max (s) | time-outs | errors |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for ph in r["phases"]:
        for path, v in ph["pages"].items():
            lines.append(f"| {ph['sessions']} | {'yes' if ph['training'] else 'no'} | {path} | {v['sessions']} | "
                         f"{v.get('n', 0)} | {v.get('p50_s', '—')} | {v.get('p95_s', '—')} | {v.get('max_s', '—')} | "
                         f"{v['timeouts']} | {v['errors']} |")
    lines += ["", "p95 passes 1 s at: " + ", ".join(f"{k}: {v if v is not None else 'not within the levels run'}"
                                                  for k, v in r["p95_passes_1s_at"].items()) + "."]
    trains = [ph["trainer"] for ph in r["phases"] if ph.get("trainer")]
    if trains:
        lines.append("Training running during the training phases: "
                     + ", ".join(f"{t['running_fraction']:.0%}" for t in trains) + " of polls.")
    if "goal" in r:
        g = r["goal"]
        lines.append(f"Goal: {g['text']}: {g['training_p50_s']} s vs {g['idle_p50_s']} s = {g['ratio']}x — **{g['result']}**.")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=lambda s: [int(x) for x in s.split(",")], default=[1, 5, 10, 20],
                    help=f"session counts, at most {MAX_SESSIONS} (default 1,5,10,20)")
    ap.add_argument("--seconds", type=float, default=60.0, help="seconds per phase (default 60)")
    ap.add_argument("--no-train", dest="train", action="store_false", help="only the phases without a training")
    ap.add_argument("--action-timeout", type=float, default=30.0, help="seconds one action may take (default 30)")
    ap.add_argument("--page-timeout", type=int, default=180, help="seconds a page may take to first render")
    ap.add_argument("--start-timeout", type=float, default=600.0, help="seconds the server and its warm-up may take")
    ap.add_argument("--deadline", type=float, default=1800.0, help="no new phases or actions after this many seconds")
    ap.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "load_results",
                    help="writes OUT.json and OUT.md (default benchmarks/load_results)")
    args = ap.parse_args(argv)
    if any(n < 1 or n > MAX_SESSIONS for n in args.sessions):
        ap.error(f"session counts must be between 1 and {MAX_SESSIONS}")
    args.conditions = [False, True] if args.train else [False]
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: sudo apt-get install chromium", file=sys.stderr)
        return 2
    result = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    md = render_markdown(result)
    args.out.with_suffix(".md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
