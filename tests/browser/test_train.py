"""Train in Chromium: train a tiny model (1 epoch) from the form, see it saved, and find it in the
sidebar's model picker. The server's model store is a temporary copy (see conftest), never models/."""
from pathlib import Path

import pytest

from ae_core import store

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]

NAME = "e2e-tiny"


def test_train_one_epoch_and_pick_the_model(app, server):
    app.open("/train")
    app.assert_healthy()
    form = app.main.locator('[data-testid="stForm"]')
    form.locator('input[aria-label="Model name"]').fill(NAME)
    form.locator('input[aria-label="Epochs"]').fill("1")
    form.locator('input[aria-label="Training images"]').fill("1000")
    # The job runs in a background thread; the page polls it and ends with a success message.
    done = app.main.locator('[data-testid="stAlertContentSuccess"]').filter(has_text=NAME)
    app.act(lambda: form.locator('[data-testid="stFormSubmitButton"] button').click(), until=done,
            timeout=180_000)
    assert f"Saved {NAME}" in done.inner_text(), done.inner_text()
    app.assert_healthy()
    assert (server.models / NAME / "config.json").is_file(), "the model was not saved in the server's store"
    assert not (ROOT / "models" / NAME).exists(), "the test wrote into the repository's models/"

    # The sidebar's picker offers it: type into the searchable select and choose it.
    picker = app.sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Model")
    combo = picker.locator('[role="combobox"]').first

    def choose():
        combo.click()
        combo.press_sequentially(NAME)
        app.page.get_by_role("option", name=NAME, exact=True).click()

    # The sidebar's model card then shows the new model's own held-out PSNR, as saved in its card.
    psnr = store.read_meta(NAME, server.models)["metrics"]["test"]["psnr"]
    card = app.sidebar.locator('[data-testid="stMetricValue"]').filter(has_text=f"{psnr:.1f} dB")
    app.act(choose, until=card)
    app.assert_healthy()
    assert combo.input_value() == NAME, f"the picker shows {combo.input_value()!r}"
    assert "trained on mnist-5k" in app.sidebar.inner_text()
