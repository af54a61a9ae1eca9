"""Latent space page: the encoder's map of the test images, and what lies between them.

Shows two ideas of DESIGN.md. "An autoencoder learns a manifold": a scatter of the encoded test
split; click a point to see its image and reconstruction, click anywhere (or type a position)
to see what the decoder makes there. "Pixel neighbours are not semantic neighbours": nearest
neighbours and interpolation of a picked image, in pixel space vs in latent space, with the
label agreement measured over the whole test split. Box or lasso a region to see its images, their
reconstructions, counts per class, mean image and decoded mean code (ui.explorer); colour the map by class,
reconstruction error, off-manifold score, a coordinate or a known factor. The picked point, the map and the
colouring live in the URL (ui.share). Maths in ae_core.latent / ae_core.explore; caches in ui.cache.
"""
from __future__ import annotations

import hashlib

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ae_core import evaluate, explore, export, latent
from ui import cache, downloads, explorer, path, share
from ui.upload import upload_panel
from ui.widgets import CLASS_COLOURS, SVG_MAX_POINTS, plotly_points, require, robust_range, show_grid, show_image

K = 8  # neighbours shown per row
STEPS = 9  # interpolation frames
# Invisible clickable points per axis, so that a click on "empty" space still selects something: on the
# 560-px map they sit about 20 px apart, so every click is within plotly's 20-px hover distance of one. (60 per
# axis cost the first render about 0.5 s more as SVG, for a finer snap than a click needs; the spot's own
# number inputs take any position.)
GRID = 32
KIND_TEST, KIND_TRAIN, KIND_GRID, KIND_MARK = explorer.KIND_TEST, explorer.KIND_TRAIN, 2, 3
# The maps of a code above 2-D: radio label -> Projector method (also the `map` link parameter's value).
MAPS = {"PCA": "pca", "Two coordinates": "coords", "t-SNE": "tsne", "UMAP": "umap"}

st.title("Latent space")
path.intro(__file__)
st.caption("An autoencoder learns a manifold: the encoder maps each image to a point of a small latent space, "
           "the decoder turns any point back into an image. Distances on this map are meant to follow what the "
           "digits are, not how many pixels they share — the neighbours below measure how well they do.")

sel = require("explore a latent space")
ds, model = sel.dataset, sel.model

D = model.latent_dim
y_test, n_test = ds.y_test, len(ds.x_test)
z_test = cache.encoded(sel.key, ds.name, "test")
names = list(ds.class_names)


def _cls(y) -> str:
    return names[int(y)] if 0 <= int(y) < len(names) else str(int(y))


# ------------------------------------------------------------------ map options
opt = st.columns([3, 1, 1, 2])
method, coords = "pca", (0, 1)
if D > 2:
    stats = cache.latent_stats(sel.key, ds.name)
    linked = share.read("map", lambda v: explorer.parse_map(v, list(MAPS.values()), D))
    if linked is not None:
        st.session_state["ls_method"] = next(k for k, v in MAPS.items() if v == linked[0])
        if linked[1] is not None:
            st.session_state["ls_ci"], st.session_state["ls_cj"] = linked[1]
    choice = opt[0].radio("Map of the latent space", list(MAPS), horizontal=True,
                          key="ls_method", help=f"The codes are {D}-dimensional; pick how to draw them flat.")
    method = MAPS[choice]
    if method == "coords":
        top = [int(d) for d in stats.order[:2]]
        i = opt[1].selectbox("Across", range(D), index=top[0], format_func=lambda d: f"z{d}", key="ls_ci")
        j = opt[2].selectbox("Up", range(D), index=top[1], format_func=lambda d: f"z{d}", key="ls_cj")
        if i == j:
            st.warning("Pick two different coordinates.")
            j = top[1] if i != top[1] else top[0]
        coords = (int(i), int(j))
else:
    share.read("map", lambda v: None)  # a 2-D code is drawn as it is: a link's map does not apply
share.write("map", method if method != "coords" else f"coords:{coords[0]},{coords[1]}", "pca")
with_train = opt[3].checkbox("Add the training split", key="ls_train",
                             help=f"{len(ds.x_train):,} more points, drawn under the test points.")

if method == "tsne":
    n_pts = n_test + (len(ds.x_train) if with_train else 0)
    with st.spinner(f"t-SNE on {min(n_pts, latent.TSNE_MAX_POINTS)} codes (about 10–30 s, once per model)…"):
        proj = cache.latent_map(sel.key, ds.name, method, coords, with_train)
elif method == "umap":
    n_pts = n_test + (len(ds.x_train) if with_train else 0)
    with st.spinner(f"UMAP on {min(n_pts, latent.UMAP_MAX_POINTS):,} codes: about 15 s the first time while numba "
                    "compiles UMAP, then about 10 s per map (once per model; every visitor shares it)…"):
        proj = cache.latent_map(sel.key, ds.name, method, coords, with_train)
else:
    proj = cache.latent_map(sel.key, ds.name, method, coords, with_train)
emb = proj.embedding_
map_id = hashlib.sha1(repr((sel.key, ds.name, method, coords)).encode()).hexdigest()[:10]
spot_keys = (f"ls_spot_{map_id}_0", f"ls_spot_{map_id}_1")

# ------------------------------------------------------------------ picked image (persists across reruns)
linked_pick = share.read("pick", lambda v: explorer.parse_pick(v, n_test, len(ds.x_train)))
if linked_pick is not None:
    st.session_state["ls_pick"] = linked_pick
pick = st.session_state.get("ls_pick")
if not (isinstance(pick, tuple) and pick[0] in ("test", "train")
        and 0 <= pick[1] < (n_test if pick[0] == "test" else len(ds.x_train))):
    pick = ("test", 0)
    st.session_state["ls_pick"] = pick
share.write("pick", explorer.pick_text(pick), "test:0")
prev = st.session_state.get("ls_prev")


def _split(name):
    return (ds.x_test, ds.y_test) if name == "test" else (ds.x_train, ds.y_train)


def _map_pos(p) -> np.ndarray:
    """Where a (split, index) sits on the map."""
    if p[0] == "test":
        return emb[p[1]]
    if with_train:
        return emb[n_test + p[1]]
    return proj.transform(cache.encoded(sel.key, ds.name, "train")[p[1]])[0]


x_pick = _split(pick[0])[0][pick[1]]
y_pick = _split(pick[0])[1][pick[1]]
z_pick = cache.encoded(sel.key, ds.name, pick[0])[pick[1]]
pos_pick = _map_pos(pick)
for k_, v in zip(spot_keys, pos_pick):
    st.session_state.setdefault(k_, float(v))


def _on_select(keys=spot_keys):
    event = st.session_state.get("ls_map")
    region = explorer.region_points(event)
    if region is not None:  # a box or a lasso: the selection panel shows it; the picked image stays
        st.session_state["ls_region"] = region
        return
    pts = plotly_points(event)
    if not pts:
        return
    p = pts[0]
    cd = list(p.get("customdata") or []) + [KIND_MARK, -1]
    kind, idx = int(cd[0]), int(cd[1])
    if kind in (KIND_TEST, KIND_TRAIN):
        new = ("test" if kind == KIND_TEST else "train", idx)
        if new != st.session_state.get("ls_pick"):
            st.session_state["ls_prev"] = st.session_state.get("ls_pick")
        st.session_state["ls_pick"] = new
    if "x" in p and "y" in p:
        st.session_state[keys[0]], st.session_state[keys[1]] = float(p["x"]), float(p["y"])


# Containers fix the layout order while the upload (drawn last) is processed before the map.
colouring, shown_classes = explorer.controls(sel, n_test, len(ds.x_train), names)
c_map, c_panel = st.columns([3, 2])
c_sel = st.container()
c_nbrs = st.container()
c_interp = st.container()
c_upload = st.container()

# ------------------------------------------------------------------ upload
up = None  # (image as the model sees it, code, reconstruction)
with c_upload:
    st.subheader("Your own image")
    ups = upload_panel(tuple(model.input_shape), "ls_upload",
                       label="Upload a picture of a digit: a photo, a scan or a drawing "
                             "(dark ink on light paper or the reverse)")
    if ups:
        img = ups[0][1]
        r_up = explore.reconstruct_one(model, img)
        up = (img, r_up.code, r_up.reconstruction)
        u1, u2, u3 = st.columns(3)
        with u1:
            show_image(img, "what the model sees", 168)
        with u2:
            show_image(r_up.reconstruction, "its reconstruction", 168)
        with u3:
            st.metric("PSNR", f"{r_up.psnr:.1f} dB")
            st.metric("Squared error", f"{r_up.sse:.1f}")
            st.caption("Marked ★ on the map. A picture unlike the training digits lands off the "
                       "manifold and comes back as the nearest digit the decoder knows.")

# ------------------------------------------------------------------ the map
spot = np.array([st.session_state[spot_keys[0]], st.session_state[spot_keys[1]]], np.float32)
with c_map:
    fig = go.Figure()
    ax_x, ax_y = proj.axis_labels()
    # The view (and the clickable grid) spans all but the most outlying 0.5 % of codes at each end: a plain
    # AE's unbounded code puts a few far out, which would squeeze the rest into a corner.
    rx, ry = robust_range(emb)
    lo, hi = np.array([rx[0], ry[0]]), np.array([rx[1], ry[1]])
    pad = np.zeros(2)
    # SVG up to SVG_MAX_POINTS (ui.widgets): a GPU-less browser draws WebGL in software, and its first WebGL
    # chart costs more than a thousand SVG points; the training split's thousands go to WebGL.
    trace = go.Scattergl if len(emb) > SVG_MAX_POINTS else go.Scatter
    if proj.invertible:
        gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], GRID)
        gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], GRID)
        gxx, gyy = np.meshgrid(gx, gy)
        fig.add_trace(trace(
            x=gxx.ravel(), y=gyy.ravel(), mode="markers", showlegend=False, name="decode here",
            marker=dict(size=9, opacity=0.0, color="#888"),
            customdata=np.column_stack([np.full(gxx.size, KIND_GRID), np.arange(gxx.size)]),
            hovertemplate="decode here (%{x:.2f}, %{y:.2f})<extra></extra>"))
    ys = np.concatenate([y_test, ds.y_train]) if with_train else y_test
    kinds = np.r_[np.full(n_test, KIND_TEST), np.full(len(ys) - n_test, KIND_TRAIN)]
    idxs = np.r_[np.arange(n_test), np.arange(len(ys) - n_test)]
    keep_m = np.isin(ys, shown_classes)
    if colouring == "class":
        for c in np.unique(ys[keep_m]):
            m = ys == c
            fig.add_trace(trace(
                x=emb[m, 0], y=emb[m, 1], mode="markers", name=_cls(c),
                marker=dict(size=5, color=CLASS_COLOURS[int(c) % len(CLASS_COLOURS)], opacity=0.8),
                customdata=np.column_stack([kinds[m], idxs[m]]),
                hovertemplate=f"{_cls(c)} · #%{{customdata[1]}}<extra></extra>"))
    else:
        # One trace with a colour per point and a colour bar: 70,000 points stay one WebGL draw call.
        vals = explorer.colour_values(sel, colouring, with_train)
        label = next(c.label for c in explore.colourings(D, explore.factor_columns(ds, "test"))
                     if c.key == colouring)
        m = keep_m
        lo_v, hi_v = np.nanpercentile(vals[m], [1, 99]) if m.any() else (0.0, 1.0)
        fig.add_trace(trace(
            x=emb[m, 0], y=emb[m, 1], mode="markers", name=label, showlegend=False,
            marker=dict(size=5, color=vals[m], colorscale="Viridis", cmin=float(lo_v), cmax=float(max(hi_v, lo_v + 1e-9)),
                        opacity=0.85, colorbar=dict(title=dict(text=label.split(" (")[0], side="right"), thickness=14)),
            customdata=np.column_stack([kinds[m], idxs[m], ys[m], vals[m]]),
            hovertemplate="#%{customdata[1]} · class %{customdata[2]} · %{customdata[3]:.3g}<extra></extra>"))
    marks = [(pos_pick, "picked", "circle-open", 16, "black")]
    if proj.invertible:
        marks.append((spot, "decoded spot", "x-thin-open", 14, "black"))
    if up is not None:
        marks.append((proj.transform(up[1])[0], "your upload", "star", 18, "gold"))
    for p, label, symbol, size, color in marks:
        fig.add_trace(go.Scatter(
            x=[p[0]], y=[p[1]], mode="markers", name=label,
            marker=dict(symbol=symbol, size=size, color=color, line=dict(width=2, color="black")),
            customdata=[[KIND_MARK, -1]], hovertemplate=f"{label}<extra></extra>"))
    fig.update_xaxes(range=rx)
    fig.update_yaxes(range=ry)
    fig.update_layout(height=560, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=ax_x, yaxis_title=ax_y,
                      legend=dict(itemsizing="constant"), hovermode="closest",
                      title=f"{'test' + (' + train' if with_train else '')} codes of {sel.model_name}")
    if colouring != "class":  # the colour bar takes the right edge: the markers' legend goes above the plot
        fig.update_layout(legend=dict(orientation="h", x=1, xanchor="right", y=1.0, yanchor="bottom"))
    st.plotly_chart(fig, on_select=_on_select, selection_mode=("points", "box", "lasso"), key="ls_map")
    st.caption("Click a point to pick that image" + ("; click anywhere else to decode that spot" if proj.invertible
               else "") + ". The box and lasso tools above the map select a region. Double-click resets the zoom."
               + (" Colours span the 1st to 99th percentile." if colouring != "class" else ""))
    explorer.embeddings_download(sel, proj, emb, with_train, names)
    if method == "tsne" and len(emb) > latent.TSNE_MAX_POINTS:
        st.caption(f"t-SNE embedded {latent.TSNE_MAX_POINTS:,} of these {len(emb):,} codes (a seeded random sample: "
                   f"its cost grows fastest with the points, minutes for all of them on two cores); each other code "
                   f"sits at the mean position of its 5 nearest embedded codes.")
    if method == "umap":
        n_fit = min(len(emb), latent.UMAP_MAX_POINTS)
        st.caption(f"UMAP was fitted on {n_fit:,} of these {len(emb):,} codes"
                   + (" (a seeded random sample)" if n_fit < len(emb) else "")
                   + "; other codes, and any image you upload, are placed by its out-of-sample transform, as the "
                     "encoder places a new image (t-SNE cannot do that).")

# ------------------------------------------------------------------ picked image and decoded spot
with c_panel:
    r_pick = explore.reconstruct_one(model, x_pick)  # one image: a whole 60,000-image split is not needed
    rec = r_pick.reconstruction
    st.markdown(f"**Picked: {pick[0]} image #{pick[1]}**, label **{_cls(y_pick)}**")
    p1, p2, p3 = st.columns(3)
    with p1:
        show_image(x_pick, "image", 140)
    with p2:
        show_image(rec, "reconstruction", 140)
    with p3:
        show_image(r_pick.error_map, "squared error (scaled)", 140)
    m1, m2 = st.columns(2)
    m1.metric("Squared error", f"{r_pick.sse:.2f}")
    m2.metric("PSNR", f"{r_pick.psnr:.1f} dB")
    downloads.button("Image and reconstruction (PNG)", lambda: export.strip_png([np.stack([x_pick, rec])], scale=4),
                     f"{pick[0]}_{pick[1]}_reconstruction.png", "ls_dl_pick",
                     help="The picked image beside its reconstruction, 4x enlarged (every pixel a square).")

    st.markdown("**Decode any spot of the map**")
    if proj.invertible:
        s1, s2 = st.columns(2)
        s1.number_input(ax_x.split(" (")[0], step=0.1, format="%.3f", key=spot_keys[0])
        s2.number_input(ax_y.split(" (")[0], step=0.1, format="%.3f", key=spot_keys[1])
        z_spot = proj.inverse_transform(spot[None])
        dec = evaluate.decode(model, z_spot)[0]
        d1, d2 = st.columns(2)
        with d1:
            show_image(dec, "decoder output at ×", 140)
            downloads.button("PNG", lambda: export.image_png(dec), "decoded_spot.png", "ls_dl_spot",
                             help="The decoder's image at × as a PNG, 4x enlarged.")
        with d2:
            if D == 2:
                st.caption("The decoder draws something at every point of the plane; far from the "
                           "coloured points it has never seen a digit and the output degrades.")
            else:
                where = ("on the PCA plane through the mean code" if method == "pca"
                         else "with the other coordinates at their training mean")
                st.caption(f"Many {D}-D codes fall on one spot of this map; this decodes the one {where}.")
    else:
        st.caption(f"A {'t-SNE' if method == 'tsne' else 'UMAP'} map has no inverse: a spot between points is not "
                   "any code. Use PCA or two coordinates to decode arbitrary spots.")

# ------------------------------------------------------------------ the selection (box or lasso)
region = st.session_state.get("ls_region")
if isinstance(region, dict):
    region = {s: v[(v >= 0) & (v < len(_split(s)[0]))] for s, v in region.items() if s in ("test", "train")}
    with c_sel:
        def _emb_of(split, idx):
            if split == "test":
                return emb[idx]
            return emb[n_test + idx] if with_train else proj.transform(cache.encoded(sel.key, ds.name, "train")[idx])
        explorer.selection_panel(sel, region, _emb_of, names, proj)

# ------------------------------------------------------------------ neighbours
with c_nbrs:
    st.subheader("Nearest neighbours: pixel space vs latent space")
    exclude = pick[1] if pick[0] == "test" else -1
    pix, lat = latent.neighbours(x_pick, ds.x_test, z_pick, z_test, K, exclude=exclude)
    q, r = st.columns([1, 7])
    with q:
        show_image(x_pick, f"picked ({_cls(y_pick)})", 84)
    with r:
        for label, idx in (("Pixel space", pix), ("Latent space", lat)):
            n_same = latent.share_label(y_test, idx, y_pick)
            st.markdown(f"**{label}** — {n_same} of {len(idx)} share its label "
                        f"({', '.join(_cls(v) for v in y_test[idx])})")
            show_grid(ds.x_test[idx], len(idx), scale=3)
    downloads.button("Neighbour strips (PNG)", lambda: export.strip_png([ds.x_test[pix], ds.x_test[lat]], scale=3),
                     f"neighbours_{pick[0]}_{pick[1]}.png", "ls_dl_nbrs",
                     help="Top row: the pixel-space neighbours; bottom row: the latent-space neighbours.")
    pix_frac, lat_frac = cache.pixel_agreement(ds.name, K), cache.latent_agreement(sel.key, ds.name, K)
    verdict = ("more often in latent space" if lat_frac > pix_frac + 0.01 else
               "more often in pixel space" if pix_frac > lat_frac + 0.01 else "about as often in both")
    st.caption(f"Measured over all {n_test} test images (Euclidean distance in both spaces): {pix_frac:.0%} of the "
               f"{K} nearest pixel-space neighbours share the image's label, {lat_frac:.0%} of the {K} nearest "
               f"latent-space neighbours: here labels agree {verdict} ({sel.model_name}, a {D}-D code).")

# ------------------------------------------------------------------ interpolation
with c_interp:
    st.subheader("Interpolation: pixel space vs latent space")
    other = int(np.flatnonzero(y_test != y_pick)[0]) if (y_test != y_pick).any() else (pick[1] + 1) % n_test
    # An index box, not a list of every test image: full MNIST would send 10,000 options to the browser.
    to = st.selectbox("Morph the picked image into", ["previous click", "a test image by its index"], key="ls_to")
    if to != "previous click":
        to = int(st.number_input(f"Test image index (0–{n_test - 1})", 0, n_test - 1, other, key="ls_to_idx"))
        st.caption(f"test #{to}: a {_cls(y_test[to])}")
    if to == "previous click":
        if prev is not None and tuple(prev) != pick and 0 <= prev[1] < len(_split(prev[0])[0]):
            b = tuple(prev)
        else:
            b = ("test", other)
            st.caption(f"No earlier click yet: using test #{other} ({_cls(y_test[other])}). "
                       "Click another point on the map, or pick an image here.")
    else:
        b = ("test", int(to))
    x_b = _split(b[0])[0][b[1]]
    st.markdown(f"**Pixel space** (cross-fade): {_cls(y_pick)} → {_cls(_split(b[0])[1][b[1]])}")
    strip_pix = latent.interpolate_pixels(x_pick, x_b, STEPS)
    show_grid(strip_pix, STEPS, scale=3)
    st.markdown("**Latent space** (decode the codes on the straight line between the two codes)")
    strip_lat = latent.interpolate_latent(model, x_pick, x_b, STEPS)
    show_grid(strip_lat, STEPS, scale=3)
    downloads.button("Interpolation strips (PNG)", lambda: export.strip_png([strip_pix, strip_lat], scale=3),
                     "interpolation.png", "ls_dl_interp", help="Top row: the cross-fade; bottom row: the latent morph.")
    st.caption("The cross-fade's middle frames are two ghosts laid on top of each other: the straight line in pixel "
               "space leaves the manifold of digits. The latent morph decodes every frame, so each one is an image "
               "the decoder can make — a digit, if the model is good (its ends are the reconstructions).")
path.next_link(__file__)
