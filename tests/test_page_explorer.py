"""The Latent space page's explorer (colour by, selection panel, jump, link parameters) and the sidebar's
link, run by AppTest behind the shared sidebar (tests/page_shim.py)."""
import numpy as np
import pytest

from page_shim import ok, page_app, plotly_array
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
        fig = at.get("plotly_chart")[0].proto.spec
        assert '"colorbar"' in fig, key
        assert _q(at, "colour") == key
    at.selectbox(key="ls_colour").set_value("class").run()
    assert "colour" not in at.query_params  # the default is left out of the link


def test_class_filter_draws_only_those_classes():
    at = _app()
    at.multiselect(key="ls_classes_mnist-5k").set_value([3, 8]).run()
    ok(at)
    import json

    data = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    # The image points' traces: customdata [kind, index] with kind 0 (test) or 1 (train); the clickable grid is 2,
    # the markers 3.
    names = [t["name"] for t in data if "customdata" in t and plotly_array(t["customdata"])[0][0] in (0, 1)]
    assert names == ["3", "8"], names
    assert {t["type"] for t in data} == {"scatter"}  # 1,000 test points: SVG, not WebGL


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


def test_region_points_reads_box_and_lasso_events_and_ignores_clicks():
    pts = [{"customdata": [0, 4]}, {"customdata": {"0": 1, "1": 9}}, {"customdata": [2, 100]}, {"customdata": [0, 4]}]
    r = explorer.region_points({"selection": {"points": pts, "lasso": [{"x": [0], "y": [0]}], "box": []}})
    assert r["test"].tolist() == [4] and r["train"].tolist() == [9]  # the invisible decode grid (kind 2) is not an image
    assert explorer.region_points({"selection": {"points": pts[:1], "box": [], "lasso": []}}) is None


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
