"""Compression page: an autoencoder as an image codec against JPEG and WebP, bytes per image vs
PSNR / SSIM on held-out images, the crossover point, and example images at matched sizes.

Widgets and figures only: the maths is ae_core.compress; the cached calls are in ui/cache.py.
"""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from ae_core import compress, metrics, store
from ui import cache, path
from ui.widgets import lazy_tabs, require, show_image

DEFAULT_KINDS = ("ae", "conv")
COLOURS = {"JPEG": "#d62728", "WebP": "#2ca02c"}
# Blues, purples and browns for the autoencoders, so none is mistaken for JPEG (red) or WebP (green).
AE_COLOURS = ("#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79")
THUMB = 112

st.title("Compression: autoencoder vs JPEG and WebP")
path.intro(__file__)
st.markdown(
    "An autoencoder is a learned codec: the **encoder** turns an image into a few numbers, the **decoder** "
    "(shipped once, like a JPEG decoder) turns them back into an image. Here each latent coordinate is "
    "quantised to *b* bits, so an image costs exactly **⌈latent dim × b / 8⌉ bytes**; the quantiser's "
    "per-coordinate ranges (min and max over the training codes) are part of the shared decoder and are not "
    "counted. JPEG (greyscale, `optimize=True`) and WebP (lossy qualities, and lossless) are Pillow's. "
    "Everything is measured on held-out test images."
)

sel = require("compare codecs", model=False, grey=True)
ds = sel.dataset
available = [n for n, _, _ in cache.stored_models(ds.sample_shape)]
if not available:
    st.warning(f"No stored model takes {ds.name}'s images; train one on the Train page to compare it with JPEG.")
    st.stop()

c1, c2, c3 = st.columns([3, 1, 1])
# Shown at first: the plain and convolutional AEs trained on this dataset (on mnist-5k: ae-2d, ae-16d, ae-30d
# and conv), else any model that takes its images.
default = [n for n, _, _ in cache.stored_models(ds.sample_shape, DEFAULT_KINDS, ds.name)] or available[:1]
chosen = list(c1.multiselect("Autoencoders", available, default=default, key="cx_models"))
n_images = c2.select_slider("Test images", [50, 100, 200, 500, 1000], value=200, key="cx_n")
n_images = min(n_images, len(ds.x_test))
axis = c3.radio("Bytes", ["file", "payload"], key="cx_bytes",
                help="file: the whole file. payload: the file minus the header every file of that setting shares.")
for name in list(chosen):
    try:
        cache.get_model(name)
    except store.CheckpointError as e:
        st.error(f"`{name}` cannot be loaded and is left out: {e}")
        chosen.remove(name)
if not chosen:
    st.info("Pick at least one autoencoder.")
    st.stop()
bytes_key = f"bytes_{axis}"
rows = cache.rate_distortion(tuple(cache.model_key(n) for n in chosen), ds.name, n_images)

# ---------------------------------------------------------------- curves
st.subheader("Rate–distortion")


def _curve_fig(metric: str) -> go.Figure:
    fig = go.Figure()
    ae_colour = iter(AE_COLOURS * 4)
    for codec in dict.fromkeys(r["codec"] for r in rows):
        pts = sorted((r for r in rows if r["codec"] == codec and r["setting"] != "lossless"),
                     key=lambda r: r[bytes_key])
        is_ae = codec.startswith("AE ")
        fig.add_trace(go.Scatter(
            x=[r[bytes_key] for r in pts], y=[r[metric] for r in pts], name=codec,
            mode="lines+markers+text" if is_ae else "lines+markers",
            text=[r["setting"] for r in pts] if is_ae else None, textposition="top center", textfont=dict(size=9),
            hovertext=[f"{codec} {r['setting']}: {r[bytes_key]:.0f} bytes, {metric.upper()} {r[metric]:.3f}"
                       for r in pts],
            hoverinfo="text",
            line=dict(dash="solid" if is_ae else "dash", color=next(ae_colour) if is_ae else COLOURS.get(codec)),
            marker=dict(symbol="circle" if is_ae else "square", size=8)))
    lossy = [r[metric] for r in rows if r["setting"] != "lossless"]
    for r in rows:
        if r["setting"] == "lossless":
            # A trace rather than add_vline: shapes on a log axis take log10 positions, traces take data values.
            fig.add_trace(go.Scatter(x=[r[bytes_key]] * 2, y=[min(lossy), max(lossy)], mode="lines",
                                     line=dict(color=COLOURS["WebP"], dash="dot"),
                                     name=f"WebP lossless: exact, {r[bytes_key]:.0f} bytes"))
    fig.update_layout(xaxis=dict(type="log", title=f"{axis} bytes per image (log scale)"),
                      yaxis_title=f"mean {metric.upper()}" + (" (dB)" if metric == "psnr" else ""),
                      height=460, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.2))
    return fig


# Each tab's chart is built and drawn only while the tab is open.
lazy_tabs({m.upper(): lambda m=m: st.plotly_chart(_curve_fig(m), key=f"cx_{m}") for m in ("psnr", "ssim")},
          "cx_metric")

for against in ("JPEG", "WebP"):
    cx = compress.crossover(rows, against, "psnr", bytes_key)
    (st.success if cx["found"] else st.info)(f"**Crossover ({against}, {axis} bytes, PSNR):** {cx['text']}")

heads: dict[str, list[int]] = {}
for r in rows:
    if r.get("header") is not None:
        heads.setdefault(f"{r['codec']}{' lossless' if r['setting'] == 'lossless' else ''}", []).append(r["header"])
st.caption(
    "How the payload is estimated: for each codec setting, the header is the longest prefix of bytes shared by "
    "the encoded files of all the test images plus a blank image (WebP's length fields, which differ per file "
    "only because they state a length, are masked first); payload = file − header. Headers found: "
    + ", ".join(f"{c} {min(h)}" + (f"–{max(h)}" if max(h) > min(h) else "") + " bytes" for c, h in heads.items())
    + ". The AE has no header: its bytes are the same under both measures. "
    f"PSNR and SSIM are means over {n_images} test images against the originals; lossless WebP is exact "
    "(its PSNR is capped at 100 dB, so it is drawn as a vertical line)."
)
points = st.expander("All measured points", key="cx_points", on_change="rerun")  # drawn only when opened
with points:
    if points.open:
        st.dataframe([{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()
                       if k in ("codec", "setting", "bytes_file", "bytes_payload", "psnr", "ssim")} for r in rows],
                     hide_index=True)

# ---------------------------------------------------------------- examples
st.subheader("At matched sizes")
e1, e2, e3 = st.columns(3)
ex_model = e1.selectbox("Autoencoder", chosen, index=chosen.index("ae-30d") if "ae-30d" in chosen else 0,
                        key="cx_ex_model")
bits = e2.select_slider("Bits per coordinate", [2, 4, 8, 16], value=8, key="cx_bits")
match_on = e3.radio("Match JPEG / WebP on", ["file", "payload"], horizontal=True, key="cx_match")
idx = tuple(range(4))
ex = cache.matched_examples(cache.model_key(ex_model), ds.name, idx, bits, match_on)
ae_img, ae_b, ae_set = ex["ae"]
cols_spec = [("AE", ae_img, f"{ex_model}, {ae_set}: {ae_b} bytes")]
for codec in ("JPEG", "WebP"):
    imgs, size, setting = ex[codec]
    cols_spec.append((codec, imgs, f"{codec} {setting}: {size:.0f} {match_on} bytes (mean)"))
cols_spec.append(("Original", ex["original"], f"{ds.sample_shape[1]}×{ds.sample_shape[2]} = "
                                              f"{ds.sample_shape[1] * ds.sample_shape[2]} pixels"))
heads = st.columns(len(cols_spec))
for col, (name, _, cap) in zip(heads, cols_spec):
    col.markdown(f"**{name}**")
    col.caption(cap)
for r in range(len(idx)):
    cols = st.columns(len(cols_spec))
    for col, (name, imgs, _) in zip(cols, cols_spec):
        with col:
            p = metrics.psnr(ex["original"][r], imgs[r])[0]
            show_image(imgs[r], caption=None if name == "Original" else f"{p:.1f} dB", width=THUMB)
closest_jpeg = ex["JPEG"][1]
if closest_jpeg > 1.5 * ae_b:
    st.caption(f"JPEG cannot get down to {ae_b} bytes: its smallest setting (quality 1) still needs about "
               f"{closest_jpeg:.0f} {match_on} bytes for these images.")
path.next_link(__file__)
