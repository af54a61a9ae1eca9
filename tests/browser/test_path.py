"""The path through the argument, in Chromium: Home shows every step with a real picture and a measured
number (no empty image, no NaN, no Plotly), and the "next" links walk from the first step's page to the
last and back to Home, each page loading without an exception and saying which step it explores."""
import re

import pytest

from ui import path

pytestmark = pytest.mark.browser

N = len(path.STEPS)
# True once the URL is the page's and the page's intro line names its step(s).
ON_STEP_JS = """
([url, text]) => location.pathname.replace(/\\/$/, '').endsWith(url)
  && [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stAlert"]')]
       .some((e) => e.innerText.includes(text))
"""


def _url(page: str) -> str:
    return "" if page == path.HOME else "/" + page.split("/")[-1][:-3]


def _intro_text(page: str) -> str:
    n = [i for i, _ in path.steps_of(page)]
    return (f"Step {n[0]}" if len(n) == 1 else f"Steps {n[0]}–{n[-1]}") + f" of {N} on the path"


def _follow(app, link, page: str) -> None:
    """Click `link` and wait until `page` is shown with its intro line (a clear failure if it never is)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        app.act(link.click, ON_STEP_JS, [_url(page), _intro_text(page)])
    except PlaywrightTimeout:
        app.assert_healthy()
        raise AssertionError(f"after the link to {page}: URL {app.page.url}, and no intro line "
                             f"{_intro_text(page)!r} (does {page} call path.intro(__file__)?)") from None


def test_home_shows_every_step_with_a_picture_and_a_number(app):
    app.open("/")
    app.assert_healthy()
    assert "Manifold Lab" in app.main.locator("h1").first.inner_text()
    for i, step in enumerate(path.STEPS, 1):
        box = app.main.locator(f".st-key-path_step_{i}")
        assert box.count() == 1, f"step {i} is not on Home"
        text = box.inner_text()
        assert step.title in text and step.claim[:60] in text, f"step {i}: {text[:300]!r}"
        imgs = app.images(box)
        real = [im for im in imgs if im["w"] > 20 and im["h"] > 20 and (im["range"] or 0) > 10]
        assert real and len(real) == len(imgs), f"step {i} ({step.title}): images {imgs}"
        values = box.locator('[data-testid="stMetricValue"]').all_inner_texts()
        assert len(values) == 1 and re.search(r"\d", values[0]), f"step {i}: numbers {values}"
        assert not re.search(r"\b(nan|inf)\b", text, re.I), f"step {i} shows NaN or inf: {text!r}"
        hrefs = box.locator('[data-testid="stPageLink"] a').evaluate_all("(as) => as.map((a) => a.href)")
        assert len(hrefs) == 1 and hrefs[0].rstrip("/").endswith(_url(step.page)), f"step {i} links to {hrefs}"
    assert app.main.locator(".js-plotly-plot, [data-testid='stPlotlyChart']").count() == 0, "Home draws a chart"
    # The toolbar shows no "Deploy" (client.toolbarMode in .streamlit/config.toml).
    assert app.page.locator('[data-testid="stAppDeployButton"]').count() == 0
    assert not app.page_errors, app.page_errors


def test_next_links_walk_the_path_from_the_first_step_to_the_last(app):
    app.open("/")
    first = path.STEPS[0].page
    link = app.main.locator(".st-key-path_step_1 [data-testid='stPageLink'] a")
    _follow(app, link, first)
    walked = []
    for page in path.pages():
        walked.append(page)
        app.assert_healthy()
        assert app.page.evaluate(ON_STEP_JS, [_url(page), _intro_text(page)]), f"{page}: not on its step"
        nxt = app.main.locator('[data-testid="stPageLink"] a').filter(
            has_text=re.compile(r"Next: step|The path ends here"))
        assert nxt.count() == 1, f"{page} has {nxt.count()} next links (does it end with path.next_link(__file__)?)"
        following = path.next_page(page)
        if following is None:
            assert "The path ends here" in nxt.inner_text()
            app.act(nxt.click, "() => location.pathname.replace(/\\/$/, '') === ''"
                    " && !!document.querySelector('.st-key-path_step_1')")
        else:
            i, step = following
            assert f"step {i} of {N}" in nxt.inner_text() and step.title in nxt.inner_text(), nxt.inner_text()
            _follow(app, nxt, step.page)
    assert walked == path.pages()
    app.assert_healthy()
    assert not app.page_errors, app.page_errors
