"""The Denoise page, run by AppTest with the shipped models.

Most tests run the sidebar and then the page through tests/page_shim.py (it says why). Uploads cannot be
driven through AppTest; their path is ae_core.denoise.prepare_uploads, tested in tests/test_denoise.py.
"""
import re

import pytest
from streamlit.testing.v1 import AppTest

from page_shim import ok as _ok, page_app, through_navigation

DB = re.compile(r"(\d+\.\d) dB · (\d\.\d\d)")


def _app() -> AppTest:
    return page_app("denoise", 240)


def _scores(at: AppTest) -> list[float]:
    return [float(m.group(1)) for im in at.image for c in im.captions if c and (m := DB.search(c))]


@pytest.mark.slow
def test_page_runs_through_app_navigation():
    at = through_navigation("denoise", 240)
    assert at.title[0].value == "Denoise"


@pytest.mark.slow
def test_test_images_with_noise_show_psnr_per_image_and_a_summary():
    at = _app().run()
    _ok(at)
    scores = _scores(at)
    # 4 images x (noisy + ae-16d + dae + sdae + median + NL-means) captions with PSNR and SSIM.
    assert len(scores) == 4 * 6, scores
    table = at.table[0].value.reset_index()
    assert list(table["method"])[:4] == ["noisy input", "Plain AE (ae-16d)", "DAE (dae)", "SDAE (sdae)"]
    assert table["mean PSNR (dB)"].between(0, 100).all()
    # Sections 2 and 3 wait, closed, until opened.
    assert not at.get("plotly_chart")
    assert not any("locality" in (c or "") for im in at.image for c in im.captions)
    # A different noise gives different numbers.
    at.selectbox(key="dn_kind_Test images").set_value("salt-pepper").run()
    _ok(at)
    assert _scores(at) != scores
    # Opened (what a click on each expander does): the first-layer filter grids of the three models and
    # the latent arrows, under the noise picked above.
    at.session_state["dn_filters"] = True
    at.session_state["dn_arrows_open"] = True
    at.run()
    _ok(at)
    assert sum("locality" in (c or "") for im in at.image for c in im.captions) == 3
    charts = at.get("plotly_chart")
    assert len(charts) == 1 and "noisy (salt-pepper" in charts[0].proto.spec
    at.slider(key="dn_arrow_n").set_value(20).run()
    _ok(at)
    assert at.slider(key="dn_arrow_n").value == 20


@pytest.mark.slow
def test_bad_image_numbers_give_a_message_not_a_traceback():
    at = _app().run()
    at.text_input(key="dn_idx").set_value("3, x").run()
    _ok(at)
    assert any("whole numbers" in e.value for e in at.error)
    at.text_input(key="dn_idx").set_value("5000").run()
    _ok(at)
    assert any("between 0 and" in e.value for e in at.error)
    at.text_input(key="dn_idx").set_value("7, 7, 9").run()
    _ok(at)
    assert len(_scores(at)) == 2 * 6


@pytest.mark.slow
def test_upload_mode_without_files_explains_what_to_do():
    at = _app().run()
    at.radio(key="dn_source").set_value("Upload noisy images").run()
    _ok(at)
    assert any("Drop one or more noisy images" in i.value for i in at.info)
    assert at.selectbox(key="dn_kind_Upload noisy images").value == "none"


@pytest.mark.slow
def test_tiny_daes_button_trains_and_shows_two_filter_grids():
    at = _app()
    at.session_state["dn_filters"] = True
    at.run()
    at.button(key="dn_train_tiny").click().run()
    _ok(at)
    caps = [c for im in at.image for c in im.captions if c and c.startswith("masking ")]
    assert [c.split(":")[0] for c in caps] == ["masking 0.1", "masking 0.5"]
    assert any("Measured: the filters trained with more noise" in c.value for c in at.caption)


def test_a_dataset_without_models_still_offers_the_classical_filters():
    at = _app().run()
    at.sidebar.selectbox(key="dataset_name").set_value("digits").run()
    _ok(at)
    assert any("only the classical filters" in w.value for w in at.warning)
    methods = list(at.table[0].value.index)
    assert methods[:2] == ["noisy input", "median 3x3"] and methods[2].startswith("NL-means") and len(methods) == 3
