"""ui/path.py, the path through the argument: it covers app.py's pages, each page once and in one piece;
every page on it opens with intro() and ends with next_link(); the next links walk the path from its
first page to its last; Home draws every step with a picture and a finite number (AppTest)."""
import ast
import math
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import home_cache, path

ROOT = Path(__file__).resolve().parents[1]


def _nav_pages() -> list[str]:
    """The files of app.py's st.Page(...) calls, in order."""
    tree = ast.parse((ROOT / "app.py").read_text())
    return [n.args[0].value for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "Page" and n.args
            and isinstance(n.args[0], ast.Constant)]


def test_the_path_covers_every_page_of_the_navigation_once():
    nav = _nav_pages()
    assert path.HOME in nav, nav
    on_path = [s.page for s in path.STEPS]
    assert set(on_path) == set(nav) - {path.HOME}, (sorted(set(nav) - {path.HOME} - set(on_path)),
                                                    sorted(set(on_path) - set(nav)))
    # A page's steps are consecutive, so walking the path visits each page exactly once.
    visits = [p for k, p in enumerate(on_path) if k == 0 or on_path[k - 1] != p]
    assert len(visits) == len(set(visits)), visits
    assert path.pages() == visits
    assert 6 <= len(path.STEPS) <= 10


def test_every_step_names_a_picture_and_a_number_and_says_something():
    for s in path.STEPS:
        assert callable(getattr(home_cache, s.picture, None)), s.picture
        assert callable(getattr(home_cache, s.number, None)), s.number
        assert s.picture.startswith("picture_") and s.number.startswith("number_")
        assert s.title and s.claim.endswith(".") and s.shows, s


def test_every_page_on_the_path_opens_with_intro_and_ends_with_next_link():
    for page in path.pages():
        src = (ROOT / page).read_text()
        tree = ast.parse(src)
        calls = [n for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
        names = [ast.unparse(c.value) for c in calls]
        assert "path.intro(__file__)" in names, f"{page} does not call path.intro(__file__) at module level"
        assert names[-1] == "path.next_link(__file__)", f"{page} does not end with path.next_link(__file__)"
        # intro comes right after the title, before anything else the page draws.
        title = next(k for k, n in enumerate(names) if n.startswith("st.title("))
        assert names[title + 1] == "path.intro(__file__)", f"{page}: intro is not the line after st.title"


def test_next_links_walk_from_the_first_page_to_the_last():
    page, walked = path.STEPS[0].page, []
    while page is not None:
        walked.append(page)
        nxt = path.next_page(page)
        if nxt is not None:
            assert nxt[0] == path.steps_of(page)[-1][0] + 1  # never skips a step
        page = nxt[1].page if nxt else None
    assert walked == path.pages()
    assert path.next_page(path.STEPS[-1].page) is None
    assert path.steps_of(path.HOME) == [] and path.next_page(path.HOME) is None


def _home() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_home_draws_every_step_with_a_finite_number_and_a_picture():
    at = _home()
    assert "Manifold Lab" in at.title[0].value
    steps = [at.get_by_key(f"path_step_{i}") for i in range(1, len(path.STEPS) + 1)]
    for i, box in enumerate(steps, 1):
        step = path.STEPS[i - 1]
        metrics = box.get("metric")
        assert len(metrics) == 1, f"step {i} ({step.title}): {len(metrics)} numbers: {[m.value for m in metrics]}"
        value = metrics[0].value
        assert value.strip() and not re.search(r"\bnan\b|\binf\b", value, re.I), f"step {i}: {value!r}"
        assert re.search(r"\d", value), f"step {i}: no figure in {value!r}"
        text = " ".join(m.value for m in box.get("markdown"))
        assert step.claim in text, f"step {i}: the claim is not shown"
        assert not re.search(r"\bnan\b", text, re.I), f"step {i} says NaN: {text}"
        assert re.search(r"badge\[", text), f"step {i} does not say whether its claim holds here"
        assert len(box.get("image")) >= 1, f"step {i} ({step.title}) shows no picture"
        links = [pl.proto.page for pl in box.get("page_link")]
        assert links == [Path(step.page).stem], f"step {i} links to {links}, not to {step.page}"
    assert not at.get("plotly_chart"), "Home draws a Plotly chart"


def test_home_numbers_are_the_pages_figures():
    # Step 4's number is the model card's, as the sidebar shows it; step 3's, the PCA vs AE page's table.
    at = _home()
    meta = at.session_state["selection"].meta
    ratio = meta["metrics"]["test"]["sse"] / meta["metrics"]["pca"]["sse"]
    assert at.get_by_key("path_step_4").get("metric")[0].value == f"{ratio:.2f}×"
    assert math.isfinite(ratio)
