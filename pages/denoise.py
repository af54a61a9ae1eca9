"""Denoise page: noisy | plain AE | DAE | SDAE | classical filters | clean, with PSNR / SSIM per image,
first-layer filters per noise level, and arrows from noisy codes to clean codes in latent space.

Widgets and figures only: the maths is ae_core.denoise (and ae_core.manifold for the off-manifold
flag); the cached calls are in ui/cache.py.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ae_core import denoise, export, images, metrics, models, noise, store
from ui import cache, downloads, path, share
from ui.upload import upload_panel
from ui.widgets import keep, off_manifold_note, require, show_grid, show_image

NOISE_LABELS = {"masking": "Masking (pixels set to 0)", "gaussian": "Gaussian", "salt-pepper": "Salt and pepper",
                "none": "None (already noisy)"}
LEVELS = {"masking": ("fraction of pixels zeroed", 0.0, 0.9, 0.5), "gaussian": ("sigma", 0.0, 1.0, 0.5),
          "salt-pepper": ("fraction of pixels hit", 0.0, 0.6, 0.2)}
# "Plain": kinds that are not trained on corrupted input by default (all but dae and sdae), from the zoo itself.
PLAIN_KINDS = tuple(k for k, kind in models.KINDS.items() if "noise" not in kind.defaults)
MAX_IMAGES = 8
THUMB = 112

st.title("Denoise")
path.intro(__file__)
st.markdown(
    "A **denoising autoencoder** (DAE) is trained to map a corrupted image back to its clean original. "
    "It cannot memorise the noise, so it has to learn what digits look like — the **manifold** — and "
    "project the noisy input back onto it. Compare a plain autoencoder, a DAE, a stacked denoising "
    "autoencoder (SDAE) and two classical filters on the same noisy images."
)

sel = require("denoise images", model=False, grey=True)
ds = sel.dataset

# ---------------------------------------------------------------- models
stored = cache.stored_models(ds.sample_shape)
by_kind = {}
for name, kind, _ in stored:
    by_kind.setdefault(kind, []).append(name)


def _default(names: list[str], preferred: str) -> str | None:
    return preferred if preferred in names else (names[0] if names else None)


plain_names = [n for n, k, nz in stored if k in PLAIN_KINDS and nz in ("none", "")]
# Same code size as the shipped DAE and SDAE, so the comparison is about the noise, not the bottleneck.
plain_pref = "ae-16d" if "ae-16d" in plain_names else (sel.model_name or "")
with st.expander("Models compared", expanded=False):
    c1, c2, c3 = st.columns(3)
    picks = {}
    for col, label, names, pref in (
        (c1, "Plain AE", plain_names, plain_pref),
        (c2, "DAE", by_kind.get("dae", []), "dae"),
        (c3, "SDAE", by_kind.get("sdae", []), "sdae"),
    ):
        d = _default(names, pref)
        if d is None:
            col.caption(f"No stored {label} takes {ds.sample_shape} images; its column is skipped. "
                        "Train one on the Train page.")
            continue
        picks[label] = col.selectbox(label, names, index=names.index(d), key=f"dn_model_{label}")
for lbl, name in list(picks.items()):
    try:
        cache.get_model(name)
    except store.CheckpointError as e:
        st.error(f"{lbl} `{name}` cannot be loaded, so its column is skipped: {e}")
        del picks[lbl]
if not picks:
    st.warning("No stored model takes these images, so only the classical filters are shown. "
               "Train a model on the Train page.")
missing = [m for m in ("Plain AE", "DAE", "SDAE") if m not in picks]
if missing:
    st.caption(f"Not shown (no stored model): {', '.join(missing)}.")
keys = tuple(cache.model_key(n) for n in picks.values())
label_of = {n: f"{lbl} ({n})" for lbl, n in picks.items()}

# ---------------------------------------------------------------- noise
st.subheader("1 · Noisy in, clean out")


def _linked_noise(v: str) -> tuple[str, float]:
    """?noise=KIND:LEVEL (the noise spec as the page writes it), within this page's kinds and slider ranges,
    snapped to the sliders' step."""
    kind, level = noise.parse_one(v, {k: (lo_, hi_) for k, (_, lo_, hi_, _) in LEVELS.items()})
    return kind, round(level / 0.05) * 0.05


linked = share.read("noise", _linked_noise)
if linked is not None:
    st.session_state["dn_source"] = "Test images"
    st.session_state["dn_kind_Test images"], st.session_state[f"dn_level_{linked[0]}"] = linked
source = st.radio("Images", ["Test images", "Upload noisy images"], horizontal=True, key="dn_source")
nc1, nc2, nc3 = st.columns([2, 2, 1])
kinds = list(NOISE_LABELS) if source == "Upload noisy images" else [k for k in NOISE_LABELS if k != "none"]
nkind = nc1.selectbox("Noise to add", kinds, format_func=NOISE_LABELS.get, key=f"dn_kind_{source}",
                      index=kinds.index("none") if "none" in kinds else 0)
if nkind == "none":
    spec = "none"
    nc2.caption("No noise added: the upload is denoised as it is.")
else:
    what, lo, hi, default = LEVELS[nkind]
    st.session_state.setdefault(f"dn_level_{nkind}", default)  # not value=: a link may have set it
    level = nc2.slider(f"Level ({what})", lo, hi, step=0.05, key=f"dn_level_{nkind}")
    spec = f"{nkind}:{level:g}"
share.write("noise", spec if source == "Test images" else None, "masking:0.5")
seed = int(nc3.number_input("Noise seed", 0, 10_000, 0, key="dn_seed"))
with_nlm = st.checkbox("Also non-local means (h tuned on 8 training images, not on these)", value=True, key="dn_nlm")


def _scores_caption(name: str, p: float | None, s: float | None) -> str:
    return name if p is None else f"{name} {p:.1f} dB · {s:.2f}".strip()


def _column(col, img: np.ndarray, caption: str, download: str | None, key: str) -> None:
    with col:
        show_image(img, caption, width=THUMB)
        if download:
            st.download_button("PNG", images.to_png(img, scale=4), file_name=download, mime="image/png",
                               key=key, on_click="ignore", help="This image as a PNG, 4x enlarged (nearest neighbour)")


def _method_label(k: str) -> str:
    return label_of.get(k, k)


if source == "Test images":
    if "dn_idx" not in st.session_state:
        st.session_state["dn_idx"] = "0, 1, 2, 3"

    def _random() -> None:
        rng = np.random.default_rng()
        st.session_state["dn_idx"] = ", ".join(str(i) for i in sorted(rng.choice(len(ds.x_test), 4, replace=False)))

    ic1, ic2 = st.columns([4, 1])
    raw = ic1.text_input(f"Test image numbers (0 to {len(ds.x_test) - 1}, up to {MAX_IMAGES})", key="dn_idx")
    ic2.button("Random", icon=":material/casino:", on_click=_random, key="dn_random")
    try:
        idx = tuple(dict.fromkeys(int(t) for t in raw.replace(";", ",").split(",") if t.strip()))
    except ValueError:
        st.error("Type whole numbers separated by commas, e.g. 0, 5, 17.")
        st.stop()
    bad = [i for i in idx if not 0 <= i < len(ds.x_test)]
    if bad or not idx:
        st.error(f"Image numbers must be between 0 and {len(ds.x_test) - 1}." if bad
                 else "Type at least one image number.")
        st.stop()
    if len(idx) > MAX_IMAGES:
        st.warning(f"Showing the first {MAX_IMAGES} images.")
        idx = idx[:MAX_IMAGES]

    comp = cache.denoise_comparison(keys, ds.name, idx, spec, seed, with_nlm)
    methods = [k for k in comp.outputs if k != "noisy"]
    heads = st.columns(len(methods) + 2)
    for col, h in zip(heads, ["Noisy input", *map(_method_label, methods), "Clean"]):
        col.markdown(f"**{h}**")
    for r, i in enumerate(idx):
        cols = st.columns(len(methods) + 2)
        _column(cols[0], comp.noisy[r], _scores_caption(f"#{i}", comp.psnr["noisy"][r], comp.ssim["noisy"][r]),
                f"noisy_{i}.png", f"dn_dl_noisy_{r}")
        for c, m in enumerate(methods):
            _column(cols[c + 1], comp.outputs[m][r], _scores_caption("", comp.psnr[m][r], comp.ssim[m][r]),
                    f"{m.split(' ')[0]}_{i}.png", f"dn_dl_{c}_{r}")
        _column(cols[-1], comp.clean[r], f"#{i} (label {ds.class_names[ds.y_test[i]]})", None, f"dn_clean_{r}")
    st.caption("Under each image: its PSNR · SSIM against the clean original (higher is better). "
               "Download buttons give 4x-enlarged PNGs.")

    def _batch_zip() -> bytes:
        cols = {"noisy": comp.noisy, **{m: comp.outputs[m] for m in methods}, "clean": comp.clean}
        imgs = [cols[c][r] for r in range(len(idx)) for c in cols]
        names = [f"{i}_{c.split(' ')[0]}" for i in idx for c in cols]
        manifest = [{"image": i, "column": c, "psnr_db": "" if c == "clean" else round(float(comp.psnr[c][r]), 3),
                     "ssim": "" if c == "clean" else round(float(comp.ssim[c][r]), 4), "noise": spec, "seed": seed}
                    for r, i in enumerate(idx) for c in cols]
        return export.images_zip(np.stack(imgs), names, manifest=manifest)

    downloads.button("The whole batch (ZIP)", _batch_zip, f"denoised_{spec.replace(':', '-')}_seed{seed}.zip",
                     "dn_dl_zip", help="Every image above as a 4x-enlarged PNG, and manifest.csv with each one's "
                                       "PSNR and SSIM.")

    st.markdown(f"**Measured over the first 200 test images** (noise `{spec}`, seed {seed})")
    big = cache.denoise_comparison(keys, ds.name, tuple(range(min(200, len(ds.x_test)))), spec, seed, with_nlm)
    rows = [{"method": "noisy input" if r["method"] == "noisy" else _method_label(r["method"]),
             "mean PSNR (dB)": round(r["psnr"], 2), "mean SSIM": round(r["ssim"], 3),
             "beats the noisy input on": f"{np.mean(big.psnr[r['method']] > big.psnr['noisy']):.0%} of images"}
            for r in big.means()]
    # A static table: five rows need no sorting, and Streamlit's interactive grid costs a new visit ~0.5 s more.
    st.table(pd.DataFrame(rows).set_index("method"))
    best = max(big.means(), key=lambda r: r["psnr"])
    st.caption(f"Best mean PSNR here: **{_method_label(best['method'])}** ({best['psnr']:.2f} dB). "
               "Which method wins depends on the noise: try each kind.")
else:
    ups = upload_panel(
        ds.sample_shape, "dn_files", multiple=True,
        label="Noisy digit images, or photos and scans of digits (PNG, JPEG, WebP, BMP, GIF)",
        empty="Drop one or more noisy images here, or photos of digits. Each is turned into a "
              f"{ds.sample_shape[1]}x{ds.sample_shape[2]} greyscale image, and the steps are shown; files that "
              "are not images get an error of their own and the others are still denoised.")
    if ups:
        names = [n for n, _ in ups]
        x_in = np.stack([x for _, x in ups])
        x_noisy = noise.corrupt(x_in, spec, seed) if spec != "none" else x_in
        nlm = cache.nl_means(ds.name, spec if spec != "none" else "gaussian:0.3", seed) if with_nlm else None
        outs = denoise.denoise_all({n: cache.get_model(n)[0] for n in picks.values()}, x_noisy, nlm=nlm)
        known = spec != "none"
        methods = list(outs)
        heads = st.columns(len(methods) + 1 + known)
        for col, h in zip(heads, ["Input", *map(_method_label, methods), *(["Upload (clean)"] if known else [])]):
            col.markdown(f"**{h}**")
        for r, nm in enumerate(names):
            cols = st.columns(len(methods) + 1 + known)
            ref = x_in[r : r + 1]
            x_r = x_noisy[r : r + 1]
            in_scores = (metrics.psnr(ref, x_r)[0], metrics.ssim(ref, x_r)[0]) if known else (None, None)
            _column(cols[0], x_noisy[r], _scores_caption(nm, *in_scores), None, f"dn_up_in_{r}")
            for c, m in enumerate(methods):
                y = outs[m][r : r + 1]
                cap = _scores_caption("", metrics.psnr(ref, y)[0], metrics.ssim(ref, y)[0]) if known else ""
                _column(cols[c + 1], y[0], cap, f"{m.split(' ')[0]}_{nm.rsplit('.', 1)[0]}.png", f"dn_up_{c}_{r}")
            if known:
                _column(cols[-1], x_in[r], "", None, f"dn_up_clean_{r}")
        if known:
            st.caption("Under each image: its PSNR · SSIM against your upload before the noise was added.")
        else:
            st.caption("No clean version is known for an upload that is already noisy, so no PSNR / SSIM. "
                       "Add noise yourself above to score the methods against your upload. "
                       "Non-local means uses the h tuned for Gaussian noise (sigma 0.3).")
        checker = picks.get("DAE") or picks.get("Plain AE")
        if checker:
            st.markdown(f"**Is each upload a digit at all?** (off-manifold check under `{checker}`)")
            off_manifold_note(checker, ds.name, x_noisy, names)

# ---------------------------------------------------------------- filters


def filters_section() -> None:
    st.markdown(
        "Each tile is one first-layer unit's weights, shown as an image (scaled to black..white per tile). "
        "**Locality** is measured: the share of a filter's squared weight in its top 10 % of pixels, averaged "
        "over filters — 1 for filters confined to a tenth of the image (strokes, edges), lower for weights spread "
        "over all of it. Each caption also gives the locality of the same model freshly initialised, before any training."
    )
    fcols = st.columns(max(1, len(picks)))
    for col, (lbl, name) in zip(fcols, picks.items()):
        m, _ = cache.get_model(name)
        with col:
            tiles = denoise.first_layer_filters(m, 30)
            show_grid(tiles, ncols=5, scale=2,
                      caption=f"{lbl} ({name}): locality {denoise.filter_locality(m):.3f} "
                              f"(untrained {denoise.untrained_locality(m):.3f})")
            downloads.button("PNG", lambda t=tiles: export.grid_png(t, 5, scale=4), f"filters_{name}.png",
                             f"dn_dl_filters_{lbl}", help="These filters as one PNG, 4x enlarged.")

    st.markdown("**The same architecture at two noise levels**")
    dae_like = [(n, nz) for n, k, nz in stored if k in ("dae", "sdae", "ae", "sparse") and "|" not in nz and ":" in nz]
    pairs = {}
    for n, nz in dae_like:
        pairs.setdefault(noise.NoiseSpec.parse(nz).parts[0][0], []).append((n, nz))
    stored_pair = next((v for v in pairs.values() if len({nz for _, nz in v}) >= 2), None)
    if stored_pair:
        pair = sorted(stored_pair, key=lambda t: noise.NoiseSpec.parse(t[1]).parts[0][1])[:: max(1, len(stored_pair) - 1)]
        tcols = st.columns(2)
        for col, (n, nz) in zip(tcols, pair):
            m, _ = cache.get_model(n)
            with col:
                show_grid(denoise.first_layer_filters(m, 30), 5, 2,
                          caption=f"{n} (noise {nz}): locality {denoise.filter_locality(m):.3f} "
                                  f"(untrained {denoise.untrained_locality(m):.3f})")
    else:
        st.caption("No two stored DAEs differ only in noise level, so two tiny ones can be trained here: "
                   "one hidden layer of 64 sigmoid units, masking noise 0.1 vs 0.5, 8 epochs on 2,000 training "
                   "digits (a few seconds each; trained once and shared).")
        if st.button("Train the two tiny DAEs", key="dn_train_tiny"):
            st.session_state["dn_tiny"] = True
        if st.session_state.get("dn_tiny"):
            tiny = cache.filter_daes(ds.name)
            tcols = st.columns(len(tiny))
            loc = {}
            for col, (lvl, m) in zip(tcols, tiny.items()):
                loc[lvl] = denoise.filter_locality(m)
                with col:
                    show_grid(denoise.first_layer_filters(m, 30), 5, 2,
                              caption=f"masking {lvl:g}: locality {loc[lvl]:.3f} "
                                      f"(untrained {denoise.untrained_locality(m):.3f})")
            lo, hi = min(loc), max(loc)
            verdict = ("more localised, as Vincent et al. (2010) found with longer training"
                       if loc[hi] > loc[lo] + 0.01 else
                       "**not** clearly more localised: these tiny models are trained for seconds, not hours, "
                       "and the textbook stroke detectors need far longer training")
            st.caption(f"Measured: the filters trained with more noise ({hi:g}) are {verdict} "
                       f"(locality {loc[hi]:.3f} vs {loc[lo]:.3f}).")


# ---------------------------------------------------------------- latent arrows


def arrows_section() -> None:
    if not picks:
        st.info("Needs a stored model.")
        return
    lc1, lc2 = st.columns([2, 1])
    options = list(picks.values())
    if st.session_state.get("dn_arrow_model") not in options:  # first visit, or its model is no longer picked
        st.session_state["dn_arrow_model"] = picks.get("DAE", options[0])
    arrow_model = lc1.selectbox("Model", options, format_func=_method_label, key="dn_arrow_model")
    st.session_state.setdefault("dn_arrow_n", 40)
    n_arrows = lc2.slider("Test images", 20, 50, step=5, key="dn_arrow_n")
    arrow_spec = spec if spec != "none" else "masking:0.5"
    arr = cache.latent_arrows(cache.model_key(arrow_model), ds.name, arrow_spec, n_arrows, seed)
    zc, zn = arr["clean"], arr["noisy"]
    fig = go.Figure()
    for a, b in zip(zn, zc):
        fig.add_annotation(x=b[0], y=b[1], ax=a[0], ay=a[1], xref="x", yref="y", axref="x", ayref="y", text="",
                           showarrow=True, arrowhead=2, arrowsize=1, arrowwidth=1, arrowcolor="rgba(120,120,120,0.7)",
                           standoff=5)
    fig.add_trace(go.Scatter(x=zn[:, 0], y=zn[:, 1], mode="markers", name=f"noisy ({arrow_spec})",
                             marker=dict(symbol="x", size=7, color="#d62728")))
    fig.add_trace(go.Scatter(x=zc[:, 0], y=zc[:, 1], mode="markers+text", name="clean",
                             text=[ds.class_names[y] for y in arr["labels"]], textposition="top center",
                             marker=dict(size=9, color="#1f77b4")))
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=f"axis 1 — {arr['axes']}",
                      yaxis_title="axis 2",
                      legend=dict(orientation="h", y=1.08))
    st.plotly_chart(fig, key="dn_arrows")
    others = {n: cache.latent_arrows(cache.model_key(n), ds.name, arrow_spec, n_arrows, seed)["shift"]
              for n in picks.values()}
    st.markdown(
        "Each grey arrow goes from a noisy image's code (×) to its clean image's code (•). Measured in the full latent "
        "space, the mean distance from noisy code to clean code, relative to the spread of the clean codes: "
        + ", ".join(f"**{_method_label(n)}** {s:.2f}" for n, s in others.items())
        + ". Smaller means the noise barely moves the code: the model maps the noisy image back to where "
        "its clean version lies on the manifold."
    )


# Sections 2 and 3 run only while their expander is open: a first visit computes and draws section 1's
# images, not the filters and the arrows chart (Plotly's bundle alone costs a new visitor about 1.5 s).
keep("dn_arrow_model", "dn_arrow_n")
for label, key, show in (("2 · What the first layer looks for", "dn_filters", filters_section),
                         ("3 · Noisy codes are pulled back to clean codes", "dn_arrows_open", arrows_section)):
    section = st.expander(f"**{label}**", key=key, on_change="rerun")
    with section:
        if section.open:
            show()
path.next_link(__file__)
