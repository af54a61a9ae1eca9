"""The latent map's explorer widgets: colour by, filter by class, jump to an image, and the selection panel
(gallery with reconstructions, counts per class, mean image, decoded mean code, CSV), plus the link
parameters of the Latent space page (the picked point, the chosen map, the colouring).

The maths is ae_core.explore (colourings, per-image errors, a selection's summary) and the file formats
ae_core.export; this module only lays out widgets and calls the cached wrappers of ui/cache.py.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from ae_core import explore, export
from ui import cache, share
from ui.widgets import show_grid, show_image

GALLERY = 30  # images shown of a selection (all of them are in its CSV)
KIND_TEST, KIND_TRAIN = 0, 1
SPLITS = {KIND_TEST: "test", KIND_TRAIN: "train"}


def colour_values(sel, colouring: str, with_train: bool) -> np.ndarray:
    """The value of `colouring` (an explore.Colouring key) for each map point: test codes, then training."""
    ds = sel.dataset
    splits = ("test", "train") if with_train else ("test",)
    if colouring == "class":
        return np.concatenate([ds.y_test, ds.y_train] if with_train else [ds.y_test])
    if colouring == "error":
        return np.concatenate([cache.point_errors(sel.key, ds.name, s)["sse"] for s in splits])
    if colouring == "offmanifold":
        return np.concatenate([cache.off_manifold_percentile(sel.key, ds.name, s) for s in splits])
    if colouring.startswith("z"):
        d = int(colouring[1:])
        return np.concatenate([cache.encoded(sel.key, ds.name, s)[:, d] for s in splits])
    if colouring.startswith("factor:"):
        name = colouring.split(":", 1)[1]
        return np.concatenate([explore.factor_columns(ds, s)[name] for s in splits])
    raise ValueError(f"unknown colouring {colouring!r}")


# ------------------------------------------------------------------ link parameters
def parse_pick(text: str, n_test: int, n_train: int) -> tuple[str, int]:
    """'test:7' or 'train:123' (or just '7': a test image) -> (split, index); ValueError saying why not."""
    split, _, idx = str(text).rpartition(":")
    split = split or "test"
    if split not in ("test", "train"):
        raise ValueError(f"no split {split[:20]!r} (test or train)")
    return split, explore.parse_indices(idx, n_test if split == "test" else n_train)


def pick_text(pick: tuple[str, int]) -> str:
    return f"{pick[0]}:{int(pick[1])}"


def parse_map(text: str, methods: list[str], dim: int) -> tuple[str, tuple[int, int] | None]:
    """'pca', 'tsne', … or 'coords:3,5' -> (method, coords or None); ValueError when this model has no such map."""
    method, _, rest = str(text).partition(":")
    if method not in methods:
        raise ValueError(f"this model's maps are {', '.join(methods)}")
    if method != "coords":
        return method, None
    i, j = (explore.parse_indices(t, dim) for t in (rest.split(",") + ["", ""])[:2])
    if i == j:
        raise ValueError("two different coordinates are needed")
    return method, (i, j)


# ------------------------------------------------------------------ the controls above the map
def controls(sel, n_test: int, n_train: int, names: list[str]) -> tuple[str, list[int]]:
    """Colour-by and class-filter widgets, and the jump box; returns (colouring key, shown classes)."""
    ds = sel.dataset
    options = explore.colourings(sel.model.latent_dim, explore.factor_columns(ds, "test"))
    keys = [c.key for c in options]
    label = {c.key: c.label for c in options}
    share.choice("colour", keys, "ls_colour")
    if st.session_state.get("ls_colour") not in keys:  # a model with fewer coordinates, another dataset
        st.session_state["ls_colour"] = "class"
    c1, c2, c3 = st.columns([2, 3, 2])
    colouring = c1.selectbox("Colour by", keys, format_func=label.get, key="ls_colour",
                             help="Class, how badly the model reconstructs each image, how far off the model's "
                                  "manifold it lies, any latent coordinate, or a known factor of the dataset.")
    classes = list(range(len(names)))
    shown = c2.multiselect("Show classes", classes, default=classes, format_func=lambda c: names[c],
                           key=f"ls_classes_{ds.name}", placeholder="every class")
    c3.text_input("Jump to image", key="ls_jump", placeholder="42, or train:1234",
                  on_change=_jump, args=(n_test, n_train),
                  help=f"A test image by its index (0–{n_test - 1}), or a training image as train:INDEX.")
    if st.session_state.get("ls_jump_error"):
        st.warning(st.session_state["ls_jump_error"])
    share.write("colour", colouring, "class")
    return colouring, (shown or classes)


def _jump(n_test: int, n_train: int) -> None:
    raw = st.session_state.get("ls_jump", "").strip()
    st.session_state["ls_jump_error"] = None
    if not raw:
        return
    try:
        new = parse_pick(raw.replace(" ", ":") if " " in raw else raw, n_test, n_train)
    except ValueError as e:
        st.session_state["ls_jump_error"] = f"Cannot jump to {raw[:40]!r}: {e}."
        return
    if new != st.session_state.get("ls_pick"):
        st.session_state["ls_prev"] = st.session_state.get("ls_pick")
    st.session_state["ls_pick"] = new


# ------------------------------------------------------------------ selections from the chart
def region_points(event) -> dict[str, np.ndarray] | None:
    """The test and training indices inside a box or lasso of a plotly selection event; None when the
    event is a single click (no box, no lasso)."""
    from ui.widgets import plotly_points

    sel = (event or {}).get("selection") or {}
    if not (sel.get("box") or sel.get("lasso")):
        return None
    out: dict[str, list[int]] = {"test": [], "train": []}
    for p in plotly_points(event):
        cd = list(p.get("customdata") or [])
        if len(cd) >= 2 and int(cd[0]) in SPLITS:
            out[SPLITS[int(cd[0])]].append(int(cd[1]))
    return {k: np.unique(np.asarray(v, np.int64)) for k, v in out.items()}


def selection_panel(sel, region: dict[str, np.ndarray], emb_of, names: list[str], proj) -> None:
    """The gallery, counts, mean image, decoded mean code and CSV of a box / lasso selection.

    emb_of(split, idx) gives those points' map positions (the map's own, or projected for training
    points not drawn).
    """
    ds, model = sel.dataset, sel.model
    parts = [(s, region[s]) for s in ("test", "train") if len(region.get(s, ()))]
    n = sum(len(i) for _, i in parts)
    head, clear = st.columns([5, 1])
    head.subheader(f"Selection: {n:,} image{'s' if n != 1 else ''}")
    clear.button("Clear selection", key="ls_clear", on_click=lambda: st.session_state.pop("ls_region", None))
    if not n:
        st.caption("The box or lasso holds no image: draw it around some points.")
        return
    xs = {s: (ds.x_test if s == "test" else ds.x_train) for s, _ in parts}
    ys = {s: (ds.y_test if s == "test" else ds.y_train) for s, _ in parts}
    x_sel = np.concatenate([xs[s][i] for s, i in parts])
    y_sel = np.concatenate([ys[s][i] for s, i in parts])
    z_sel = np.concatenate([cache.encoded(sel.key, ds.name, s)[i] for s, i in parts])
    summ = explore.summarise_selection(model, x_sel, z_sel, y_sel)
    g1, g2 = st.columns([3, 1])
    with g1:
        k = min(GALLERY, n)
        rec = explore.reconstructions(model, x_sel[:k])
        st.markdown(f"**The first {k} of them** (top) **and their reconstructions** (below)"
                    if k < n else "**The images** (top) **and their reconstructions** (below)")
        cols = 10
        for r in range(0, k, cols):
            show_grid(x_sel[r:r + cols], cols, scale=2)
            show_grid(rec[r:r + cols], cols, scale=2)
    with g2:
        show_image(summ.mean_image, "mean image of the selection", 112)
        show_image(summ.decoded_mean, "decoder's image of the mean code", 112)
        st.caption("The mean image averages the pixels (a blur of every digit in it); the decoded mean code "
                   "is what the model draws at the selection's centre in latent space.")
    counts = {names[c] if 0 <= c < len(names) else str(c): v for c, v in sorted(summ.counts.items())}
    st.bar_chart(counts, height=180, x_label="class", y_label="images", horizontal=False)
    split_col = [s for s, i in parts for _ in i]
    idx_col = np.concatenate([i for _, i in parts])
    map_xy = np.concatenate([emb_of(s, i) for s, i in parts])

    def csv() -> bytes:  # built when clicked, not on every rerun
        err = np.concatenate([cache.point_errors(sel.key, ds.name, s)["sse"][i] for s, i in parts])
        return export.embeddings_csv(split_col, idx_col, [names[int(v)] for v in y_sel], z_sel, map_xy, err)

    st.download_button("Download the selection (CSV)", csv, file_name=f"selection_{sel.model_name}.csv",
                       mime="text/csv", key="ls_sel_csv", on_click="ignore", icon=":material/download:",
                       help="One row per selected image: split, index, label, its code, its map position, "
                            "its squared reconstruction error.")


def embeddings_download(sel, proj, emb: np.ndarray, with_train: bool, names: list[str]) -> None:
    """A button with every drawn point's row as CSV (built when clicked: 70,000 rows take a moment)."""
    ds = sel.dataset

    def csv() -> bytes:
        splits = ("test", "train") if with_train else ("test",)
        ns = {"test": len(ds.x_test), "train": len(ds.x_train)}
        split_col = [s for s in splits for _ in range(ns[s])]
        idx = np.concatenate([np.arange(ns[s]) for s in splits])
        y = np.concatenate([ds.y_test, ds.y_train] if with_train else [ds.y_test])
        z = np.concatenate([cache.encoded(sel.key, ds.name, s) for s in splits])
        err = np.concatenate([cache.point_errors(sel.key, ds.name, s)["sse"] for s in splits])
        return export.embeddings_csv(split_col, idx, [names[int(v)] if 0 <= v < len(names) else str(v) for v in y],
                                     z, emb[:len(z)], err)

    st.download_button("Embeddings (CSV)", csv, file_name=f"embeddings_{sel.model_name}_{ds.name}.csv",
                       mime="text/csv", key="ls_emb_csv", on_click="ignore", icon=":material/download:",
                       help="Every point on the map: split, index, label, the code, the 2-D map position, "
                            "the squared reconstruction error.")
