"""The Latent space page, run by AppTest with the shipped models.

Most tests run the sidebar and then the page through tests/page_shim.py (it says why); one
still goes through app.py's navigation.
"""
import io
import time

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from page_shim import ROOT, image_url as _image_url, latent_map as _map, ok as _ok, page_app, through_navigation



def _app() -> AppTest:
    return page_app("latent_space", 120)


def _md(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_page_runs_through_app_navigation():
    at = through_navigation("latent_space", 120)
    assert at.title[0].value == "Latent space"
    assert _map(at)


def test_2d_model_shows_map_pick_neighbours_interpolation_and_upload():
    at = _app().run()
    _ok(at)
    assert at.sidebar.selectbox(key="model_name").value == "ae-2d"
    t = time.perf_counter()
    at.run()  # a rerun with warm caches: what a click costs
    rerun_s = time.perf_counter() - t
    assert rerun_s < 10, rerun_s  # generous: two shared cores; measured ~0.3 s
    assert _map(at)
    assert not [r for r in at.radio if r.key == "ls_method"]  # a 2-D latent is drawn as is (no projection choice)
    spots = [n for n in at.number_input if n.key.startswith("ls_spot_")]
    assert len(spots) == 2
    assert at.checkbox(key="ls_train") is not None
    assert at.selectbox(key="ls_to").value == "previous click"
    assert at.file_uploader(key="ls_upload") is not None
    md = _md(at)
    assert "Picked: test image #0" in md
    assert md.count("share its label") == 2
    for cap in ("image", "reconstruction", "decoder output at"):
        _image_url(at, cap)
    assert any("Measured over all 1000 test images" in c.value for c in at.caption)


def test_decoding_a_spot_follows_the_number_inputs():
    at = _app().run()
    spot = [n for n in at.number_input if n.key.startswith("ls_spot_")][0]
    before = _image_url(at, "decoder output at")
    v0 = spot.value
    spot.set_value(v0 + 3.0).run()
    _ok(at)
    after = _image_url(at, "decoder output at")
    assert after != before
    [n for n in at.number_input if n.key.startswith("ls_spot_")][0].set_value(v0).run()
    assert _image_url(at, "decoder output at") == before  # decoding is deterministic


def test_a_picked_point_and_the_previous_click_drive_the_panels():
    at = _app().run()
    first = _image_url(at, "image")
    at.session_state["ls_pick"] = ("test", 7)
    at.session_state["ls_prev"] = ("test", 3)
    at.run()
    _ok(at)
    assert "Picked: test image #7" in _md(at)
    assert _image_url(at, "image") != first
    assert not any("No earlier click" in c.value for c in at.caption)
    at.session_state["ls_pick"] = ("test", 10**6)  # stale index (e.g. another dataset): falls back, no crash
    at.run()
    _ok(at)
    assert "Picked: test image #0" in _md(at)


def test_16d_model_offers_projections():
    at = _app().run()
    at.sidebar.selectbox(key="model_name").set_value("ae-16d").run()
    _ok(at)
    assert at.session_state["selection"].model_name == "ae-16d"
    radio = at.radio(key="ls_method")
    assert radio.value == "PCA"
    assert any(n.label.startswith("PC1") for n in at.number_input)
    radio.set_value("Two coordinates").run()
    _ok(at)
    assert at.selectbox(key="ls_ci").value != at.selectbox(key="ls_cj").value
    at.checkbox(key="ls_train").check().run()
    _ok(at)
    assert "Picked: test image #0" in _md(at)


@pytest.mark.slow
def test_tsne_map_has_no_inverse_but_works():
    at = _app().run()
    at.sidebar.selectbox(key="model_name").set_value("ae-16d").run()
    at.radio(key="ls_method").set_value("t-SNE").run()
    _ok(at)
    assert any("t-SNE map has no inverse" in c.value for c in at.caption)
    assert not [n for n in at.number_input if n.key.startswith("ls_spot_")]
    m = _map(at)
    # no clickable grid (a spot between points is no code): the points, then the picked ring; t-SNE's axes
    assert [len(rows) for rows in m["layers_rows"]] == [1000, 1], [len(rows) for rows in m["layers_rows"]]
    assert [m["layer"][0]["encoding"][a]["title"] for a in "xy"] == ["t-SNE 1", "t-SNE 2"]


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_upload_is_shown_and_bad_files_get_a_message():
    at = _app().run()
    paper = np.full((120, 90), 255, np.uint8)
    paper[20:100, 40:52] = 0  # a dark "1" on white paper
    at.file_uploader(key="ls_upload").set_value(("one.png", _png(paper), "image/png")).run()
    _ok(at)
    assert not at.error
    seen = _image_url(at, "what the model sees")
    _image_url(at, "its reconstruction")
    assert any(m.label == "PSNR" for m in at.metric)
    at.file_uploader(key="ls_upload").set_value(("broken.png", b"this is not a picture", "image/png")).run()
    _ok(at)
    assert at.error and at.error[0].value.startswith("Cannot use this file:")
    assert _map(at)  # the page goes on
    assert seen not in [u for im in at.image for u in im.value]


def test_no_model_gives_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("MANIFOLD_LAB_MODELS", str(tmp_path))
    at = _app().run()
    _ok(at)
    assert any("No model for" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")


def test_point_datasets_give_a_clear_message():
    src = f"""
import runpy
import streamlit as st
from ae_core import data
from ui.cache import models_root
from ui.sidebar import Selection
st.session_state["selection"] = Selection(data.load_dataset("swiss-roll"), None, None, {{}}, models_root())
runpy.run_path({str(ROOT / "pages" / "latent_space.py")!r}, run_name="__main__")
"""
    at = AppTest.from_string(src, default_timeout=120).run()
    _ok(at)
    assert any("point cloud" in i.value for i in at.info)
