"""The PCA vs AE page renders its charts and tables; a pick in one chart is drawn in all of them."""
import json
from pathlib import Path

import pytest

from page_shim import plotly_array, vega_charts
from ui.widgets import selected_ids

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _page(dataset="mnist-5k", **state):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["dataset_name"] = dataset  # before the first run: only that run draws the sidebar
    at.run()
    for k, v in state.items():
        at.session_state[k] = v
    return at.switch_page("pages/pca_vs_ae.py").run()


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _titles(at) -> list[str]:
    return [(s.get("layout", {}).get("title") or {}).get("text", "") for s in _charts(at)]


@pytest.mark.slow
def test_page_renders_scatters_table_and_curve():
    at = _page()
    assert not at.exception
    titles = _titles(at)
    assert any(t.startswith("PCA<br>") for t in titles)
    # Shipped 2-D models appear beside PCA (or a note says why one is absent).
    for name in ("linear-2d", "ae-2d", "vae-2d", "umap-ae-2d"):
        assert any(f"({name})" in t for t in titles) or any(name in c.value for c in at.caption)
    table = at.dataframe[0].value
    pca = table[table["method"] == "PCA"].iloc[0]
    assert 0 < pca["5-NN acc."] <= 1 and 0 < pca["trustworthiness (k=5)"] <= 1 and pca["recon. error (sq. err./image)"] > 0
    assert len(at.get("plotly_chart")) == 5  # PCA and four 2-D models: the other tabs' charts wait
    assert not at.metric and "pca_manifold" not in [r.key for r in at.radio]  # the angles, the swiss roll
    assert [t.key for t in at.toggle] == ["pca_nonlinear"]  # the slow non-linear methods wait to be asked

    at.session_state["pca_tab"] = "Error against dimension"  # what a click on the tab does
    at.run()
    assert not at.exception
    assert not at.get("plotly_chart")
    curve = vega_charts(at)  # PCA's curve and a point per stored model, each from its model card
    assert len(curve) == 1
    pca = [r for r in curve[0]["rows"] if r["what"] == "PCA"]
    assert len(pca) >= 10 and all(a["sse"] > b["sse"] for a, b in zip(pca, pca[1:]))  # more dims, less error
    models = {r["what"]: r for r in curve[0]["rows"] if r["what"] != "PCA"}
    assert models["ae-16d (ae)"]["dims"] == 16 and models["ae-16d (ae)"]["sse"] < models["ae-16d (ae)"]["pca_sse"]
    assert any("principal angle" in m.label for m in at.metric)


@pytest.mark.slow
def test_a_pick_is_highlighted_in_every_chart():
    at = _page(pca_highlight=[0, 5, 7], pca_highlight_ds="mnist-5k", pca_highlight_from="PCA")
    assert not at.exception
    scatters = [s for s in _charts(at) if "5-NN" in ((s.get("layout", {}).get("title") or {}).get("text", ""))]
    assert scatters
    for spec in scatters:
        picked = [t for t in spec["data"] if t.get("name", "").startswith("picked")]
        assert len(picked) == 1 and sorted(plotly_array(picked[0]["customdata"]).tolist()) == [0, 5, 7]
    assert any("3 points picked" in c.value for c in at.caption)


def test_selected_ids_reads_customdata():
    state = {"selection": {"points": [{"customdata": 4}, {"customdata": [9]}, {"customdata": 4}, {"x": 1}],
                           "point_indices": [0, 1, 2]}}
    assert selected_ids(state) == [4, 9]
    assert selected_ids(None) == [] and selected_ids({"selection": {"points": []}}) == []


@pytest.mark.slow
def test_swiss_roll_panel_on_request():
    at = _page(pca_tab="Swiss roll and S-curve")
    assert not at.exception
    table = at.dataframe[-1].value
    scores = dict(zip(table["method"], table["unrolling |Spearman ρ| with t"]))
    assert set(scores) == {"PCA", "Isomap", "LLE", "AE"}
    assert scores["Isomap"] > scores["PCA"]


@pytest.mark.slow
def test_nonlinear_methods_on_request():
    at = _page("digits")  # the small dataset keeps t-SNE to seconds
    at.toggle(key="pca_nonlinear").set_value(True).run()
    assert not at.exception
    methods = list(at.dataframe[0].value["method"])
    assert {"PCA", "Isomap", "LLE", "t-SNE"} <= set(methods)
