"""Your own data in Chromium: upload a ZIP of class folders on the Train page, see each bad archive get its
own message without losing the dataset already loaded, train one epoch on it, and explore the model on
the Latent space page, all in one browser session (the dataset lives in that session only)."""
from __future__ import annotations

import io
import re
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ae_core import store

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "browser"
NAME = "e2e-own-shapes"


def shape_png(kind: str, rng, size: int = 28) -> bytes:
    """A white circle or square on black, at a random place and size."""
    yy, xx = np.mgrid[:size, :size]
    r = rng.uniform(4, 9)
    cy, cx = rng.uniform(r + 1, size - r - 1, 2)
    mask = ((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r) if kind == "circle" else (
        (abs(yy - cy) <= r * 0.8) & (abs(xx - cx) <= r * 0.8))
    buf = io.BytesIO()
    Image.fromarray((mask * 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def zip_of(entries) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in entries:
            zf.writestr(name, payload)
    return buf.getvalue()


def shapes_entries(n: int = 40, top: str = "shapes/"):
    rng = np.random.default_rng(0)
    return [(f"{top}{k}/{i:03d}.png", shape_png(k, rng)) for k in ("circle", "square") for i in range(n)]


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def bad_archives() -> list[tuple[str, bytes, str]]:
    """(file name, bytes, a phrase its message must contain) for each kind of bad upload."""
    good = shapes_entries(6, top="")
    link = zipfile.ZipInfo("circle/link.png")
    link.create_system, link.external_attr = 3, (stat.S_IFLNK | 0o777) << 16
    small = io.BytesIO()
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(small, format="PNG")
    return [
        ("bomb.zip", zip_of([("circle/zeros.png", bytes(20_000_000)), *good]), "ZIP bomb"),
        ("traversal.zip", zip_of([*good, ("../../evil.png", good[0][1])]), "path traversal"),
        ("symlink.zip", zip_of([*good, (link, "/etc/passwd")]), "symbolic link"),
        ("nested.zip", zip_of([*good, ("circle/more.zip", zip_of(good))]), "nested archives"),
        ("mixed.zip", zip_of([*good, ("circle/small.png", small.getvalue())]), "mixed sizes"),
        ("notes.zip", zip_of([*good, ("circle/notes.txt", b"hello")]), "not an image"),
        ("one-class.zip", zip_of([g for g in good if g[0].startswith("circle")] * 1 +
                                 [(f"circle/x{i}.png", good[0][1]) for i in range(6)]), "single class"),
        ("empty.zip", zip_of([*good, ("triangle/", b"")]), "is empty"),
        ("corrupt.npz", b"PK\x03\x04 this is no npz", "not a readable .npz"),
        ("shapes.npz", npz_bytes(X=np.zeros((20, 30))), "square images"),
    ]


def _upload(app, name: str, data: bytes, until) -> None:
    uploader = app.main.locator('[data-testid="stFileUploader"]').filter(has_text="Dataset file")
    app.act(lambda: uploader.locator('input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": "application/zip", "buffer": data}]), until=until, timeout=120_000)


def _no_exception(app) -> None:
    exc = app.page.locator('[data-testid="stException"]')
    assert exc.count() == 0, exc.first.inner_text()[:1500]
    assert "Traceback" not in app.page.locator('[data-testid="stApp"]').inner_text()


def test_upload_train_and_explore_own_data(app, server):
    app.open("/train")
    app.assert_healthy()
    panel = app.main.locator('[data-testid="stExpander"]').filter(has_text="Your own data")
    app.act(lambda: panel.locator("summary").first.click(),
            until=app.main.locator('[data-testid="stFileUploader"]').filter(has_text="Dataset file"))
    rules = panel.inner_text()
    assert "64×64" in rules and "20,000 images" in rules and "50 MB as a ZIP" in rules, rules

    # The good ZIP first: the dataset is accepted and chosen in the form.
    good = zip_of(shapes_entries())
    ok = app.main.locator('[data-testid="stAlertContentSuccess"]').filter(has_text="80 in 2 classes")
    _upload(app, "shapes.zip", good, ok)
    _no_exception(app)
    # The alert's text starts with its icon's name; the dataset's name is <stem>-<8 hex of its sha256>.
    ds_name = re.search(r"shapes-[0-9a-f]{8}", ok.inner_text()).group(0)
    assert ds_name.startswith("shapes-"), ok.inner_text()
    app.screenshot(SHOTS / "own-data-accepted.png")

    # Each bad upload: its own message, and the shapes dataset is still listed as loaded.
    for fname, blob, phrase in bad_archives():
        err = app.main.locator('[data-testid="stAlertContentError"]').filter(has_text=fname).filter(has_text=phrase)
        _upload(app, fname, blob, err)
        _no_exception(app)
        assert ds_name in err.inner_text(), f"{fname}: the message does not say {ds_name} is still loaded"
        if fname == "bomb.zip":
            app.screenshot(SHOTS / "own-data-bomb.png")
    # Nothing already loaded was lost: the form still offers the dataset.
    _upload(app, "shapes.zip", good, ok)

    form = app.main.locator('[data-testid="stForm"]')
    combo = form.locator('[data-testid="stSelectbox"]').filter(has_text="Dataset").locator('[role="combobox"]').first
    assert ds_name in combo.input_value(), combo.input_value()
    form.locator('input[aria-label="Model name"]').fill(NAME)
    form.locator('input[aria-label="Epochs"]').fill("1")
    done = app.main.locator('[data-testid="stAlertContentSuccess"]').filter(has_text=f"Saved {NAME}")
    app.act(lambda: form.locator('[data-testid="stFormSubmitButton"] button').click(), until=done, timeout=240_000)
    meta = store.read_meta(NAME, server.models)
    origin = meta["dataset"]["origin"]
    assert meta["dataset"]["name"] == ds_name and origin["file"] == "shapes.zip" and origin["n_images"] == 80
    assert "shapes.zip" in (server.models / NAME / "README.md").read_text()

    # Open it in the sidebar, then go to the Latent space page within the same session.
    open_btn = app.main.get_by_role("button", name=f"Open {NAME} in the sidebar")
    picked = app.sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Model").locator('[role="combobox"]')
    app.act(lambda: open_btn.click(), until=app.sidebar.get_by_text("trained on " + ds_name, exact=False))
    assert picked.first.input_value() == NAME
    assert app.sidebar.get_by_role("button", name="Download model (.zip)").count() == 1
    link = app.sidebar.locator('[data-testid="stSidebarNav"] a').filter(has_text="Latent space")
    chart = app.main.locator('[data-testid="stVegaLiteChart"] canvas')  # the latent map
    app.act(lambda: link.first.click(), until=chart, timeout=120_000)
    app.assert_healthy()
    picked = app.sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Dataset")
    assert ds_name in picked.locator('input[role="combobox"]').input_value()
    charts = app.charts()
    assert charts and max(c["points"] for c in charts) >= 10, charts
    app.screenshot(SHOTS / "own-data-latent.png")
