"""Generate page's ground-truth panel: on a dataset with known factors (`sprites`, `mnist-affine`), the
coordinates × factors mutual-information heatmap, the model's MIG, SAP and DCI, and how far each factor moves
when one coordinate is swept; elsewhere, one line saying the slider names are a heuristic.

Widgets and figures only: the numbers come from ae_core.groundtruth through ui.cache.
"""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ae_core import data, groundtruth
from ui import cache
from ui.widgets import vega_chart

FACTOR_DATASETS = tuple(data.factor_datasets())


def scores(sel) -> groundtruth.Scores | None:
    """The selected model's ground-truth scores, or None when the dataset has no factors."""
    return cache.ground_truth(sel.key, sel.dataset.name) if sel.dataset.has_factors else None


def naming_note(ds, gt: groundtruth.Scores | None) -> None:
    if gt is None:
        st.caption(f"**The slider names here are a heuristic.** {ds.name} has no ground truth: each coordinate is "
                   "named after the image statistic (size, slant, stroke width, …) that follows it when it is "
                   "swept. On the datasets rendered from known factors, "
                   + " and ".join(f"`{n}`" for n in FACTOR_DATASETS)
                   + " (pick one in the sidebar), the names are measured against the true factors instead.")
    else:
        st.caption(f"Each slider is named by the **ground-truth factor** of {ds.name} ("
                   + ", ".join(gt.factor_names) + ") it shares the most information with, with that mutual "
                   f"information over the factor's entropy (0 to 1; below {groundtruth.NAME_MIN:g}: no single "
                   f"factor), measured on {gt.n_eval:,} held-out images.")


def show(sel, gt: groundtruth.Scores, dims: list[int]) -> None:
    """The panel for the coordinates `dims` (in slider order)."""
    st.subheader("Ground-truth factors")
    st.caption("Disentanglement measured, not guessed: the encoder's means of held-out images (a VAE's mean, not a "
               "sample) scored against the factors each image was rendered from.")
    c = st.columns(5)
    c[0].metric("MIG", f"{gt.mig:.3f}", help="Mutual Information Gap (Chen et al. 2018): per factor, the gap between "
                "the two coordinates sharing most information with it, over its entropy; mean over factors. "
                "Each coordinate is cut into 20 bins, as in disentanglement_lib.")
    c[1].metric("SAP", f"{gt.sap:.3f}", help="Separated Attribute Predictability (Kumar et al. 2018): per factor, the "
                "gap in R² between the two coordinates that best predict it linearly; mean over factors.")
    c[2].metric("DCI disentanglement", f"{gt.dci['disentanglement']:.3f}", help="Eastwood & Williams (2018): "
                "does each coordinate matter for one factor only? From gradient-boosted trees' feature importances.")
    c[3].metric("DCI completeness", f"{gt.dci['completeness']:.3f}", help="Is each factor carried by one coordinate only?")
    c[4].metric("DCI informativeness", f"{gt.dci['informativeness']:.3f}", help="How well the trees predict the "
                "factors from the code: mean R² on held-out images.")

    left, right = st.columns(2)
    with left:
        nmi = gt.nmi[dims]
        cells = pd.DataFrame([{"coordinate": f"z{d}", "factor": f, "mi": float(nmi[i, j])}
                              for i, d in enumerate(dims) for j, f in enumerate(gt.factor_names)])
        base = alt.Chart(cells, title="Mutual information: coordinates × factors").encode(
            x=alt.X("factor:N", title=None, sort=list(gt.factor_names), axis=alt.Axis(labelAngle=0, orient="top")),
            y=alt.Y("coordinate:N", title=None, sort=[f"z{d}" for d in dims]))
        heat = base.mark_rect().encode(
            color=alt.Color("mi:Q", title="MI / H", scale=alt.Scale(scheme="blues", domain=[0, 1])),
            tooltip=[alt.Tooltip("coordinate:N"), alt.Tooltip("factor:N"), alt.Tooltip("mi:Q", title="MI / H", format=".3f")])
        # Dark cells get white figures, as a heatmap's own labels would.
        figures = base.mark_text(fontSize=11).encode(
            text=alt.Text("mi:Q", format=".2f"),
            color=alt.condition(alt.datum.mi > 0.5, alt.value("white"), alt.value("black")))
        vega_chart(heat + figures, 80 + 28 * len(dims), "gt_heatmap")
        st.caption("Normalised mutual information I(z_i; v_j) / H(v_j). A disentangled code has one bright cell per "
                   "row and per column.")
    with right:
        moved = cache.traversal_effect(sel.key, sel.dataset.name, tuple(dims))
        table = pd.DataFrame(moved, columns=list(gt.factor_names))
        table.insert(0, "swept", [gt.label(d) for d in dims])
        st.markdown("**How far each factor moves when one coordinate is swept**")
        st.dataframe(table, hide_index=True, height=35 * (len(table) + 1) + 3, column_config={
            f: st.column_config.ProgressColumn(f, min_value=0.0, max_value=1.0, format="%.2f") for f in gt.factor_names})
        st.caption("Each coordinate swept over ±2σ around the codes of 8 test images, the others held. The decoded "
                   "images have no factors of their own, so each is given those of its nearest training image "
                   "(pixels); the figure is that factor's range over the sweep as a fraction of its whole range, "
                   "averaged over the 8 sweeps.")
    per = ", ".join(f"{f} {v:.2f}" for f, v in zip(gt.factor_names, gt.mig_per_factor))
    st.caption(f"MIG per factor: {per}. dSprites' orientation cannot be fully recovered by any code: a square "
               "looks the same every 90°, an ellipse every 180°.")
