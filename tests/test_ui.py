"""ui.widgets helpers that need no running app."""
from ui import widgets


def test_the_plotly_bundle_of_the_installed_streamlit_is_found():
    # prefetch_plotly() loads this file by name; None would quietly turn the prefetch off.
    name = widgets.plotly_bundle()
    assert name is not None and name.startswith("PlotlyChart.") and name.endswith(".js")
    assert "%s" in widgets._PLOTLY_PREFETCH_JS and (widgets._PLOTLY_PREFETCH_JS % name).count(name) == 1
