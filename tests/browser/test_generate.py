"""Generate & traverse in Chromium: moving a latent slider with the keyboard re-decodes the image."""
import io

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

DECODED = "the decoder's image of this code"


def _decoded(app) -> dict:
    found = [i for i in app.images() if i["caption"].startswith(DECODED)]
    assert found, f"no image captioned {DECODED!r}: {[i['caption'] for i in app.images()]}"
    return found[0]


def _pixels(app, src: str) -> np.ndarray:
    r = app.page.request.get(app.base_url + src if src.startswith("/") else src)
    assert r.ok, f"{src}: HTTP {r.status}"
    return np.asarray(Image.open(io.BytesIO(r.body())).convert("L"), dtype=np.int16)


def test_slider_keys_change_the_decoded_image(app):
    app.open("/generate")
    app.assert_healthy()
    before = _decoded(app)
    assert before["w"] >= 56 and before["range"] > 10, before
    before_px = _pixels(app, before["src"])
    slider = app.slider_inputs().first
    value0 = slider.get_attribute("aria-valuetext")

    def move():
        slider.focus()
        for _ in range(5):
            slider.press("ArrowRight")

    # Several key presses may queue several reruns: wait for a new image, then for the app to be idle.
    app.act(move, until="""([cap, old]) => [...document.querySelectorAll('[data-testid="stImage"]')].some((el) =>
                (el.innerText || '').startsWith(cap) && el.querySelector('img').getAttribute('src') !== old)""",
            arg=[DECODED, before["src"]])
    app.assert_healthy()
    value1 = slider.get_attribute("aria-valuetext")
    assert float(value1) > float(value0), f"the slider did not move: {value0} -> {value1}"
    after = _decoded(app)
    assert after["src"] != before["src"]
    after_px = _pixels(app, after["src"])
    assert after_px.shape == before_px.shape
    diff = np.abs(after_px - before_px)
    assert diff.max() > 0, "the decoded image's pixels did not change"
