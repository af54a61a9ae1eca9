"""An uploaded dataset in the app (AppTest): the Train page's panel states the rules; the session's own
dataset is offered in the sidebar and the Train form, and a model trained on it opens on Latent space."""
import shutil
from pathlib import Path

import pytest

from ae_core import workflow
from ae_core.data import user
from ae_core.training import TrainConfig
from tests.browser.test_own_data import shapes_entries, zip_of
from tests.page_shim import ok, page_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def own(tmp_path, monkeypatch):
    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(ROOT / "models" / "ae-2d", root / "ae-2d")
    monkeypatch.setenv("MANIFOLD_LAB_MODELS", str(root))
    ds = user.load_upload(zip_of(shapes_entries(20)), "shapes.zip")
    result = workflow.train_on("ae", ds, TrainConfig(epochs=1, batch_size=16), latent_dim=2, hidden=(16,))
    workflow.save_result(result, "own-ae", root)
    return ds, {ds.name: {"dataset": ds, "file": str(user.save_private(ds, tmp_path))}}


def test_train_page_states_the_rules_and_offers_the_upload(own):
    ds, entries = own
    at = page_app("train")
    at.session_state["own_datasets"] = entries
    at.run()
    ok(at)
    text = "\n".join(c.value for c in at.caption)
    assert "64×64" in text and "20,000 images" in text and "sha256" in text
    form_ds = [s for s in at.selectbox if s.key == "train_dataset"][0]
    assert ds.name in form_ds.options or f"{ds.name} (your upload)" in form_ds.options
    side = [s for s in at.selectbox if s.key == "dataset_name"][0]
    assert f"{ds.name} (your upload)" in side.options


def test_latent_space_on_the_upload(own):
    ds, entries = own
    at = page_app("latent_space")
    at.session_state["own_datasets"] = entries
    at.session_state["dataset_name"] = ds.name
    at.run()
    ok(at)
    side = [s for s in at.selectbox if s.key == "model_name"][0]
    assert side.value == "own-ae"
    assert not at.error, [e.value for e in at.error]


def test_another_session_does_not_see_it(own):
    ds, _ = own
    at = page_app("train")
    at.run()
    ok(at)
    side = [s for s in at.selectbox if s.key == "dataset_name"][0]
    assert not any(ds.name in o for o in side.options)
