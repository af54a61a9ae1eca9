"""Run one page of the app under AppTest the way app.py runs it: the shared sidebar first, then the page.

`AppTest.switch_page` runs a file of the `pages/` folder without app.py (Streamlit's legacy multipage
path, because a `pages/` folder sits next to app.py), so the sidebar would not run and a dataset or
model picked there would be ignored. The shim below runs ui.sidebar.sidebar() and then the page, as
app.py does. Each page's test module keeps one test that goes through app.py's own navigation.
"""
import base64
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
SHIM = """
import runpy
import streamlit as st
from ui.sidebar import sidebar
st.session_state["selection"] = sidebar()
runpy.run_path({page!r}, run_name="__main__")
"""


def page_app(page: str, timeout: float = 240) -> AppTest:
    """An AppTest (not yet run) of pages/<page>.py behind the shared sidebar."""
    return AppTest.from_string(SHIM.format(page=str(ROOT / "pages" / f"{page}.py")), default_timeout=timeout)


def ok(at: AppTest) -> None:
    """The run raised nothing (the exceptions' messages are the assertion's message)."""
    assert not at.exception, [e.value for e in at.exception]


def image_url(at: AppTest, caption_start: str) -> str:
    """The media URL of the st.image whose caption starts with caption_start."""
    for im in at.image:
        for url, cap in zip(im.value, im.captions):
            if cap.startswith(caption_start):
                return url
    raise AssertionError(f"no image captioned {caption_start!r}; captions: {[c for i in at.image for c in i.captions]}")


def through_navigation(page: str, timeout: float = 240, **state) -> AppTest:
    """app.py run (with `state` set in session state first), then pages/<page>.py through its navigation;
    checked to have raised nothing."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    ok(at)
    return at


def plotly_array(v) -> np.ndarray:
    """A plotly JSON array: a plain list, or plotly 6's {"dtype", "bdata" (base64), "shape"} encoding of a numpy
    array (with its shape, so that customdata's [kind, index] rows come back as rows)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        return a.reshape([int(n) for n in str(v["shape"]).split(",")]) if "shape" in v else a
    return np.asarray(v)


def vega_charts(at: AppTest) -> list[dict]:
    """The Vega-Lite (Altair) charts of the last run, each as its spec (JSON) with "datasets_rows" (each named
    dataset's rows) and "rows": every data row of its layers, in order (Streamlit sends the data beside the spec as
    Arrow tables)."""
    import json

    import pyarrow as pa

    out = []
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        spec["datasets_rows"] = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pylist()
                                 for d in el.proto.datasets}
        spec["rows"] = [r for rows in spec["datasets_rows"].values() for r in rows]
        out.append(spec)
    return out


def latent_map(at: AppTest) -> dict:
    """The Latent space page's map (ui.explorer.map_chart) as vega_charts gives it, with "layers_rows": each
    layer's data rows, in layer order."""
    found = [c for c in vega_charts(at) if "layer" in c and any(p.get("name") == "pick" for p in c.get("params", []))]
    assert len(found) == 1, f"{len(found)} latent maps"
    m = found[0]
    m["layers_rows"] = [m["datasets_rows"].get((layer.get("data") or {}).get("name"), []) for layer in m["layer"]]
    return m
