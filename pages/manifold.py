"""Manifold page: the curse of dimensionality (samples needed for a fixed density, distance concentration,
the inscribed ball's vanishing volume) and the manifold hypothesis (random pixels vs decoded latent
samples; reconstruction errors on and off the manifold, with the off-manifold detector's threshold).

Widgets and figures only: the maths is ae_core.manifold; the cached calls are in ui/cache.py. Its charts are
Vega-Lite (Altair), not Plotly: nothing here is clicked, and Vega-Lite costs a new visitor's browser a
fraction of Plotly's first load (ui.widgets.vega_chart).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from ae_core import manifold
from ui import cache, path
from ui.widgets import lazy_tabs, selection, show_grid, vega_chart

st.title("Manifold & dimensionality")
path.intro(__file__)
# Tabs 1-3 need no model, but reading the selection here is what gives a fresh server's first deep link to this
# page app.py's navigation (ui.widgets.selection); tab 4 uses it.
SEL = selection()
st.markdown(
    "Why can a 16-number code describe a 784-pixel digit? Because high-dimensional space is absurdly big and "
    "mostly empty, and real images occupy a thin, low-dimensional **manifold** inside it."
)



# A log axis labelled 10^k at its powers of ten only (Vega-Lite's own labels run into each other over 10 decades).
POWERS_OF_TEN = alt.Axis(labelExpr="abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) < 1e-6 ? "
                                   "'10^' + round(log(datum.value) / LN10) : ''")


def samples_needed() -> None:
    st.subheader("Keeping the same density takes exponentially many samples")
    c1, c2 = st.columns([1, 2])
    st.session_state.setdefault("mf_per_axis", 10)
    per_axis = c1.slider("Samples per unit interval (per axis)", 2, 20, key="mf_per_axis")
    rows = manifold.density_table(10, per_axis)
    c1.dataframe([{"dimensions": r["d"], "samples needed": f"{r['samples']:,}"} for r in rows], hide_index=True)
    df = pd.DataFrame({"dimensions": [r["d"] for r in rows], "samples": [r["samples"] for r in rows],
                       "label": [f"{r['samples']:,}" for r in rows]})
    # A log axis has no zero: the bars start at 1 sample. Ticks read 10^k; the table has the exact counts.
    chart = alt.Chart(df).mark_bar().encode(
        x=alt.X("dimensions:O", title="dimensions", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("samples:Q", title="samples needed (log scale)", scale=alt.Scale(type="log"), axis=POWERS_OF_TEN),
        y2=alt.datum(1), tooltip=[alt.Tooltip("dimensions:O"), alt.Tooltip("label:N", title="samples needed")])
    vega_chart(chart, 380, "mf_density", c2)
    s1, s3 = manifold.samples_for_density(1, per_axis), manifold.samples_for_density(3, per_axis)
    c2.markdown(f"{s1:,} samples cover a unit line at {per_axis} per unit; the same spacing in a unit cube takes "
                f"**{s1:,} → {s3:,}** samples, and a {per_axis}-per-axis grid over 784 pixels would need "
                f"{per_axis}^784 — far more than there are atoms in the universe (about 10^80).")


def distances_concentrate() -> None:
    st.subheader("Distances concentrate")
    dist = cache.distance_concentration(500, 0)
    d1, d2 = st.columns([2, 1])
    df = pd.DataFrame({"d": [r["d"] for r in dist], "ratio": [r["ratio"] for r in dist],
                       "min": [r["min"] for r in dist], "max": [r["max"] for r in dist]})
    chart = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("d:Q", title="dimensions (log scale)", scale=alt.Scale(type="log")),
        y=alt.Y("ratio:Q", title="(max − min) / min pairwise distance", scale=alt.Scale(type="log")),
        tooltip=[alt.Tooltip("d:Q"), alt.Tooltip("min:Q", format=".3f"), alt.Tooltip("max:Q", format=".3f"),
                 alt.Tooltip("ratio:Q", title="(max − min) / min", format=".3f")])
    vega_chart(chart, 380, "mf_concentration", d1)
    d2.dataframe([{"d": r["d"], "min": round(r["min"], 3), "max": round(r["max"], 3),
                   "(max−min)/min": round(r["ratio"], 3)} for r in dist], hide_index=True)
    last = dist[-1]
    d2.caption(f"Measured on 500 uniform random points in [0, 1]^d (seed 0). At d = {last['d']} the farthest pair is "
               f"only {last['ratio']:.0%} farther apart than the nearest: 'nearest neighbour' stops meaning much.")


def corners_take_the_volume() -> None:
    st.subheader("The corners take all the volume")
    dims = list(range(1, 21))
    frac = [manifold.ball_fraction(d) for d in dims]
    b1, b2 = st.columns([2, 1])
    df = pd.DataFrame({"dimensions": dims, "fraction": frac})
    chart = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("dimensions:Q", title="dimensions", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("fraction:Q", title="fraction of the cube inside the ball (log)", scale=alt.Scale(type="log"),
                axis=POWERS_OF_TEN),
        tooltip=[alt.Tooltip("dimensions:Q"), alt.Tooltip("fraction:Q", format=".3g")])
    vega_chart(chart, 360, "mf_ball", b1)
    b2.markdown("Fraction of a cube's volume inside the ball that touches its faces, "
                "π^(d/2) / (2^d Γ(d/2 + 1)):")
    b2.dataframe([{"d": d, "fraction": f"{frac[d - 1]:.3g}"} for d in (1, 2, 3, 5, 10, 20)], hide_index=True)


def manifold_hypothesis() -> None:
    sel = SEL
    ds = sel.dataset
    if not ds.is_image or sel.model is None:
        st.info("Pick an image dataset and a model in the sidebar to see the manifold hypothesis measured.")
        return
    key = sel.key
    n_side = 6
    seed = int(st.session_state.get("mf_seed", 0))
    if st.button("New samples", icon=":material/casino:", key="mf_resample"):
        seed = int(np.random.default_rng().integers(1_000_000))
        st.session_state["mf_seed"] = seed
    g1, g2 = st.columns(2)
    with g1:
        st.markdown("**Uniform random pixels**")
        show_grid(manifold.uniform_images(n_side * n_side, ds.sample_shape, seed), n_side, scale=2)
        st.caption("Points drawn uniformly from pixel space. Almost every point of pixel space looks like this; "
                   "you would wait longer than the age of the universe to draw a digit.")
    with g2:
        vae = sel.model.variational
        st.markdown(f"**Decoded from random latent points** (`{sel.model_name}`)")
        show_grid(cache.decoded_samples(key, ds.name, n_side * n_side, seed), n_side, scale=2)
        st.caption("Latent points drawn from N(0, I), this VAE's prior." if vae else
                   "Latent points drawn from a Gaussian with the mean and covariance of the training codes. "
                   "The decoder maps the whole latent space onto a thin surface of digit-like images.")

    st.subheader("Reconstruction error: on and off the manifold")
    err = cache.manifold_errors(key, ds.name, 500, 0)
    thr = err["threshold"]
    bins = manifold.log_bins(list(err["scores"].values()), 60)
    thr_name = "off-manifold threshold (99th percentile of held-out training images)"
    names, colours = list(err["scores"]) + [thr_name], ["#1f77b4", "#ff7f0e", "#2ca02c"][: len(err["scores"])] + ["black"]
    bars = []
    for name, s in err["scores"].items():
        counts, edges = np.histogram(s, bins=bins)
        bars.append(pd.DataFrame({"images": name, "from": edges[:-1], "to": edges[1:], "count": counts}))
    bars = pd.concat(bars, ignore_index=True)
    bars = bars[bars["count"] > 0]
    colour = alt.Color("images:N", scale=alt.Scale(domain=names, range=colours),
                       legend=alt.Legend(orient="top", columns=2, title=None, labelLimit=500))
    x = alt.X("from:Q", title="per-image mean squared reconstruction error (log)", scale=alt.Scale(type="log", nice=False))
    hist = alt.Chart(bars).mark_rect(opacity=0.6).encode(
        x=x, x2="to:Q", y=alt.Y("count:Q", title="images"), y2=alt.datum(0), color=colour,
        tooltip=[alt.Tooltip("images:N"), alt.Tooltip("from:Q", format=".4f"), alt.Tooltip("to:Q", format=".4f"),
                 alt.Tooltip("count:Q", title="images")])
    rule = alt.Chart(pd.DataFrame({"from": [thr], "images": [thr_name]})).mark_rule(strokeDash=[6, 4], size=2).encode(
        x="from:Q", color=colour, tooltip=[alt.Tooltip("from:Q", title="threshold", format=".4f")])
    vega_chart(hist + rule, 420, "mf_hist")
    rows = manifold.error_summary(err["scores"], thr)
    summary = [{"images": r["name"], "n": r["n"], "median error": f"{r['median']:.4f}",
                "flagged off-manifold": f"{r['flagged']:.1%}",
                f"AUROC vs {rows[0]['name']}": "—" if r["auroc"] is None else f"{r['auroc']:.3f}"} for r in rows]
    st.dataframe(summary, hide_index=True)
    st.markdown(
        f"`{sel.model_name}` rebuilds images near its training data well and everything else badly: the density of "
        "real images falls off sharply away from the manifold. The **off-manifold detector** flags an image whose "
        f"error is above **{thr:.4f}**, the 99th percentile of {len(err['heldout'])} held-out training images "
        "(the validation slice the model's training never fitted; the test images are not used to set it). "
        "The Denoise page uses it to flag uploads."
    )


SECTIONS = {"1 · Samples needed": samples_needed, "2 · Distances concentrate": distances_concentrate,
            "3 · Corners take the volume": corners_take_the_volume, "4 · The manifold hypothesis": manifold_hypothesis}
st.caption("Tabs 1–3: the curse of dimensionality. Tab 4: the manifold hypothesis, measured on the model picked in "
           "the sidebar.")
# Each tab's content runs only while it is open: a first visit computes and draws one chart, not five.
lazy_tabs(SECTIONS, "mf_section", keep_keys=("mf_per_axis",))
path.next_link(__file__)
