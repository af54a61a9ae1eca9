"""The "Stacks, layer by layer" section (drawn on the Train page, the path's stacking step): a stored
stacked model (`stacked` or `sdae`) taken apart stage by stage, before and after fine-tuning.

The lecture's walk: AE 1 is trained on the images and keeps its decoder W1'; AE 2 is trained on AE 1's
codes and keeps W2'; and so on; the stack decodes through Wn' ... W1'. For each k the section shows the
held-out images through the first k encoders and back through decoders k ... 1, its held-out error
(PCA's at the same code size beside it), and each layer's units: first-layer filters as images, deeper
units by the test images that excite them most. "Before fine-tuning" is the greedy stack as the stages
left it, stored beside the final weights (`store.load(name, state=workflow.GREEDY_STATE)`). Widgets and
figures only: the arrays come from `ui.cache.stack_walk`, one call into `ae_core.stacks.walk`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ae_core import figures, store, workflow
from ui import cache

KINDS = ("stacked", "sdae")
N_SHOW = 8


def _has_greedy(name: str, root) -> bool:
    try:
        return workflow.GREEDY_STATE in (store.read_meta(name, root).get("states") or {})
    except store.CheckpointError:
        return False


def _default(names: list[str], sel) -> int:
    """The sidebar's model if it is a stack; else the shipped SDAE, its plain twin, then any other, those
    stored with their greedy stack (so both halves of the walk show) first."""
    if sel.model_name in names:
        return names.index(sel.model_name)
    order = sorted(names, key=lambda n: (not _has_greedy(n, sel.models_root), n not in ("sdae", "stacked"), n))
    return names.index(order[0])


def _table(before: dict | None, after: dict) -> pd.DataFrame:
    rows = []
    for i, a in enumerate(after["stages"]):
        k = a["k"]
        rows.append({
            "stages": "1" if k == 1 else f"1–{k}",
            "decoded through": " ".join(f"W{j}'" for j in range(k, 0, -1)),
            "code units": a["units"],
            "sq. error before fine-tuning": None if before is None else before["stages"][i]["sse"],
            "after fine-tuning": a["sse"],
            "PCA, same size": a.get("pca_sse"),
        })
    return pd.DataFrame(rows)


def _image(where, png: bytes, caption: str) -> None:
    # At the PNG's own width (from its header): a grid stretched to a wide column blurs the digits.
    where.image(png, caption=caption, width=int.from_bytes(png[16:20], "big"))


def _recon_png(x_show: np.ndarray, walk: dict) -> bytes:
    return figures.grid_png(np.concatenate([x_show, *walk["recon"]]), ncols=len(x_show), scale=2)


def _units_png(x_test: np.ndarray, units: dict) -> bytes:
    return figures.grid_png(x_test[units["top"].reshape(-1)], ncols=units["top"].shape[1], scale=2)


def _layer(i: int, x_test: np.ndarray, before: dict | None, after: dict) -> None:
    shown = [("before fine-tuning", before), ("after fine-tuning", after)] if before is not None \
        else [("after fine-tuning", after)]
    cols = st.columns(len(shown))
    for col, (label, w) in zip(cols, shown):
        with col:
            if i == 0:
                _image(st, figures.grid_png(w["filters"], ncols=8, scale=2),
                       f"{len(w['filters'])} first-layer filters (W1's rows as images, each scaled on its own), {label}")
            u = w["units"][i]
            _image(st, _units_png(x_test, u),
                   f"Layer {i + 1}, {label}: units {', '.join(str(int(v)) for v in u['units'])} (one per row), each "
                   f"by the {u['top'].shape[1]} test images that excite it most")


def render(sel) -> None:
    """The whole section, for the sidebar's dataset; `sel` is the sidebar's Selection."""
    ds = sel.dataset
    st.subheader("Stacks, layer by layer")
    if not ds.is_image:
        st.info(f"{ds.name} is not an image dataset: pick one in the sidebar to take a stacked model apart.")
        return
    names = [n for n, _, _ in cache.stored_models(ds.sample_shape, KINDS)]
    if not names:
        st.info(f"No stored stacked model takes {ds.name}'s images: train a `stacked` or `sdae` model above.")
        return
    st.markdown(
        "Greedy stacking, weight by weight: AE 1 is trained on the images and keeps its decoder W1'; AE 2 is "
        "trained on AE 1's codes and keeps W2'; and so on. Decoding the code of the first *k* encoders back "
        "through Wk' … W1' shows what those *k* stages keep of a held-out image. Fine-tuning then trains all "
        "the layers together on the images.")
    name = st.selectbox("Stacked model", names, index=_default(names, sel), key="stacks_model")
    try:
        meta = store.read_meta(name, sel.models_root)
    except store.CheckpointError as e:
        st.error(str(e))
        return
    key = cache.model_key(name, sel.models_root)
    has_greedy = workflow.GREEDY_STATE in (meta.get("states") or {})
    before = cache.stack_walk(key, ds.name, workflow.GREEDY_STATE) if has_greedy else None
    units = None if before is None else tuple(tuple(int(v) for v in u["units"]) for u in before["units"])
    after = cache.stack_walk(key, ds.name, None, units)
    if not has_greedy:
        st.info(f"`{name}` was saved without its greedy stack, so only the fine-tuned weights can be shown; a "
                "stacked model trained now keeps both.")
    st.dataframe(_table(before, after), hide_index=True, column_config={
        c: st.column_config.NumberColumn(format="%.2f")
        for c in ("sq. error before fine-tuning", "after fine-tuning", "PCA, same size")})
    st.caption(f"Squared error per image, summed over the pixels, on {ds.name}'s {len(ds.x_test):,} held-out test "
               "images; PCA fitted on the training split, with as many components as the code has units.")
    x_show = ds.x_test[:N_SHOW]
    cols = st.columns(2 if before is not None else 1)
    for col, (label, w) in zip(cols, [("before fine-tuning", before), ("after fine-tuning", after)][-len(cols):]):
        _image(col, _recon_png(x_show, w), f"{label}: top row the test images, then row k = through the first k "
                                           f"stages and back (k = 1 … {len(w['recon'])})")
    tabs = st.tabs([f"Layer {i + 1} ({s['units']} units)" for i, s in enumerate(after["stages"])])
    for i, tab in enumerate(tabs):
        with tab:
            _layer(i, ds.x_test, before, after)
