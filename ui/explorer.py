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
from ui.widgets import CLASS_COLOURS, chart_selection, show_grid, show_image

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


# ------------------------------------------------------------------ the map itself
# The map is one Vega-Lite chart on a canvas. As Plotly it was the largest cost of the page's first visit:
# 3.61 s against 2.88 s now (`browser_bench.py --only-cold-start`, median of 5 fresh servers each, run alone on one
# machine; the README). Plotly's bundle alone costs a new visitor about 1.6 s on two GPU-less cores (a three-point
# Plotly chart 2.82 s against Vega-Lite's 1.86 s on the bare app), and it drew an SVG node per point and grid cell.
MAP_RENDERER = "canvas"
MAP_HEIGHT = 560
# Invisible points, GRID per axis over the map's frame: a click on "empty" space picks the nearest one
# (Vega-Lite's nearest point selection, a Voronoi layer), so it decodes a spot within half a step of the click.
# On a canvas they cost little; the spot's own number inputs take any position.
GRID = 48
KIND_GRID, KIND_MARK = 2, 3
# The markers on top of the points: label -> (Vega shape or SVG path, fill). The picked image's ring and the
# decoded spot's × are hollow; an upload's star is gold.
MARKS = {"picked": ("circle", "transparent"), "decoded spot": ("M-1,-1L1,1M-1,1L1,-1", "transparent"),
         "your upload": ("M0,-1L0.24,-0.33L0.95,-0.31L0.39,0.12L0.59,0.81L0,0.4L-0.59,0.81L-0.39,0.12L-0.95,-0.31"
                         "L-0.24,-0.33Z", "gold")}


def map_frame(emb: np.ndarray, kinds: np.ndarray, idxs: np.ndarray, classes: list[str],
              values: np.ndarray | None = None):
    """The rows of the map's points: x, y, kind (KIND_TEST / KIND_TRAIN), idx (in its split), cls (its class's
    name) and, when the map is coloured by a value, val."""
    import pandas as pd

    cols = {"x": np.asarray(emb[:, 0], np.float64), "y": np.asarray(emb[:, 1], np.float64),
            "kind": np.asarray(kinds, np.int8), "idx": np.asarray(idxs, np.int64), "cls": list(classes)}
    if values is not None:
        cols["val"] = np.asarray(values, np.float64)
    return pd.DataFrame(cols)


def map_chart(frame, *, frame_range: tuple[list[float], list[float]], axis_titles: tuple[str, str], title: str,
              class_names: list[str], value_label: str | None = None, value_range: tuple[float, float] | None = None,
              grid: bool = True, marks: list[tuple[np.ndarray, str]] = ()):
    """The latent map: the frame's points coloured by class (or by `val`, its legend `value_label`, the colours
    spanning value_range), with the clickable grid under them (grid=False for a map with no inverse) and the
    markers (position, a MARKS label) on top.

    Selections (read back by map_click / map_box / map_change): "pick", a click (on a point: its row; elsewhere: the
    nearest grid cell), and "box", a dragged interval. The mouse wheel zooms, a shift-drag pans, a double-click
    resets both (the "zoom" interval, bound to the scales).
    """
    import altair as alt
    import pandas as pd

    rx, ry = frame_range
    x = alt.X("x:Q", title=axis_titles[0], scale=alt.Scale(domain=list(rx), nice=False, zero=False))
    y = alt.Y("y:Q", title=axis_titles[1], scale=alt.Scale(domain=list(ry), nice=False, zero=False))
    pick = alt.selection_point(name="pick", fields=["kind", "idx", "x", "y"], on="click", clear=False)
    drag = "[pointerdown[{}event.shiftKey], window:pointerup] > window:pointermove!"  # a drag, with or without shift
    box = alt.selection_interval(name="box", on=drag.format("!"), clear="dblclick")
    zoom = alt.selection_interval(name="zoom", bind="scales", zoom="wheel!",
                                  translate=drag.format(""))
    if value_label is None:
        colour = alt.Color("cls:N", title=None, scale=alt.Scale(
            domain=list(class_names), range=[CLASS_COLOURS[i % len(CLASS_COLOURS)] for i in range(len(class_names))]))
        what = "datum.cls"
    else:
        lo, hi = value_range if value_range is not None else (None, None)
        colour = alt.Color("val:Q", title=value_label.split(" (")[0], scale=alt.Scale(
            scheme="viridis", domain=[float(lo), float(hi)] if lo is not None else alt.Undefined, clamp=True))
        what = "datum.cls + ' · ' + format(datum.val, '.3g')"
    # The stroke is invisible and only widens what a click hits (Vega tests the stroke too), from the dot's
    # 2.6-px radius to about 7 px: a click that just misses a small dot still picks it, not the spot under it.
    points = alt.Chart(frame).mark_circle(size=22, opacity=0.8, clip=True, stroke="transparent",
                                          strokeWidth=9).transform_calculate(
        tip=f"{what} + ' · ' + (datum.kind == {KIND_TEST} ? 'test' : 'train') + ' #' + datum.idx"
    ).encode(x, y, color=colour, tooltip=alt.Tooltip("tip:N")).add_params(pick, box, zoom)
    layers = []
    if grid:
        gx, gy = np.meshgrid(np.linspace(rx[0], rx[1], GRID), np.linspace(ry[0], ry[1], GRID))
        cells = pd.DataFrame({"x": gx.ravel(), "y": gy.ravel(), "kind": KIND_GRID, "idx": np.arange(gx.size)})
        # Its own (reported to nobody) nearest selection is what makes Vega-Lite draw the Voronoi cells that
        # catch a click on empty space; "pick" on the points' layer then holds the nearest cell's row.
        near = alt.selection_point(name="near", fields=["idx"], on="click", nearest=True, clear=False)
        layers.append(alt.Chart(cells).mark_point(opacity=0, size=30).transform_calculate(
            tip="'decode here (' + format(datum.x, '.2f') + ', ' + format(datum.y, '.2f') + ')'"
        ).encode(x, y, tooltip=alt.Tooltip("tip:N")).add_params(near))
    layers.append(points)
    if marks:
        labels = [m[1] for m in marks]
        rows = pd.DataFrame({"x": [float(m[0][0]) for m in marks], "y": [float(m[0][1]) for m in marks],
                             "kind": KIND_MARK, "idx": -1, "mark": labels})
        layers.append(alt.Chart(rows).mark_point(size=260, strokeWidth=2, stroke="black", opacity=1,
                                                 clip=True).encode(
            x, y, tooltip=alt.Tooltip("mark:N"),
            # the legend draws each marker's outline (its symbols take no per-label fill)
            shape=alt.Shape("mark:N", title=None, scale=alt.Scale(domain=labels, range=[MARKS[m][0] for m in labels]),
                            legend=alt.Legend(orient="top", symbolStrokeColor="black", symbolStrokeWidth=1.5,
                                              symbolFillColor="transparent")),
            fill=alt.Fill("mark:N", scale=alt.Scale(domain=labels, range=[MARKS[m][1] for m in labels]), legend=None)))
    return alt.layer(*layers).resolve_scale(color="independent", fill="independent").properties(
        height=MAP_HEIGHT, title=title, usermeta={"embedOptions": {"renderer": MAP_RENDERER}})


def map_box(event) -> tuple[float, float, float, float] | None:
    """The (x0, x1, y0, y1) of a box dragged on map_chart, or None when the event holds none."""
    box = chart_selection(event).get("box")
    try:
        (x0, x1), (y0, y1) = sorted(map(float, box["x"])), sorted(map(float, box["y"]))
    except (KeyError, TypeError, ValueError):
        return None
    return x0, x1, y0, y1


def map_click(event) -> tuple[int, int, float, float] | None:
    """The (kind, index, x, y) of the point or grid cell a map_chart event picked, or None."""
    picked = chart_selection(event).get("pick")
    try:
        p = dict(list(picked)[0])
        return int(p["kind"]), int(p["idx"]), float(p["x"]), float(p["y"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def map_change(event, seen: dict | None) -> tuple[str | None, object, dict]:
    """What a map_chart event changed since the last one (`seen`, this function's previous reading): ("box",
    map_box's box) for a new box, ("click", map_click's click) for a new click, else (None, None); and the reading
    to keep. Every event holds both selections (a drag leaves the last click in it, a click empties the box), so
    what differs from the last event is what the person did."""
    seen = seen or {}
    box, click = map_box(event), map_click(event)
    now = {"box": box, "click": click}
    if box is not None and box != seen.get("box"):
        return "box", box, now
    if click is not None and click != seen.get("click"):
        return "click", click, now
    return None, None, now


def region_points(frame, box: tuple[float, float, float, float]) -> dict[str, np.ndarray]:
    """The test and training indices of the frame's points inside box (x0, x1, y0, y1)."""
    x0, x1, y0, y1 = box
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    kinds, idxs = frame["kind"].to_numpy()[inside], frame["idx"].to_numpy()[inside]
    return {split: np.unique(idxs[kinds == kind].astype(np.int64)) for kind, split in SPLITS.items()}


def selection_panel(sel, region: dict[str, np.ndarray], emb_of, names: list[str], proj) -> None:
    """The gallery, counts, mean image, decoded mean code and CSV of a box dragged on the map.

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
        st.caption("The box holds no image: drag it around some points.")
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
