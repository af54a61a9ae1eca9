"""The Train page's "Stacks, layer by layer" section (ui/stacks_panel.py) under AppTest."""
import pytest

from page_shim import ok, page_app


def _stack_images(at) -> list[str]:
    return [c for im in at.image for c in im.captions]


@pytest.mark.slow
def test_the_section_takes_the_shipped_sdae_apart_with_images():
    at = page_app("train")
    at.run()
    ok(at)
    assert any(s.value == "Stacks, layer by layer" for s in at.subheader)
    assert at.selectbox(key="stacks_model").value == "sdae"
    table = at.dataframe[-1].value
    assert list(table["stages"]) == ["1", "1–2"] and list(table["code units"]) == [256, 16]
    assert (table["after fine-tuning"] > 0).all() and (table["PCA, same size"] > 0).all()
    caps = _stack_images(at)
    assert any(c.startswith("after fine-tuning: top row the test images") for c in caps)
    assert any("first-layer filters" in c for c in caps)
    assert any(c.startswith("Layer 2, after fine-tuning: units") for c in caps)
