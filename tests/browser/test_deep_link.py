"""A page opened by its URL as the first visit after the server starts (a bookmark, or a reload after
a restart or deploy) must render like any other visit.

Streamlit decides per server process whether the app uses the legacy `pages/` folder: until some
session has run app.py (whose st.navigation call switches that off), a request for /train next to a
`pages/` folder runs pages/train.py on its own, without app.py's sidebar. So this test needs a server
that no session has visited yet: its own (the fresh_app fixture), not the shared one.
"""
import pytest

pytestmark = pytest.mark.browser


def test_first_visit_by_deep_link(fresh_app):
    app = fresh_app
    app.open("/train", timeout=180_000)  # the first run imports torch and the app's modules
    app.assert_healthy()
    assert "Train a model" in app.main.locator("h1").first.inner_text()
    nav = app.sidebar.locator('[data-testid="stSidebarNav"]')
    assert "Latent space" in nav.inner_text(), f"the sidebar is not app.py's navigation: {nav.inner_text()!r}"
