"""ui.widgets helpers that need no running app."""
from ui import widgets


def test_the_plotly_bundle_of_the_installed_streamlit_is_found():
    # prefetch_plotly() loads this file by name; None would quietly turn the prefetch off.
    name = widgets.plotly_bundle()
    assert name is not None and name.startswith("PlotlyChart.") and name.endswith(".js")
    assert "%s" in widgets._PLOTLY_PREFETCH_JS and (widgets._PLOTLY_PREFETCH_JS % name).count(name) == 1


def test_every_page_reads_the_selection_at_its_top_level():
    # widgets.selection() is what switches a fresh server from Streamlit's legacy `pages/` mode to app.py's
    # navigation when a deep link is its first request (tests/browser/test_deep_link.py). A page that reads it
    # only inside a function (a lazy tab) kept the legacy sidebar: /manifold did, until its top level called it.
    import ast
    from pathlib import Path

    calls = {"selection", "require"}
    for page in sorted((Path(__file__).resolve().parents[1] / "pages").glob("*.py")):
        top = [n for n in ast.parse(page.read_text()).body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        names = {c.func.id if isinstance(c.func, ast.Name) else getattr(c.func, "attr", "")
                 for n in top for c in ast.walk(n) if isinstance(c, ast.Call)}
        assert names & calls, f"{page.name} never calls selection() or require() outside a function"
