"""Latent space page: the encoder's map of the test images, and what lies between them.

Shows two ideas of DESIGN.md. "An autoencoder learns a manifold": a scatter of the encoded test
split; click a point to see its image and reconstruction, click anywhere (or type a position)
to see what the decoder makes there. "Pixel neighbours are not semantic neighbours": nearest
neighbours and interpolation of a picked image, in pixel space vs in latent space, with the
label agreement measured over the whole test split. Drag a box around a region to see its images, their
reconstructions, counts per class, mean image and decoded mean code (ui.explorer); colour the map by class,
reconstruction error, off-manifold score, a coordinate or a known factor. The picked point, the map and the
colouring live in the URL (ui.share). Maths in ae_core.latent / ae_core.explore; caches in ui.cache.
"""
from __future__ import annotations

import functools
import hashlib

import numpy as np
import streamlit as st

from ae_core import evaluate, explore, export, latent
from ui import cache, downloads, explorer, path, share
from ui.upload import upload_panel
from ui.widgets import require, robust_range, show_grid, show_image

K = 8  # neighbours shown per row
STEPS = 9  # interpolation frames
KIND_TEST, KIND_TRAIN, KIND_MARK = explorer.KIND_TEST, explorer.KIND_TRAIN, explorer.KIND_MARK
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


def _on_select(frame, keys=spot_keys):
    """A box dragged on the map: the selection panel shows its points (the picked image stays). A click on a
    point picks its image; a click on a point or an empty spot (the nearest grid cell) decodes there."""
    what, value, st.session_state["ls_map_seen"] = explorer.map_change(st.session_state.get("ls_map"),
                                                                       st.session_state.get("ls_map_seen"))
    if what == "box":
        st.session_state["ls_region"] = explorer.region_points(frame, value)
    elif what == "click":
        kind, idx, x, y = value
        if kind in (KIND_TEST, KIND_TRAIN):
            new = ("test" if kind == KIND_TEST else "train", idx)
            if new != st.session_state.get("ls_pick"):
                st.session_state["ls_prev"] = st.session_state.get("ls_pick")
            st.session_state["ls_pick"] = new
        if kind != KIND_MARK:  # a click on a marker (the ring, the cross, the star) changes nothing
            st.session_state[keys[0]], st.session_state[keys[1]] = x, y


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
    # The view spans all but the most outlying 0.5 % of codes at each end: a plain AE's unbounded code puts a
    # few far out, which would squeeze the rest into a corner (the wheel zooms out to them).
    rx, ry = robust_range(emb)
    ax_x, ax_y = proj.axis_labels()
    ys = np.concatenate([y_test, ds.y_train]) if with_train else y_test
    kinds = np.r_[np.full(n_test, KIND_TEST), np.full(len(ys) - n_test, KIND_TRAIN)]
    idxs = np.r_[np.arange(n_test), np.arange(len(ys) - n_test)]
    keep_m = np.isin(ys, shown_classes)
    label, v_range, vals = None, None, None
    if colouring != "class":
        vals = explorer.colour_values(sel, colouring, with_train)[keep_m]
        label = next(c.label for c in explore.colourings(D, explore.factor_columns(ds, "test")) if c.key == colouring)
        lo_v, hi_v = np.nanpercentile(vals, [1, 99]) if len(vals) else (0.0, 1.0)
        v_range = (float(lo_v), float(max(hi_v, lo_v + 1e-9)))
    frame = explorer.map_frame(emb[keep_m], kinds[keep_m], idxs[keep_m], [_cls(c) for c in ys[keep_m]], vals)
    marks = [(pos_pick, "picked")] + ([(spot, "decoded spot")] if proj.invertible else [])
    if up is not None:
        marks.append((proj.transform(up[1])[0], "your upload"))
    chart = explorer.map_chart(
        frame, frame_range=(rx, ry), axis_titles=(ax_x, ax_y), class_names=names, value_label=label,
        value_range=v_range, grid=proj.invertible, marks=marks,
        title=f"{'test' + (' + train' if with_train else '')} codes of {sel.model_name}")
    st.altair_chart(chart, on_select=functools.partial(_on_select, frame), selection_mode=("pick", "box"),
                    key="ls_map", width="stretch")
    st.caption("Click a point to pick that image" + ("; click anywhere else to decode that spot" if proj.invertible
               else "") + ". Drag a box to select a region. Scroll to zoom, shift-drag to pan, double-click to "
               "reset." + (" Colours span the 1st to 99th percentile." if colouring != "class" else ""))
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

# ------------------------------------------------------------------ the selection (a box)
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
