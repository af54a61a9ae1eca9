"""The PCA vs AE page renders its maps, tables and curve; a box or click in one map picks the same points in all."""
import math
import re
from pathlib import Path

import numpy as np
import pytest

from page_shim import vega_charts
from ui.widgets import linked_maps, linked_maps_frame, linked_pick

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _page(dataset="mnist-5k", **state):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["dataset_name"] = dataset  # before the first run: only that run draws the sidebar
    at.run()
    for k, v in state.items():
        at.session_state[k] = v
    return at.switch_page("pages/pca_vs_ae.py").run()


def _maps(at) -> dict:
    """The side-by-side maps: the one Vega-Lite chart with a view per map (its spec and data rows)."""
    maps = [c for c in vega_charts(at) if "concat" in c]
    assert len(maps) == 1, [list(c) for c in vega_charts(at)]
    return maps[0]


def _titles(spec: dict) -> list[tuple[str, str]]:
    return [(v["title"]["text"], v["title"].get("subtitle", "")) for v in spec["concat"]]


@pytest.mark.slow
def test_page_renders_maps_table_and_curve():
    at = _page()
    assert not at.exception
    spec = _maps(at)
    titles = _titles(spec)
    assert titles[0][0] == "PCA" and titles[0][1].startswith("5-NN acc. 0.")
    # Shipped 2-D models appear beside PCA (or a note says why one is absent).
    for name in ("linear-2d", "ae-2d", "vae-2d", "umap-ae-2d"):
        assert any(f"({name})" in t for t, _ in titles) or any(name in c.value for c in at.caption)
    assert len(titles) == 5  # PCA and four 2-D models: the other tabs' charts wait
    # every view draws the same 1,000 test points, each map framed on [0, 1], from its own columns
    rows = spec["rows"]
    assert len(rows) == 1000 and sorted(r["id"] for r in rows) == list(range(1000))
    for i, view in enumerate(spec["concat"]):
        assert view["encoding"]["x"]["field"] == f"x_{i}" and view["encoding"]["y"]["field"] == f"y_{i}"
        xs = np.array([r[f"x_{i}"] for r in rows], float)
        inside = ((xs >= 0) & (xs <= 1)).mean()
        assert 0.95 <= inside <= 1, (titles[i], inside)  # robust_range leaves 0.5 % out at each end
    # the box and the clicked points are shared by every view: that is the linking
    params = {p["name"]: p for p in spec["params"]}
    assert params["box"]["select"]["type"] == "interval" and params["pick"]["select"]["fields"] == ["id"]
    assert len(params["box"]["views"]) == len(params["pick"]["views"]) == 5
    table = at.dataframe[0].value
    pca = table[table["method"] == "PCA"].iloc[0]
    assert 0 < pca["5-NN acc."] <= 1 and 0 < pca["trustworthiness (k=5)"] <= 1 and pca["recon. error (sq. err./image)"] > 0
    assert f"{pca['5-NN acc.']:.2f}" in titles[0][1]  # the map's subtitle and the table agree
    assert not at.get("plotly_chart")
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
def test_full_mnist_maps_hold_all_10000_test_points():
    at = _page("mnist")  # more rows than Altair's own 5,000-row limit: Streamlit sends them as Arrow
    assert not at.exception, [e.value for e in at.exception]
    spec = _maps(at)
    assert len(spec["rows"]) == 10_000
    assert [t for t, _ in _titles(spec)][:1] == ["PCA"] and len(spec["concat"]) >= 3  # PCA, mnist-ae-2d, mnist-vae-2d


def _two_maps():
    z0 = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    z1 = z0[::-1].copy()  # the second map puts the points in reverse order
    return linked_maps_frame([z0, z1[:3]], ["A", "B"], np.array([0, 1, 0, 1]), ["zero", "one"])


def test_a_box_in_one_map_picks_those_points_by_that_maps_coordinates():
    maps = _two_maps()
    f = maps.frame
    assert list(f.columns) == ["id", "class", "x_0", "y_0", "x_1", "y_1"]
    assert list(f["class"]) == ["zero", "one", "zero", "one"]
    assert math.isnan(f["x_1"][3])  # map B is shorter (as t-SNE's prefix): its missing point is not drawn
    lo, hi = f["x_0"][1] - 1e-6, f["x_0"][2] + 1e-6  # around points 1 and 2 in map A
    ids, where = linked_pick({"selection": {"box": {"x_0": [hi, lo], "y_0": [lo, hi]}, "pick": []}}, maps)
    assert (ids, where) == ([1, 2], "A")
    # the same box drawn in map B holds other points: B's coordinates are its own
    lo1, hi1 = f["x_1"][1] - 1e-6, f["x_1"][0] + 1e-6  # B puts point 0 highest
    assert linked_pick({"selection": {"box": {"x_1": [lo1, hi1], "y_1": [lo1, hi1]}}}, maps) == ([0, 1], "B")


def test_clicked_points_are_read_by_id_and_bad_events_pick_nothing():
    maps = _two_maps()
    assert linked_pick({"selection": {"box": {}, "pick": [{"id": 3}, {"id": 0}, {"id": 3}]}}, maps) == ([0, 3], None)
    for bad in (None, {}, {"selection": None}, {"selection": {"pick": [{"x": 1}, {"id": "no"}, {"id": 99}]}},
                {"selection": {"box": {"x_7": [0, 1]}}}):
        assert linked_pick(bad, maps) == ([], None), bad


def test_linked_maps_share_one_box_and_one_pick_across_views():
    maps = _two_maps()
    spec = linked_maps(maps, [("A", "a"), ("B", "b")], ["zero", "one"]).to_dict()
    assert [v["encoding"]["x"]["field"] for v in spec["concat"]] == ["x_0", "x_1"]
    assert {p["name"]: len(p["views"]) for p in spec["params"]} == {"box": 2, "pick": 2}
    assert spec["usermeta"]["embedOptions"]["renderer"] == "canvas"


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
    titles = dict(_titles(_maps(at)))
    assert {"PCA", "Isomap", "LLE", "t-SNE", "UMAP"} <= set(titles)  # each has its map
    # each map's held-out scores and measured fit time
    assert re.fullmatch(r"5-NN acc\. 0\.\d\d · trust 0\.\d\d · fit \d+\.\d s", titles["UMAP"]), titles["UMAP"]
