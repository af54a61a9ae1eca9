"""The Generate & traverse page, run by AppTest with the shipped models.

Most tests run the sidebar and then the page through tests/page_shim.py (it says why).
"""

import numpy as np
from streamlit.testing.v1 import AppTest

from page_shim import image_url as _image_url, ok as _ok, page_app, through_navigation

DECODED = "the decoder's image of this code"


def _app() -> AppTest:
    return page_app("generate", 120)


def _latent_sliders(at: AppTest, model: str):
    return [s for s in at.slider if s.key.startswith(f"gen_{model}_z")]


def test_page_runs_through_app_navigation():
    at = through_navigation("generate", 120)
    assert at.title[0].value == "Generate & traverse"


def test_2d_model_sliders_move_the_decoded_image():
    at = _app().run()
    _ok(at)
    sliders = _latent_sliders(at, "ae-2d")
    assert len(sliders) == 2
    assert all(s.label.startswith("z") for s in sliders)
    assert at.button(key="gen_ae-2d_reset") is not None and at.button(key="gen_ae-2d_random") is not None
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 2
    assert any(c.startswith("→ z0") for im in at.image for c in im.captions)  # the 15x15 manifold map
    before = _image_url(at, DECODED)
    s = sliders[0]
    v0, hi = s.value, s.max
    s.set_value(float(hi)).run()
    _ok(at)
    moved = _image_url(at, DECODED)
    assert moved != before
    _latent_sliders(at, "ae-2d")[0].set_value(v0).run()
    assert _image_url(at, DECODED) == before  # same code, same image


def test_random_and_reset_buttons_set_the_sliders():
    at = _app().run()
    mean = [s.value for s in _latent_sliders(at, "ae-2d")]
    before = _image_url(at, DECODED)
    at.button(key="gen_ae-2d_random").click().run()
    _ok(at)
    rand = [s.value for s in _latent_sliders(at, "ae-2d")]
    assert not np.allclose(rand, mean)
    assert _image_url(at, DECODED) != before
    at.button(key="gen_ae-2d_reset").click().run()
    _ok(at)
    np.testing.assert_allclose([s.value for s in _latent_sliders(at, "ae-2d")], mean)
    assert _image_url(at, DECODED) == before


def test_16d_model_has_16_named_sliders_and_traversals():
    at = _app().run()
    at.sidebar.selectbox(key="model_name").set_value("ae-16d").run()
    _ok(at)
    sliders = _latent_sliders(at, "ae-16d")
    assert len(sliders) == 16
    assert all(("≈" in s.label) or (":" in s.label) for s in sliders)  # every label is a factor name
    assert all("Pearson r" in s.help for s in sliders)
    assert len(at.dataframe[0].value) == 16
    assert at.selectbox(key="gen_gi").value != at.selectbox(key="gen_gj").value
    before = _image_url(at, DECODED)
    s = sliders[0]
    s.set_value(float(s.min)).run()
    _ok(at)
    assert _image_url(at, DECODED) != before
    trav_before = [u for im in at.image for u in im.value]
    at.number_input(key="gen_trav_idx").set_value(5).run()
    _ok(at)
    assert [u for im in at.image for u in im.value] != trav_before


def test_wide_sparse_code_shows_only_the_top_16():
    at = _app().run()
    at.sidebar.selectbox(key="model_name").set_value("sparse").run()
    _ok(at)
    n = at.session_state["selection"].model.latent_dim
    assert len(_latent_sliders(at, "sparse")) == min(16, n)


def test_no_model_gives_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("MANIFOLD_LAB_MODELS", str(tmp_path))
    at = _app().run()
    _ok(at)
    assert any("No model for" in i.value for i in at.info)
    assert not at.slider
