"""The Compression page, run by AppTest with the shipped models (through tests/page_shim.py: the
sidebar, then the page)."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from page_shim import ok as _ok, page_app, through_navigation, vega_charts



def _app(n_images: int = 50, models=("ae-2d", "ae-16d")) -> AppTest:
    at = page_app("compression", 240)
    # Fewer images and models than the page's defaults keep the test quick; the maths is the same.
    at.session_state["cx_n"] = n_images
    at.session_state["cx_models"] = list(models)
    return at


@pytest.mark.slow
def test_page_runs_through_app_navigation():
    at = through_navigation("compression", 300, cx_n=50, cx_models=["ae-16d"])
    assert at.title[0].value.startswith("Compression")


@pytest.mark.slow
def test_curves_crossover_table_and_matched_examples():
    at = _app().run()
    _ok(at)
    charts = vega_charts(at)  # the PSNR curves; the SSIM tab's wait until it is opened
    assert len(charts) == 1 and "mean PSNR" in json.dumps(charts[0]) and not at.get("plotly_chart")
    points = [r for r in charts[0]["rows"] if "codec" in r]
    assert {r["codec"] for r in points} == {"AE ae-2d", "AE ae-16d", "JPEG", "WebP"}
    assert all(r["bytes"] > 0 and r["value"] > 5 for r in points)  # bytes per image and PSNR in dB
    assert any("lossless: exact" in str(r.get("label")) for r in charts[0]["rows"])  # WebP lossless's rule
    verdicts = [m.value for m in [*at.success, *at.info] if m.value.startswith("**Crossover")]
    assert len(verdicts) == 2 and any("JPEG" in v for v in verdicts) and any("WebP" in v for v in verdicts)
    assert not at.dataframe  # the table of every measured point waits until its expander is opened
    at.session_state["cx_points"] = True
    at.run()
    _ok(at)
    rows = at.dataframe[0].value
    assert set(rows["codec"]) == {"AE ae-2d", "AE ae-16d", "JPEG", "WebP"}
    ae16 = rows[rows["codec"] == "AE ae-16d"]
    assert sorted(ae16["bytes_file"]) == [8, 16, 32]
    assert (rows["bytes_payload"] <= rows["bytes_file"]).all()
    # Matched examples: 4 rows x (AE, JPEG, WebP, original) images.
    assert sum(len(im.value) for im in at.image) == 16
    assert any(c.value == "ae-2d, 8 bit: 2 bytes" for c in at.caption)
    at.radio(key="cx_bytes").set_value("payload").run()
    _ok(at)
    assert any("payload bytes" in m.value for m in [*at.success, *at.info])
    at.session_state["cx_metric"] = "SSIM"
    at.run()
    _ok(at)
    charts = vega_charts(at)
    assert len(charts) == 1 and "mean SSIM" in json.dumps(charts[0])
    assert all(0 < r["value"] <= 1 for r in charts[0]["rows"] if "codec" in r)


def test_no_model_picked_asks_for_one():
    at = _app(models=())
    at.run()
    _ok(at)
    assert any("Pick at least one autoencoder" in i.value for i in at.info)
