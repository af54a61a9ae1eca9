"""Photographed digits in Chromium: upload a generated phone photo of a digit (ae_core.data.photographed)
and see the four preprocessing steps (original -> cleaned -> cropped -> the model's input) and, on
Denoise, the denoised images; on Latent space, the upload's reconstruction.

The Denoise test also saves docs/screenshots/denoise_photo.png when MANIFOLD_LAB_SCREENSHOTS is set.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from ae_core.data import photographed as P

from .conftest import ROOT

pytestmark = pytest.mark.browser

STEP_CAPTIONS = ("original (", "cleaned: background removed", "cropped to the digit", "28×28: the model's input")


def photo_of_a_digit(seed: int = 3) -> bytes:
    """A JPEG "photo" of a font 5 on grainy, unevenly lit paper, slightly rotated and blurred."""
    rng = np.random.default_rng([77, seed])
    ink = P.font_ink(5, P.DEFAULT_FONT, 160, bold=3)
    data, _ = P.photograph(ink, rng, invert=False, exif=False, fmt="JPEG", canvas=(360, 300), height=0.55,
                           rotation=-8.0)
    return data


def _steps(app, name: str) -> list[dict]:
    """The step images of the upload `name`: each a real (loaded, not blank) image."""
    shown = app.real_images()
    steps = [i for i in shown if i["caption"] == f"original ({name})" or i["caption"] in STEP_CAPTIONS[1:]]
    return steps


def _upload(app, name: str, data: bytes) -> None:
    uploader = app.main.locator('[data-testid="stFileUploader"]').first
    app.act(lambda: uploader.locator('input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": "image/jpeg", "buffer": data}]),
        until=app.main.locator('[data-testid="stImageCaption"]').filter(has_text="cropped to the digit"))


def test_denoise_shows_the_steps_and_denoises_a_photo(app):
    app.open("/denoise")
    radio = app.main.locator('[data-testid="stRadio"]').filter(has_text="Upload noisy images")
    uploader = app.main.locator('[data-testid="stFileUploader"]')
    app.act(lambda: radio.get_by_text("Upload noisy images").click(), until=uploader)
    _upload(app, "photo.jpg", photo_of_a_digit())
    app.assert_healthy()
    steps = _steps(app, "photo.jpg")
    assert [s["caption"] for s in steps] == [f"original (photo.jpg)", *STEP_CAPTIONS[1:]], steps
    assert "Found one digit (dark ink on light paper)" in app.main.inner_text()
    # Then the denoiser's columns: the input (captioned with the file name) and one output per method.
    denoised = [i for i in app.real_images() if i["caption"] == "" and "locality" not in i["caption"]]
    inputs = [i for i in app.real_images() if i["caption"].startswith("photo.jpg")]
    assert len(inputs) == 1 and len(denoised) >= 3, [i["caption"] for i in app.real_images()]
    if os.environ.get("MANIFOLD_LAB_SCREENSHOTS"):
        app.screenshot(ROOT / "docs" / "screenshots" / "denoise_photo.png")


def test_denoise_says_why_a_blank_photo_has_no_digit(app):
    app.open("/denoise")
    radio = app.main.locator('[data-testid="stRadio"]').filter(has_text="Upload noisy images")
    uploader = app.main.locator('[data-testid="stFileUploader"]')
    app.act(lambda: radio.get_by_text("Upload noisy images").click(), until=uploader)
    blank = P.blank_photo(np.random.default_rng([77, 9]))
    app.act(lambda: uploader.first.locator('input[type="file"]').set_input_files(
        files=[{"name": "paper.jpg", "mimeType": "image/jpeg", "buffer": blank}]),
        until=app.main.get_by_text("No digit found", exact=False))
    assert app.page.locator('[data-testid="stException"]').count() == 0
    assert "paper.jpg" in app.main.locator('[data-testid="stAlertContentWarning"]').first.inner_text()


# ---------------------------------------------------------------- Latent space
# LATENT SPACE: written ahead of the page's wiring. It passes once pages/latent_space.py calls
# ui.upload.upload_panel for its upload section (key "ls_upload"); until then it fails, which is
# the point: it is the check that the wiring was done.


def test_latent_space_shows_the_steps_and_the_reconstruction_of_a_photo(app):
    app.open("/latent_space")
    _upload(app, "photo.jpg", photo_of_a_digit(4))
    app.assert_healthy()
    steps = _steps(app, "photo.jpg")
    assert [s["caption"] for s in steps] == [f"original (photo.jpg)", *STEP_CAPTIONS[1:]], steps
    captions = [i["caption"] for i in app.real_images()]
    assert "its reconstruction" in captions, captions
