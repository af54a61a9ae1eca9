"""The browser tests' fixtures: one `streamlit run app.py` per test session, Debian's Chromium driven by
Playwright, a fresh tab per test, and a screenshot of every test.

The server, Chromium and the `App` helper (waits for Streamlit's reruns, page checks) are
benchmarks/harness.py's, shared with the browser and load benchmarks; its names are re-exported here
for the tests. Owns: skipping the browser tests with a reason when Chromium or Playwright is missing,
stopping the server also when a test fails, and the screenshots under test-output/browser/ (their
paths are printed for failed tests, so CI's log says where to look).
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from benchmarks.harness import (  # noqa: F401  (re-exported for the tests)
    CHARTS_JS, CHROMIUM, IMAGES_JS, INSTALL_HINT, LAUNCH_ARGS, MAP_CANVAS, MAP_JS, OUT, ROOT, SETTLED_JS,
    START_TIMEOUT_S, TIMEOUT_MS, VIEWPORT, App, StreamlitServer, browser_unavailable, coloured_pixels, free_port,
    launch_chromium, map_empty_spot, map_grid_cells, map_test_point, map_tooltip)


def pytest_collection_modifyitems(config, items):
    reason = browser_unavailable()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if item.get_closest_marker("browser") and here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


# ---------------------------------------------------------------- fixtures

# Under pytest-xdist each worker runs its own server: its logs get the worker's name ("gw0-server.log").
WORKER = f"{os.environ['PYTEST_XDIST_WORKER']}-" if os.environ.get("PYTEST_XDIST_WORKER") else ""


@pytest.fixture(scope="session")
def server(tmp_path_factory, request):
    """The app on a free port, its models a temporary COPY of models/ so that training writes there."""
    models = tmp_path_factory.mktemp("browser") / "models"
    shutil.copytree(ROOT / "models", models)
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / f"{WORKER}server.log"
    log.unlink(missing_ok=True)
    srv = StreamlitServer(ROOT / "app.py", env={"MANIFOLD_LAB_MODELS": str(models)}, log=log)
    srv.models = models
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        if srv.cpu_s is not None and srv.started_at is not None:
            # Wall time against CPU time tells a slow machine from a busy one in CI's log.
            usage = (srv.cpu_s, time.monotonic() - srv.started_at)
            request.config._browser_server_usage = usage
            if hasattr(request.config, "workeroutput"):  # a pytest-xdist worker: tests/conftest.py reports it
                request.config.workeroutput["browser_server_usage"] = usage


@pytest.fixture(scope="session")
def browser():
    reason = browser_unavailable()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        try:
            yield b
        finally:
            b.close()


@contextlib.contextmanager
def open_app(browser, base_url: str):
    """A fresh browser context, so a fresh Streamlit session, on the app at base_url."""
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        yield App(page, base_url)
    finally:
        ctx.close()


@pytest.fixture(scope="session")
def warm_server(browser, server):
    """The server after one visit to the home page, so every test starts from the same state: the
    first script run imports torch and the app's modules (slow), and running app.py once is what
    switches Streamlit from the legacy pages/ folder to st.navigation (see test_deep_link.py)."""
    with open_app(browser, server.url) as a:
        a.open("/", timeout=3 * TIMEOUT_MS)
    return server


@pytest.fixture
def app(browser, warm_server):
    """A fresh browser tab and Streamlit session per test."""
    with open_app(browser, warm_server.url) as a:
        yield a


@pytest.fixture
def fresh_app(browser, server):
    """A tab on a second server that no session has visited yet (slow: a whole server start)."""
    fresh = StreamlitServer(ROOT / "app.py", env={"MANIFOLD_LAB_MODELS": str(server.models)},
                            log=OUT / f"{WORKER}fresh-server.log")
    fresh.log.unlink(missing_ok=True)
    try:
        fresh.start()
        with open_app(browser, fresh.url) as a:
            yield a
    finally:
        fresh.stop()


# ---------------------------------------------------------------- screenshots and failure reports


def screenshot_path(item) -> Path:
    return OUT / (re.sub(r"[^A-Za-z0-9_.-]+", "-", item.name).strip("-") + ".png")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    apps = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, App)]
    if rep.when != "call" or not apps:
        return
    app = apps[0]
    path = screenshot_path(item)
    try:  # taken here, before the fixture closes the tab, so a failure shows the page as it failed
        app.screenshot(path)
        note = f"screenshot: {path}"
    except Exception as e:  # a crashed tab must not hide the test's own failure
        note = f"screenshot failed ({e!r}); intended path {path}"
    if rep.failed:
        extra = [note, f"server logs: {OUT}/*server.log"]
        if app.page_errors:
            extra.append("JavaScript errors in the page:\n  " + "\n  ".join(app.page_errors[:10]))
        rep.sections.append(("browser", "\n".join(extra)))
        # user_properties travel with the report to pytest-xdist's controller: tests/conftest.py lists them
        rep.user_properties.append(("browser_screenshot", str(path)))
