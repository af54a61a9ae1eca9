"""The Train page's "Stacks, layer by layer" section (ui/stacks_panel.py) under AppTest."""
import pytest

from ae_core import data, evaluate, store, workflow
from page_shim import ok, page_app


def _captions(at) -> list[str]:
    return [c for im in at.image for c in im.captions]


@pytest.mark.slow
def test_the_section_takes_a_shipped_stack_apart_before_and_after_fine_tuning():
    at = page_app("train")
    at.run()
    ok(at)
    assert any(s.value == "Stacks, layer by layer" for s in at.subheader)
    name = at.selectbox(key="stacks_model").value
    assert name in ("sdae", "stacked")
    # The default is a stack stored with its greedy stages (the shipped `stacked` is).
    assert workflow.GREEDY_STATE in store.read_meta(name).get("states", {})
    table = at.dataframe[-1].value
    assert list(table["stages"]) == ["1", "1–2"] and list(table["code units"]) == [256, 16]
    assert (table["after fine-tuning"] > 0).all() and (table["PCA, same size"] > 0).all()
    # Through all the stages before fine-tuning is the greedy stack's own reconstruction.
    greedy, _ = store.load(name, state=workflow.GREEDY_STATE)
    ds = data.load_dataset("mnist-5k")
    assert table["sq. error before fine-tuning"].iloc[-1] == pytest.approx(
        evaluate.model_metrics(greedy, ds.x_test)["sse"], rel=1e-5)
    caps = _captions(at)
    for when in ("before", "after"):
        assert any(c.startswith(f"{when} fine-tuning: top row the test images") for c in caps)
        assert any(c.endswith(f"first-layer filters (W1's rows as images, each scaled on its own), {when} fine-tuning")
                   for c in caps)
    assert not any("saved without its greedy stack" in i.value for i in at.info)


@pytest.mark.slow
def test_a_stack_saved_without_its_greedy_stages_shows_the_fine_tuned_half(monkeypatch, tmp_path):
    import shutil

    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(store.default_root() / "ae-2d", root / "ae-2d")
    m, meta = store.load("stacked")
    store.save(m, "old-stack", root, dataset=meta["dataset"], metrics=meta["metrics"])
    monkeypatch.setenv("MANIFOLD_LAB_MODELS", str(root))
    at = page_app("train")
    at.run()
    ok(at)
    assert at.selectbox(key="stacks_model").value == "old-stack"
    assert any("saved without its greedy stack" in i.value for i in at.info)
    assert any(c.startswith("after fine-tuning: top row") for c in _captions(at))
    assert not any(c.startswith("before fine-tuning") for c in _captions(at))
