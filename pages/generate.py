"""Generate & traverse page: one slider per latent coordinate, traversal grids, the 2-D manifold map,
and each coordinate named by the image factor it tracks.

Shows DESIGN.md's "disentangled, dominant factors" idea: coordinates are ranked by how much the
data uses them (code variance, or KL for VAEs), and each is named after the measured factor
(size, slant, stroke width, ...) that follows it best when it is swept, with the Pearson r: a heuristic,
and the page says so. On a dataset with ground-truth factors (sprites, mnist-affine) each coordinate is
named by the true factor it shares most information with instead, beside the MI heatmap, MIG, SAP and
DCI (ui/factors_panel.py).
Maths in ae_core.latent / ae_core.factors; caches in ui.cache.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ae_core import evaluate, export, factors, latent
from ui import cache, downloads, factors_panel, path, share
from ui.widgets import require, show_grid, show_image

MAX_SLIDERS = 16
SPREAD = 3.0  # slider range: mean +- SPREAD * std of the training codes
TRAV_STEPS, TRAV_SPAN = 9, 2.0  # traversal: the test code +- TRAV_SPAN * std, as used to name factors
GRID_N = 15

st.title("Generate & traverse")
path.intro(__file__)
st.caption("A good code has a few dominant coordinates, each controlling one way digits vary — the lecture's "
           "\"v1 is zoom, v2 is rotation\". Move a coordinate, watch the decoder's image change, and see which "
           "measured factor each coordinate tracks.")

sel = require("generate images")
ds, model = sel.dataset, sel.model

D = model.latent_dim
stats = cache.latent_stats(sel.key, ds.name)
named = {n.dim: n for n in cache.factor_names(sel.key, ds.name, MAX_SLIDERS)}
gt = factors_panel.scores(sel)  # ground-truth scores; None where the dataset has no factors
shown = [int(d) for d in stats.order[:MAX_SLIDERS]]
std = stats.spread  # std, floored: a dead coordinate still needs a slider range
lo, hi = stats.mean - SPREAD * std, stats.mean + SPREAD * std
prefix = f"gen_{sel.model_name}"
base_key, seed_key = f"{prefix}_base", f"{prefix}_seed"


def _key(d: int) -> str:
    return f"{prefix}_z{d}"


def _set_code(z: np.ndarray) -> None:
    st.session_state[base_key] = np.asarray(z, np.float32).copy()
    for d in shown:
        st.session_state[_key(d)] = float(np.clip(z[d], lo[d], hi[d]))


def _reset() -> None:
    _set_code(stats.mean)


def _random() -> None:
    st.session_state[seed_key] = st.session_state.get(seed_key, 0) + 1
    _set_code(latent.sample_codes(stats, 1, seed=st.session_state[seed_key])[0])


base = st.session_state.get(base_key)
if not isinstance(base, np.ndarray) or base.shape != (D,):
    _reset()
for d in shown:  # a model retrained under the same name can have moved its ranges
    v = st.session_state.get(_key(d))
    if not isinstance(v, float) or not lo[d] <= v <= hi[d]:
        st.session_state[_key(d)] = float(np.clip(stats.mean[d] if v is None else v, lo[d], hi[d]))
# A shared link's code (?code=z0,z1,...: every coordinate, for this model) sets the sliders once per session.
linked = share.read("code", lambda v: np.asarray(share.floats(v, D), np.float32))
if linked is not None:
    _set_code(linked)


def _label(d: int) -> str:
    if gt is not None:
        return gt.label(d)
    n = named.get(d)
    return n.label if n is not None else f"z{d}"


def _help(d: int) -> str:
    n = named.get(d)
    rs = ", ".join(f"{f} {r:+.2f}" for f, r in (n.rs if n else {}).items() if np.isfinite(r))
    if gt is not None:
        mi = ", ".join(f"{f} {v:.2f}" for f, v in zip(gt.factor_names, gt.nmi[d]))
        return (f"{stats.score} {stats.importance[d]:.3g} (rank {shown.index(d) + 1}). Range: mean ± {SPREAD:g}σ of "
                f"the training codes. Normalised mutual information with each ground-truth factor: {mi}.")
    return (f"{stats.score} {stats.importance[d]:.3g} (rank {shown.index(d) + 1}). Range: mean ± {SPREAD:g}σ of "
            f"the training codes. Pearson r of each factor with this coordinate: {rs or 'none measurable'}.")


# ------------------------------------------------------------------ sliders and the decoded image
st.subheader("Sliders")
factors_panel.naming_note(ds, gt)
if D > MAX_SLIDERS:
    st.caption(f"The {MAX_SLIDERS} most important of {D} coordinates (by {stats.score}); the others stay at "
               "the mean code (or at the random sample).")
# A fragment: a slider move reruns only the sliders and the decoded image, not the traversals, the
# manifold map and the factor table below (benchmarks/browser_bench.py times it against a bare app).
@st.fragment
def sliders_and_image() -> None:
    left, right = st.columns([3, 2])
    with left:
        b1, b2, _ = st.columns([1, 1, 2])
        b1.button("Reset", on_click=_reset, key=f"{prefix}_reset",
                  help="Every coordinate back to the mean of the training codes.")
        b2.button("Random sample", on_click=_random, key=f"{prefix}_random",
                  help="From N(0, I) for a VAE (its prior); otherwise from a Gaussian fitted to the training codes.")
        cols = st.columns(2)
        for n, d in enumerate(shown):
            step = float((hi[d] - lo[d]) / 200)
            cols[n % 2].slider(_label(d), float(lo[d]), float(hi[d]), step=step, format="%.2f", key=_key(d),
                               help=_help(d))
    z = st.session_state[base_key].copy()
    for d in shown:
        z[d] = st.session_state[_key(d)]
    img = evaluate.decode(model, z[None])[0]
    # The mean code (Reset) is the default and stays out of the link.
    share.write("code", share.fmt_floats(z), share.fmt_floats(np.clip(stats.mean, lo, hi)))
    with right:
        show_image(img, "the decoder's image of this code", 280)
        downloads.button("PNG", lambda: export.image_png(img), f"decoded_{sel.model_name}.png", f"{prefix}_dl_img",
                         help="The decoder's image of this code, 4x enlarged (every pixel a square).")
        near = latent.nearest_image(ds.x_train, img)
        show_image(ds.x_train[near], f"closest training image (#{near}, {ds.class_names[ds.y_train[near]]})", 112)


sliders_and_image()

# ------------------------------------------------------------------ traversal grid
st.subheader("Traversals")
idx = st.number_input("Hold the other coordinates at the code of test image #", 0, len(ds.x_test) - 1, 0,
                      key="gen_trav_idx")
z0 = cache.encoded(sel.key, ds.name, "test")[int(idx)]
rows = factors.traversals(model, z0, shown, std, TRAV_STEPS, TRAV_SPAN)
t1, t2 = st.columns([1, 5])
with t1:
    show_image(ds.x_test[int(idx)], f"test #{int(idx)}", 112)
with t2:
    st.caption(f"Each row sweeps one coordinate from −{TRAV_SPAN:g}σ to +{TRAV_SPAN:g}σ around this image's code; "
               "the middle column is its reconstruction.")
    for d, row in zip(shown, rows):
        c1, c2 = st.columns([2, 5])
        c1.markdown(f"<div style='padding-top:14px'>{_label(d)}</div>", unsafe_allow_html=True)
        with c2:
            show_grid(row, TRAV_STEPS, scale=2)
downloads.button("Traversal grid (PNG)", lambda: export.strip_png(list(rows), scale=2),
                 f"traversals_{sel.model_name}_test{int(idx)}.png", "gen_dl_trav",
                 help="One row per coordinate, in the order above.")

if gt is not None:
    factors_panel.show(sel, gt, shown)

# ------------------------------------------------------------------ the manifold map
st.subheader("The decoder's map of the latent plane")
if D == 2:
    dims = (0, 1)
    centre = stats.mean
    st.caption(f"A {GRID_N}×{GRID_N} grid of codes over the training codes' range (0.5th to 99.5th percentile), "
               "decoded: the manifold of digits the model has learnt, laid flat.")
else:
    g1, g2 = st.columns(2)
    gi = g1.selectbox("Across", shown, index=0, format_func=_label, key="gen_gi")
    gj = g2.selectbox("Up", shown, index=1, format_func=_label, key="gen_gj")
    if gi == gj:
        st.warning("Pick two different coordinates.")
        gj = shown[1] if gi != shown[1] else shown[0]
    dims = (int(gi), int(gj))
    centre = z0
    st.caption(f"Two of {D} coordinates swept over the training codes' range (0.5th to 99.5th percentile); "
               f"the others held at test image #{int(idx)}'s code.")
grid = latent.decode_grid(model, centre, dims, ((stats.lo[dims[0]], stats.hi[dims[0]]),
                                                (stats.lo[dims[1]], stats.hi[dims[1]])), GRID_N)
show_grid(grid.reshape(-1, *grid.shape[2:]), GRID_N, scale=2,
          caption=f"→ z{dims[0]} from {stats.lo[dims[0]]:.2f} to {stats.hi[dims[0]]:.2f};  "
                  f"↑ z{dims[1]} from {stats.lo[dims[1]]:.2f} to {stats.hi[dims[1]]:.2f}")
downloads.button("Decoded map (PNG)", lambda: export.grid_png(grid.reshape(-1, *grid.shape[2:]), GRID_N, scale=2),
                 f"manifold_{sel.model_name}_z{dims[0]}_z{dims[1]}.png", "gen_dl_map")

# ------------------------------------------------------------------ factor table
st.subheader("What each coordinate controls")
table = pd.DataFrame([{
    "coordinate": f"z{d}",
    stats.score: float(stats.importance[d]),
    "label": _label(d),
    "best factor": named[d].factor if d in named else None,
    "r": named[d].r if d in named else np.nan,
    "pixel change": named[d].change if d in named else np.nan,
    **{f"r {f}": (named[d].rs.get(f, np.nan) if d in named else np.nan) for f in factors.FACTORS},
} for d in shown])
st.dataframe(table, hide_index=True, height=35 * (len(table) + 1) + 3, column_config={
    c: st.column_config.NumberColumn(format="%.2f" if c.startswith("r") else "%.3f")
    for c in table.columns if c.startswith("r") or c in ("pixel change", stats.score)})
with st.expander("How the factors are measured and named"):
    st.markdown(
        f"Each coordinate is swept over ±{TRAV_SPAN:g}σ around the codes of 8 test images while the others stay "
        "fixed; the decoded images are measured and each factor is correlated with the coordinate (Pearson r, "
        "pooled over the 8 sweeps after centring each). The factor with the largest |r| names the coordinate if "
        f"|r| ≥ {factors.LABEL_R}; otherwise it is *mixed*. Factors often move together (a bigger digit also has "
        "more ink), so read the whole row of r's. *pixel change* is the mean absolute pixel difference between the "
        "two ends of a sweep (pixels in 0–1): a high r on a change of 0.01 is a factor the model barely uses.\n\n"
        + "\n".join(f"- **{f}**: {h}" for f, h in factors.FACTOR_HELP.items()))
path.next_link(__file__)
