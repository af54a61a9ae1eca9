"""Shared page widgets: crisp image display, the current selection, widget values kept in lazy sections."""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from ae_core import figures, images
from ui import cache


def selection():
    """The sidebar's Selection for this run (set by app.py before the page runs)."""
    if "selection" not in st.session_state:
        # A `pages/` folder puts Streamlit in its legacy multipage mode until st.navigation first
        # runs, so a deep link that is a fresh server's first request runs the page file without
        # app.py. Switch the process to st.navigation and rerun: app.py then runs the sidebar and
        # resolves the same page from the URL.
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()
    return st.session_state["selection"]


# Streamlit loads Plotly's JavaScript (a 4.6 MB bundle: about 1.5 s of parsing and evaluation on two
# cores) only when a page first draws a chart, so the first chart of a visit waited for it. Loading it
# while the browser is otherwise idle, from whichever page was opened first, takes that wait off the
# first click on a page with a chart. The bundle's file name is the installed Streamlit's own; where it
# cannot be found nothing is loaded and charts load Plotly as before.
_PLOTLY_PREFETCH_JS = """
<script>
(() => {
  if (window.__manifoldLabPlotly) return;
  window.__manifoldLabPlotly = true;
  const index = [...document.scripts].find((s) => /\\/static\\/js\\/index\\.[^/]+\\.js$/.test(s.src));
  if (!index) return;
  const url = index.src.replace(/index\\.[^/]+\\.js$/, "%s");
  const load = () => import(url).catch(() => {});
  (window.requestIdleCallback || ((f) => setTimeout(f, 300)))(load, {timeout: 2000});
})();
</script>
"""


@functools.lru_cache(maxsize=1)
def plotly_bundle() -> str | None:
    """The file name of the installed Streamlit's Plotly chart bundle, or None."""
    found = sorted((Path(st.__file__).parent / "static" / "static" / "js").glob("PlotlyChart.*.js"))
    return found[0].name if len(found) == 1 else None


def prefetch_plotly() -> None:
    """Have the browser load Plotly's JavaScript when it is idle (see _PLOTLY_PREFETCH_JS)."""
    name = plotly_bundle()
    if name is not None:
        st.html(_PLOTLY_PREFETCH_JS % name, unsafe_allow_javascript=True, width="content")


# The pages' plain line, bar and histogram charts, the ones nobody clicks, are Vega-Lite (Altair) rather than
# Plotly. On a new visit to the bare benchmark app (`python benchmarks/browser_bench.py --only-floors`:
# Chromium without a GPU, 2 cores), one three-point Plotly chart added 1.58 s to the page and the same chart in
# Vega-Lite 0.62 s. PCA vs AE's linked maps and the Latent space map (ui.explorer.map_chart) are Vega-Lite too, on a
# canvas. Plotly stays for 3-D (the Swiss roll) and for Denoise's arrows from noisy to clean codes (arrowheads are
# Plotly annotations; Vega-Lite has no arrow mark).
def vega_chart(chart, height: int, key: str, where=None) -> None:
    """Draw an Altair chart the container's full width and `height` px tall (in `where`, default the page)."""
    (where or st).altair_chart(chart.properties(height=height), key=key, width="stretch")


def keep(*keys: str) -> None:
    """Keep the values of widgets that this run may not draw: those inside a lazy section.

    Pages run a section's content only while it is open (st.tabs / st.expander with on_change="rerun",
    then `if tab.open:`), so a first visit computes and draws one section, not all. But Streamlit forgets
    the value of a widget that a run does not draw: a slider in a closed tab would be back at its default
    when the tab is reopened. Setting each key again at the top of the run keeps it. Such widgets take
    their default from st.session_state.setdefault(key, value), not value=, or Streamlit warns that a
    value was set twice. (File uploaders and buttons cannot be kept: keep them out of lazy sections.)
    """
    for k in keys:
        if k in st.session_state:
            st.session_state[k] = st.session_state[k]


def lazy_tabs(sections: dict, key: str, keep_keys: tuple[str, ...] = ()) -> None:
    """Tabs whose content runs only while open: {label: function drawing that tab}. keep_keys: see keep()."""
    keep(*keep_keys)
    for tab, show in zip(st.tabs(list(sections), on_change="rerun", key=key), sections.values()):
        with tab:
            if tab.open:
                show()


def require(purpose: str, *, model: bool = True, grey: bool = False):
    """The sidebar's selection, or a clear note and st.stop() when this page cannot use it.

    purpose completes "pick an image dataset in the sidebar to ...". grey: the page needs
    single-channel images; model: the page needs a model that fits the dataset.
    """
    sel = selection()
    ds = sel.dataset
    if not ds.is_image:
        st.info(f"{ds.name} is a point cloud, not images: pick an image dataset in the sidebar to {purpose}.")
        st.stop()
    if grey and ds.sample_shape[0] != 1:
        st.info(f"{ds.name} has colour images; pick a greyscale dataset in the sidebar to {purpose}.")
        st.stop()
    if model and sel.model is None:
        st.info(f"No model for {ds.name} yet: pick another dataset, or train one on the Train page.")
        st.stop()
    return sel


def show_image(img: np.ndarray, caption: str | None = None, width: int = 140) -> None:
    """Show a (H, W) or (1, H, W) image crisp: nearest-neighbour upscaled, never a blurry thumbnail."""
    a = np.asarray(img, dtype=np.float32)
    a = a[0] if a.ndim == 3 and a.shape[0] == 1 else (a.transpose(1, 2, 0) if a.ndim == 3 else a)
    scale = max(1, int(np.ceil(width / a.shape[1])))
    st.image(images.upscale(np.clip(a, 0, 1), scale), caption=caption, width=width)


def show_grid(imgs: np.ndarray, ncols: int, scale: int = 2, caption: str | None = None) -> None:
    """Tile (N, 1, H, W) or (N, H, W) images and show them crisp at an exact integer scale."""
    g = images.grid(np.clip(np.asarray(imgs, np.float32), 0, 1), ncols)
    st.image(images.upscale(g, scale), caption=caption, width=g.shape[1] * scale)


# --- denoise / compression / manifold pages ---


def off_manifold_note(model_name: str, dataset_name: str, x: np.ndarray, names: list[str] | None = None) -> np.ndarray:
    """Say, per image (N, C, H, W), whether it lies off the model's manifold; returns the flags (N,).

    Off = the model reconstructs it worse than 99 % of held-out training images (ae_core.manifold).
    """
    det = cache.off_manifold_detector(model_name, dataset_name)
    scores = det.score(x)
    flags = scores > det.threshold_
    pct = det.percentile_of(scores)
    for i, (s, off) in enumerate(zip(scores, flags)):
        who = names[i] if names else f"Image {i + 1}"
        text = (f"**{who}**: reconstruction error {s:.4f} under `{model_name}` (threshold {det.threshold_:.4f}, "
                f"worse than {pct[i]:.0f} % of held-out training images)")
        if off:
            st.warning(f"{text} — **off the manifold**: further from the images this model learnt than 99 % of real "
                       "ones (heavy noise does that; so does a picture that is not a digit, whose output is a guess).",
                       icon=":material/warning:")
        else:
            st.caption(f"{text} — on the manifold.")
    return flags


# --- pca vs ae / train pages ---
# One colour per class (ae_core.figures owns the palette), the same in every chart of a page, so a class can be
# followed across charts.
CLASS_COLOURS = figures.CLASS_COLOURS


# PCA vs AE's maps are one Vega-Lite chart of side-by-side views, drawn on a canvas, with the linked pick done in
# the browser. Five Plotly maps of 1,000 points made the page's new visit 5.0 s (median of 5, run alone), one
# such chart 3.2-3.4 s: Plotly's bundle, one plot per map and an SVG node per point were most of it. The rows are wide
# (one per test point, x_i / y_i for map i), so a box dragged in one view tests the same rows in every view, as in
# Vega-Lite's scatter-plot-matrix brushing.
MAPS_RENDERER = "canvas"
MAP_SIDE = 200  # px per view: four views and their gaps fit the wide layout's main column at 1400 px


@dataclass(frozen=True)
class LinkedMaps:
    """The wide rows behind linked_maps' chart: `frame` (id, class, x_i, y_i per map, each map framed on
    [0, 1] by robust_range) and each map's label in view order."""

    frame: "pd.DataFrame"
    labels: tuple[str, ...]


def linked_maps_frame(maps: list[np.ndarray], labels: list[str], y: np.ndarray, class_names) -> LinkedMaps:
    """One row per point of the longest map; a shorter map (t-SNE may embed a prefix) leaves NaN, not drawn."""
    import pandas as pd

    n = max(len(z) for z in maps)
    y = np.asarray(y)[:n]
    cols = {"id": np.arange(n), "class": [class_names[int(c)] if 0 <= c < len(class_names) else str(c) for c in y]}
    for i, z in enumerate(maps):
        z = np.asarray(z, np.float64)
        rx, ry = robust_range(z)
        for axis, r, j in (("x", rx, 0), ("y", ry, 1)):
            col = np.full(n, np.nan)
            col[: len(z)] = (z[:, j] - r[0]) / (r[1] - r[0])
            cols[f"{axis}_{i}"] = col
    return LinkedMaps(pd.DataFrame(cols), tuple(labels))


def linked_maps(maps: LinkedMaps, titles: list[tuple[str, str]], class_names, per_row: int = 4):
    """The chart: one view per map (title, subtitle), coloured by class; a box dragged in any view (Vega-Lite
    interval "box") or points clicked (point "pick", shift-click for more) stay bright in every view, the rest fade.
    Double-click clears."""
    import altair as alt

    box = alt.selection_interval(name="box", resolve="global", clear="dblclick")
    pick = alt.selection_point(name="pick", fields=["id"], clear="dblclick")
    colour = alt.Color("class:N", legend=None, scale=alt.Scale(
        domain=list(class_names), range=[CLASS_COLOURS[i % len(CLASS_COLOURS)] for i in range(len(class_names))]))
    base = alt.Chart(maps.frame).mark_circle(size=18, clip=True)
    views = []
    for i, (title, subtitle) in enumerate(titles):
        views.append(base.encode(
            x=alt.X(f"x_{i}:Q", axis=None, scale=alt.Scale(domain=[0, 1])),
            y=alt.Y(f"y_{i}:Q", axis=None, scale=alt.Scale(domain=[0, 1])),
            color=colour,
            opacity=alt.when(box & pick).then(alt.value(0.8)).otherwise(alt.value(0.08)),
            # clicked points grow and get an outline, so a few can be found among a thousand
            size=alt.when(pick, empty=False).then(alt.value(90)).otherwise(alt.value(18)),
            stroke=alt.when(pick, empty=False).then(alt.value("black")).otherwise(alt.value(None)),
            tooltip=[alt.Tooltip("class:N"), alt.Tooltip("id:Q", title="test point")],
        ).add_params(box, pick).properties(
            width=MAP_SIDE, height=MAP_SIDE,
            title=alt.TitleParams(title, subtitle=subtitle, fontSize=13, subtitleFontSize=11, anchor="start")))
    with warnings.catch_warnings():
        # Altair's concat lifts the views' params to the top and says it merged the identical "box" and "pick":
        # that sharing is the linking meant here.
        warnings.filterwarnings("ignore", "Automatically deduplicated selection parameter", UserWarning)
        chart = alt.concat(*views, columns=per_row)
    return chart.configure_view(stroke="#ddd").properties(usermeta={"embedOptions": {"renderer": MAPS_RENDERER}})


def chart_selection(event) -> dict:
    """The selections of an st.altair_chart event, by parameter name ({} before any event, or for one that is
    not a selection event)."""
    try:
        return dict(event["selection"] or {})
    except (KeyError, TypeError, ValueError):
        return {}


def linked_pick(event, maps: LinkedMaps) -> tuple[list[int], str | None]:
    """The test-point ids a linked_maps selection event holds, and the label of the map it was made in
    (None for clicked points, which are the same points in every map). A box holds the points inside it."""
    sel = chart_selection(event)
    box = dict(sel.get("box") or {})
    xs = [k for k in box if k.startswith("x_") and k[2:].isdigit()]
    if xs and f"y_{xs[0][2:]}" in box:
        i = xs[0][2:]
        x, y = maps.frame[f"x_{i}"].to_numpy(), maps.frame[f"y_{i}"].to_numpy()
        (x0, x1), (y0, y1) = sorted(box[f"x_{i}"]), sorted(box[f"y_{i}"])
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        label = maps.labels[int(i)] if int(i) < len(maps.labels) else None
        return maps.frame["id"].to_numpy()[inside].astype(int).tolist(), label
    ids = set()
    for p in sel.get("pick") or []:
        try:
            ids.add(int(dict(p)["id"]))
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(i for i in ids if 0 <= i < len(maps.frame)), None


def robust_range(z: np.ndarray, q: float = 0.5, pad: float = 0.06) -> tuple[list[float], list[float]]:
    """Axis ranges (x, y) that hold all but the q % most outlying points at each end, padded.

    An unbounded code (a plain AE's) puts a few hundred of 10,000 points far out, and an axis fitted
    to every point squeezes the rest into a corner. The outliers are still drawn: zooming out shows them.
    """
    z = np.asarray(z, dtype=np.float64)
    lo, hi = np.percentile(z, [q, 100 - q], axis=0)
    span = np.maximum(hi - lo, 1e-9)
    return ([float(lo[0] - pad * span[0]), float(hi[0] + pad * span[0])],
            [float(lo[1] - pad * span[1]), float(hi[1] + pad * span[1])])
