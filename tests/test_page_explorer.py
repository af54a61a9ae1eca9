"""The Latent space page's explorer (colour by, selection panel, jump, link parameters) and the sidebar's
link, run by AppTest behind the shared sidebar (tests/page_shim.py)."""
import numpy as np
import pytest

from page_shim import latent_map, ok, page_app
from ui import explorer, share


def _app(**params):
    at = page_app("latent_space", 200)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def _md(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _q(at, key: str):
    """A link parameter as one string (AppTest keeps the ones a test set as lists)."""
    v = at.query_params.get(key)
    return v[-1] if isinstance(v, list) else v


def _notices(at) -> list[str]:
    return [i.value for i in at.info if "The link asks for" in i.value]


def test_a_link_opens_the_picked_point_and_the_colouring():
    at = _app(pick="test:7", colour="error")
    ok(at)
    assert "Picked: test image #7" in _md(at)
    assert at.selectbox(key="ls_colour").value == "error"
    assert not _notices(at)
    assert _q(at, "pick") == "test:7" and _q(at, "colour") == "error"


@pytest.mark.parametrize("param, value", [("pick", "test:nan"), ("pick", "test:1000000"), ("pick", "valid:3"),
                                          ("colour", "z9"), ("model", "no-such-model"), ("dataset", "nope")])
def test_a_stale_link_parameter_gives_one_notice_and_the_default(param, value):
    at = _app(**{param: value})
    ok(at)
    notes = _notices(at)
    assert len(notes) == 1 and repr(value) in notes[0], notes
    assert "Picked: test image #0" in _md(at)
    assert at.selectbox(key="ls_colour").value == "class"


def test_a_dataset_that_fails_to_load_is_not_written_into_the_link():
    at = _app(dataset="fashion-mnist")  # not downloaded here: the sidebar falls back to mnist-5k
    ok(at)
    assert "dataset" not in at.query_params, dict(at.query_params)


def test_every_colouring_draws_without_error_and_a_continuous_one_has_a_colour_bar():
    at = _app()
    for key in ("error", "offmanifold", "z1"):
        at.selectbox(key="ls_colour").set_value(key).run()
        ok(at)
        m = latent_map(at)
        points = m["layer"][1]  # the grid, the points, the markers
        colour = points["encoding"]["color"]
        assert colour["field"] == "val" and colour["type"] == "quantitative", colour
        assert colour["scale"]["scheme"] == "viridis" and colour["scale"]["clamp"], colour
        vals = [r["val"] for r in m["layers_rows"][1]]
        lo, hi = colour["scale"]["domain"]
        assert len(vals) == 1000 and lo < hi
        assert np.isclose(lo, np.percentile(vals, 1)) and np.isclose(hi, np.percentile(vals, 99))  # the caption's span
        assert _q(at, "colour") == key
    at.selectbox(key="ls_colour").set_value("class").run()
    assert "colour" not in at.query_params  # the default is left out of the link
    assert latent_map(at)["layer"][1]["encoding"]["color"]["field"] == "cls"


def test_the_map_holds_the_points_the_grid_and_the_markers():
    at = _app()
    m = latent_map(at)
    grid, points, marks = m["layers_rows"]
    assert len(points) == 1000 and {r["kind"] for r in points} == {explorer.KIND_TEST}
    assert sorted(r["idx"] for r in points) == list(range(1000))
    assert len(grid) == explorer.GRID ** 2 and {r["kind"] for r in grid} == {explorer.KIND_GRID}
    assert [r["mark"] for r in marks] == ["picked", "decoded spot"]
    # the grid spans the map's frame, the same as the axes' domains
    xs, ys = [r["x"] for r in grid], [r["y"] for r in grid]
    enc = m["layer"][1]["encoding"]
    assert np.isclose(min(xs), enc["x"]["scale"]["domain"][0]) and np.isclose(max(ys), enc["y"]["scale"]["domain"][1])
    assert {"pick", "box", "zoom"} <= {p["name"] for p in m["params"]}
    assert m["usermeta"]["embedOptions"]["renderer"] == "canvas"
    # the picked point's ring sits on test image 0's point
    p0 = next(r for r in points if r["idx"] == 0)
    assert (marks[0]["x"], marks[0]["y"]) == pytest.approx((p0["x"], p0["y"]))


def test_class_filter_draws_only_those_classes():
    at = _app()
    at.multiselect(key="ls_classes_mnist-5k").set_value([3, 8]).run()
    ok(at)
    points = latent_map(at)["layers_rows"][1]
    assert {r["cls"] for r in points} == {"3", "8"}, {r["cls"] for r in points}
    assert 0 < len(points) < 1000


def test_jump_to_an_image_by_its_index_and_a_bad_index():
    at = _app()
    at.text_input(key="ls_jump").input("train:12").run()
    ok(at)
    assert "Picked: train image #12" in _md(at)
    assert _q(at, "pick") == "train:12"
    at.text_input(key="ls_jump").input("99999").run()
    ok(at)
    assert any("out of range" in w.value for w in at.warning)
    assert "Picked: train image #12" in _md(at)


def test_a_region_shows_gallery_counts_mean_and_decoded_mean():
    at = _app()
    at.session_state["ls_region"] = {"test": np.arange(40), "train": np.array([5, 6])}
    at.run()
    ok(at)
    assert any(s.value == "Selection: 42 images" for s in at.subheader)
    caps = [c for im in at.image for c in im.captions]
    assert "mean image of the selection" in caps and "decoder's image of the mean code" in caps
    at.button(key="ls_clear").click().run()
    ok(at)
    assert not any(s.value.startswith("Selection:") for s in at.subheader)


def test_map_events_read_a_box_and_a_click():
    import pandas as pd

    frame = explorer.map_frame(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0], [0.5, 0.2]]),
                               np.array([0, 0, 0, 1]), np.array([4, 7, 9, 12]), ["a", "b", "c", "d"])
    assert isinstance(frame, pd.DataFrame)
    box = explorer.map_box({"selection": {"box": {"x": [1.5, -0.5], "y": [-1, 2]}, "pick": []}})
    assert box == (-0.5, 1.5, -1.0, 2.0)  # ends in either order
    r = explorer.region_points(frame, box)
    assert r["test"].tolist() == [4, 7] and r["train"].tolist() == [12]
    assert explorer.map_box({"selection": {"box": {}}}) is None  # a click clears the box
    assert explorer.map_box(None) is None and explorer.map_box({"selection": None}) is None
    cell = {"kind": 2, "idx": 17, "x": 0.5, "y": -1}
    assert explorer.map_click({"selection": {"pick": [cell]}}) == (2, 17, 0.5, -1.0)
    assert explorer.map_click({"selection": {"pick": {}}}) is None
    assert explorer.map_click({"selection": {"pick": [{"kind": "x"}]}}) is None


def test_map_change_tells_a_new_box_from_a_new_click():
    click = {"kind": 0, "idx": 3, "x": 1.0, "y": 2.0}
    what, value, seen = explorer.map_change({"selection": {"pick": [click]}}, None)
    assert (what, value) == ("click", (0, 3, 1.0, 2.0))
    # a drag: the last click is still in the event, the box is new
    what, value, seen = explorer.map_change({"selection": {"pick": [click], "box": {"x": [0, 1], "y": [0, 1]}}}, seen)
    assert (what, value) == ("box", (0.0, 1.0, 0.0, 1.0))
    # a click on an empty spot: the box is emptied, the pick is the grid cell's
    cell = {"kind": explorer.KIND_GRID, "idx": 40, "x": -1.0, "y": 0.5}
    what, value, seen = explorer.map_change({"selection": {"pick": [cell], "box": {}}}, seen)
    assert (what, value) == ("click", (explorer.KIND_GRID, 40, -1.0, 0.5))
    # the same event again (a rerun that re-sends it) changes nothing
    assert explorer.map_change({"selection": {"pick": [cell], "box": {}}}, seen)[:2] == (None, None)
    assert explorer.map_change(None, seen)[:2] == (None, None)


@pytest.mark.parametrize("text, out", [("test:3", ("test", 3)), ("3", ("test", 3)), ("train:0", ("train", 0))])
def test_parse_pick(text, out):
    assert explorer.parse_pick(text, 10, 5) == out


@pytest.mark.parametrize("text", ["train:5", "test:-1", "x:1", "test:1.5", "test:inf"])
def test_parse_pick_refuses(text):
    with pytest.raises(ValueError):
        explorer.parse_pick(text, 10, 5)


def test_parse_map_and_floats():
    assert explorer.parse_map("coords:3,1", ["pca", "coords"], 4) == ("coords", (3, 1))
    for bad in ("umapx", "coords:1,1", "coords:1,9"):
        with pytest.raises(ValueError):
            explorer.parse_map(bad, ["pca", "coords"], 4)
    assert share.floats("1,-2.5, 3", 3) == [1.0, -2.5, 3.0]
    for bad in ("1,nan", "1,2", "a,b"):
        with pytest.raises(ValueError):
            share.floats(bad, 2 if bad != "1,2" else 3)
    assert share.floats(share.fmt_floats([0.12345, -7.0])) == [0.123, -7.0]
