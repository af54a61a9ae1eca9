"""Manifold page: the curse of dimensionality (samples needed for a fixed density, distance concentration,
the inscribed ball's vanishing volume) and the manifold hypothesis (random pixels vs decoded latent
samples; reconstruction errors on and off the manifold, with the off-manifold detector's threshold).

Widgets and figures only: the maths is ae_core.manifold; the cached calls are in ui/cache.py.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ae_core import manifold
from ui import cache, path
from ui.widgets import lazy_tabs, selection, show_grid

st.title("Manifold & dimensionality")
path.intro(__file__)
st.markdown(
    "Why can a 16-number code describe a 784-pixel digit? Because high-dimensional space is absurdly big and "
    "mostly empty, and real images occupy a thin, low-dimensional **manifold** inside it."
)



def samples_needed() -> None:
    st.subheader("Keeping the same density takes exponentially many samples")
    c1, c2 = st.columns([1, 2])
    st.session_state.setdefault("mf_per_axis", 10)
    per_axis = c1.slider("Samples per unit interval (per axis)", 2, 20, key="mf_per_axis")
    rows = manifold.density_table(10, per_axis)
    c1.dataframe([{"dimensions": r["d"], "samples needed": f"{r['samples']:,}"} for r in rows], hide_index=True)
    fig = go.Figure(go.Bar(x=[r["d"] for r in rows], y=[r["samples"] for r in rows],
                           text=[f"{r['samples']:,}" for r in rows], textposition="outside"))
    fig.update_layout(yaxis=dict(type="log", title="samples needed (log scale)", exponentformat="power"),
                      xaxis=dict(title="dimensions", dtick=1),
                      height=380, margin=dict(l=10, r=10, t=30, b=10))
    c2.plotly_chart(fig, key="mf_density")
    s1, s3 = manifold.samples_for_density(1, per_axis), manifold.samples_for_density(3, per_axis)
    c2.markdown(f"{s1:,} samples cover a unit line at {per_axis} per unit; the same spacing in a unit cube takes "
                f"**{s1:,} → {s3:,}** samples, and a {per_axis}-per-axis grid over 784 pixels would need "
                f"{per_axis}^784 — far more than there are atoms in the universe (about 10^80).")


def distances_concentrate() -> None:
    st.subheader("Distances concentrate")
    dist = cache.distance_concentration(500, 0)
    d1, d2 = st.columns([2, 1])
    fig = go.Figure(go.Scatter(x=[r["d"] for r in dist], y=[r["ratio"] for r in dist], mode="lines+markers",
                               hovertext=[f"d={r['d']}: min {r['min']:.3f}, max {r['max']:.3f}" for r in dist],
                               hoverinfo="text"))
    fig.update_layout(xaxis=dict(type="log", title="dimensions (log scale)"),
                      yaxis=dict(type="log", title="(max − min) / min pairwise distance"),
                      height=380, margin=dict(l=10, r=10, t=30, b=10))
    d1.plotly_chart(fig, key="mf_concentration")
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
    fig = go.Figure(go.Scatter(x=dims, y=frac, mode="lines+markers"))
    fig.update_layout(yaxis=dict(type="log", title="fraction of the cube inside the ball (log)", exponentformat="power"),
                      xaxis=dict(title="dimensions", dtick=1), height=360, margin=dict(l=10, r=10, t=30, b=10))
    b1.plotly_chart(fig, key="mf_ball")
    b2.markdown("Fraction of a cube's volume inside the ball that touches its faces, "
                "π^(d/2) / (2^d Γ(d/2 + 1)):")
    b2.dataframe([{"d": d, "fraction": f"{frac[d - 1]:.3g}"} for d in (1, 2, 3, 5, 10, 20)], hide_index=True)


def manifold_hypothesis() -> None:
    sel = selection()
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
    fig = go.Figure()
    top = 0
    for (name, s), colour in zip(err["scores"].items(), ("#1f77b4", "#ff7f0e", "#2ca02c")):
        counts, edges = np.histogram(s, bins=bins)
        top = max(top, int(counts.max()))
        fig.add_trace(go.Bar(x=np.sqrt(edges[:-1] * edges[1:]), y=counts, width=np.diff(edges), name=name, opacity=0.6,
                             marker_color=colour))
    # A trace rather than add_vline: shapes on a log axis take log10 positions, traces take data values.
    fig.add_trace(go.Scatter(x=[thr, thr], y=[0, top], mode="lines", line=dict(color="black", dash="dash"),
                             name="off-manifold threshold (99th percentile of held-out training images)"))
    fig.update_layout(barmode="overlay", xaxis=dict(type="log", title="per-image mean squared reconstruction error (log)"),
                      yaxis_title="images", height=420, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=-0.25))
    st.plotly_chart(fig, key="mf_hist")
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
