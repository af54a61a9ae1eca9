"""The Manifold & dimensionality page, run by AppTest with the shipped models (through
tests/page_shim.py: the sidebar, then the page)."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from page_shim import ok as _ok, page_app, through_navigation, vega_charts



def _app() -> AppTest:
    return page_app("manifold", 240)


@pytest.mark.slow
def test_page_runs_through_app_navigation():
    at = through_navigation("manifold", 240)
    assert at.title[0].value.startswith("Manifold")


@pytest.mark.slow
def test_charts_grids_and_detector_table():
    at = _app().run()
    _ok(at)
    # The first tab only: its content runs, the others' do not until they are opened.
    charts = vega_charts(at)
    assert len(charts) == 1  # samples needed: a bar per dimension, on a log axis
    assert [r["samples"] for r in charts[0]["rows"][:3]] == [10, 100, 1000]
    assert '"type": "log"' in json.dumps(charts[0]) and not at.get("plotly_chart")
    assert len(at.image) == 0
    density = at.dataframe[0].value
    assert list(density["samples needed"][:3]) == ["10", "100", "1,000"]
    at.slider(key="mf_per_axis").set_value(3).run()
    _ok(at)
    assert list(at.dataframe[0].value["samples needed"][:3]) == ["3", "9", "27"]
    assert any("3 → 27" in m.value for m in at.markdown)

    for tab in ("2 · Distances concentrate", "3 · Corners take the volume"):
        at.session_state["mf_section"] = tab  # what a click on the tab does
        at.run()
        _ok(at)
        charts = vega_charts(at)
        assert len(charts) == 1 and len(at.dataframe) == 1
        assert len(charts[0]["rows"]) >= 5, charts[0]["rows"]  # a point per dimension
    at.session_state["mf_section"] = "4 · The manifold hypothesis"
    at.run()
    _ok(at)
    charts = vega_charts(at)
    assert len(charts) == 1  # error histograms, and the threshold's dashed rule
    rows = charts[0]["rows"]
    assert {r["images"] for r in rows if "count" in r} >= {"mnist-5k test images", "uniform random pixels"}
    assert all(r["count"] > 0 and r["to"] > r["from"] > 0 for r in rows if "count" in r)
    assert any(r["images"].startswith("off-manifold threshold") for r in rows)
    assert len(at.image) == 2  # random pixels, decoded samples
    summary = at.dataframe[-1].value
    assert list(summary["images"])[:2] == ["mnist-5k test images", "uniform random pixels"]
    assert float(summary["AUROC vs mnist-5k test images"][1]) >= 0.99
    before = [u for im in at.image for u in im.value]
    at.button(key="mf_resample").click().run()
    _ok(at)
    assert [u for im in at.image for u in im.value] != before

    # Back on the first tab, its slider still holds the value set before the switch.
    at.session_state["mf_section"] = "1 · Samples needed"
    at.run()
    _ok(at)
    assert at.slider(key="mf_per_axis").value == 3
    assert list(at.dataframe[0].value["samples needed"][:3]) == ["3", "9", "27"]


def test_a_dataset_without_models_still_shows_the_curse_of_dimensionality():
    at = _app().run()
    at.sidebar.selectbox(key="dataset_name").set_value("digits").run()
    _ok(at)
    assert len(vega_charts(at)) == 1
    at.session_state["mf_section"] = "4 · The manifold hypothesis"
    at.run()
    _ok(at)
    assert any("Pick an image dataset and a model" in i.value for i in at.info)
