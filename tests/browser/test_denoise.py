"""Denoise in Chromium: upload a noisy digit PNG (and a file that is not an image) and see the denoised
images, then their PSNR once the page adds noise of its own to score against."""
import io
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw

pytestmark = pytest.mark.browser

PSNR_CAPTION = re.compile(r"^-?\d+\.\d dB · ")


def noisy_digit_png(seed: int = 0) -> bytes:
    """A 28x28 white '0' on black, like an MNIST digit, with Gaussian noise (sigma 0.25)."""
    img = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(img).ellipse((8, 4, 20, 24), outline=255, width=3)
    a = np.asarray(img, np.float32) / 255
    a = np.clip(a + np.random.default_rng(seed).normal(0, 0.25, a.shape), 0, 1)
    buf = io.BytesIO()
    Image.fromarray((a * 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _section_one(app):
    """Images of the "Noisy in, clean out" part: those without a filter-grid caption."""
    return [i for i in app.real_images() if "locality" not in i["caption"]]


def test_upload_noisy_png_is_denoised(app):
    app.open("/denoise")
    app.assert_healthy()
    radio = app.main.locator('[data-testid="stRadio"]').filter(has_text="Upload noisy images")
    uploader = app.main.locator('[data-testid="stFileUploader"]')
    app.act(lambda: radio.get_by_text("Upload noisy images").click(), until=uploader)
    errors = app.main.locator('[data-testid="stAlertContentError"]')
    app.act(lambda: uploader.first.locator('input[type="file"]').set_input_files(files=[
        {"name": "noisy.png", "mimeType": "image/png", "buffer": noisy_digit_png()},
        {"name": "x.png", "mimeType": "image/png", "buffer": b"hello"},
    ]), until=app.main.locator('[data-testid="stImageCaption"]').filter(has_text="noisy.png"))
    # The file that is not an image gets its own message; the other is still denoised.
    assert errors.count() == 1 and "x.png" in errors.first.inner_text(), errors.all_inner_texts()
    assert app.page.locator('[data-testid="stException"]').count() == 0
    shown = _section_one(app)
    inputs = [i for i in shown if i["caption"].startswith("noisy.png")]
    outputs = [i for i in shown if i["caption"] == ""]
    assert len(inputs) == 1 and len(outputs) >= 3, [i["caption"] for i in shown]

    # With noise added by the page, the upload is the clean reference: every output gets a PSNR.
    box = app.main.locator('[data-testid="stSelectbox"]').filter(has_text="Noise to add")

    def pick_gaussian():
        box.locator('[role="combobox"]').first.click()
        app.page.get_by_role("option", name="Gaussian", exact=True).click()

    app.act(pick_gaussian, until=app.main.locator('[data-testid="stImageCaption"]').filter(has_text=" dB · "))
    scored = [i for i in _section_one(app) if PSNR_CAPTION.match(i["caption"])]
    assert len(scored) >= 3, [i["caption"] for i in _section_one(app)]
    psnr = [float(i["caption"].split(" dB")[0]) for i in scored]
    assert all(5 < p < 60 for p in psnr), psnr
    assert "Traceback" not in app.page.locator('[data-testid="stApp"]').inner_text()
