"""Shared page widgets: crisp image display, the current selection, widget values kept in lazy sections."""
from __future__ import annotations

import functools
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
# Vega-Lite 0.62 s. Plotly stays where a chart is clicked, box- or lasso-selected, or 3-D (the latent maps,
# PCA vs AE's maps, the Swiss roll), and for Denoise's arrows from noisy to clean codes (arrowheads are Plotly
# annotations; Vega-Lite has no arrow mark).
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


def plotly_points(event) -> list[dict]:
    """The selected points of an st.plotly_chart selection event (an empty list when there are none).

    Each point's "customdata" is returned as a list: a numpy customdata row reaches the browser
    as a typed array and comes back as {"0": a, "1": b}.
    """
    try:
        pts = list(event["selection"]["points"]) if event else []
    except (KeyError, TypeError):
        return []
    out = []
    for p in pts:
        p = dict(p)
        cd = p.get("customdata")
        if isinstance(cd, dict):
            p["customdata"] = [cd[k] for k in sorted(cd, key=lambda k: int(k) if str(k).isdigit() else 0)]
        elif cd is not None and not isinstance(cd, (list, tuple)):
            p["customdata"] = [cd]
        out.append(p)
    return out


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


def selected_ids(state) -> list[int]:
    """The point ids (`customdata`) picked in a plotly chart's selection state (box, lasso or click)."""
    points = ((state or {}).get("selection") or {}).get("points") or []
    out = set()
    for p in points:
        c = p.get("customdata")
        if isinstance(c, (list, tuple)):
            c = c[0] if c else None
        if c is not None:
            try:
                out.add(int(c))
            except (TypeError, ValueError):
                continue
    return sorted(out)


SVG_MAX_POINTS = 2500


def class_scatter(z: np.ndarray, labels: np.ndarray, class_names, title: str = "",
                  highlight=None, show_legend: bool = True, height: int = 380):
    """2-D points coloured by class (one trace per class, customdata = point index).

    Up to SVG_MAX_POINTS points are drawn as SVG, beyond that with WebGL: a browser keeps only about
    16 WebGL contexts alive and drops the oldest chart's drawing beyond that, which a page of nine
    maps (PCA vs AE with every method) reached on mnist-5k, blanking its first chart.

    With `highlight` (point indices), every other point fades and the highlighted ones are drawn
    on top with a dark outline, so the same points can be found in every chart.
    """
    import plotly.graph_objects as go

    z = np.asarray(z)
    labels = np.asarray(labels)
    idx = np.arange(len(z))
    hl = np.zeros(len(z), bool)
    if highlight is not None and len(highlight):
        hl[np.asarray([i for i in highlight if 0 <= i < len(z)], dtype=int)] = True
    fading = hl.any()
    trace = go.Scattergl if len(z) > SVG_MAX_POINTS else go.Scatter
    fig = go.Figure()
    for c in np.unique(labels):
        m = labels == c
        name = class_names[c] if 0 <= c < len(class_names) else str(c)
        colour = CLASS_COLOURS[int(c) % len(CLASS_COLOURS)]
        fig.add_trace(trace(
            x=z[m, 0], y=z[m, 1], mode="markers", name=name, legendgroup=name, customdata=idx[m],
            marker=dict(size=5, color=colour, opacity=0.12 if fading else 0.75),
            hovertemplate=f"class {name}<br>point %{{customdata}}<extra></extra>", showlegend=show_legend))
    if fading:
        fig.add_trace(trace(
            x=z[hl, 0], y=z[hl, 1], mode="markers", name=f"picked ({int(hl.sum())})", customdata=idx[hl],
            marker=dict(size=7, color=[CLASS_COLOURS[int(c) % len(CLASS_COLOURS)] for c in labels[hl]],
                        line=dict(width=1, color="rgba(0,0,0,0.85)")),
            hovertemplate="point %{customdata}<extra>picked</extra>", showlegend=show_legend))
    fig.update_layout(title=dict(text=title, font=dict(size=14)), height=height, margin=dict(l=10, r=10, t=55, b=10),
                      dragmode="lasso", legend=dict(itemsizing="constant", font=dict(size=10)))
    rx, ry = robust_range(z)
    fig.update_xaxes(showticklabels=False, range=rx)
    fig.update_yaxes(showticklabels=False, range=ry)
    return fig


def robust_range(z: np.ndarray, q: float = 0.5, pad: float = 0.06) -> tuple[list[float], list[float]]:
    """Axis ranges (x, y) that hold all but the q % most outlying points at each end, padded.

    An unbounded code (a plain AE's) puts a few hundred of 10,000 points far out, and plotly's autorange
    then squeezes the rest into a corner. The outliers are still drawn: the chart's "autoscale" button shows them.
    """
    z = np.asarray(z, dtype=np.float64)
    lo, hi = np.percentile(z, [q, 100 - q], axis=0)
    span = np.maximum(hi - lo, 1e-9)
    return ([float(lo[0] - pad * span[0]), float(hi[0] + pad * span[0])],
            [float(lo[1] - pad * span[1]), float(hi[1] + pad * span[1])])
