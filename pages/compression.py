"""Compression page: an autoencoder as an image codec against JPEG and WebP, bytes per image vs
PSNR / SSIM on held-out images, the crossover point, and example images at matched sizes.

Widgets and figures only: the maths is ae_core.compress; the cached calls are in ui/cache.py. The curves are
Vega-Lite (Altair), the app's kind for charts nobody clicks (ui.widgets.vega_chart).
"""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ae_core import compress, metrics, store
from ui import cache, path
from ui.widgets import lazy_tabs, require, show_image, vega_chart

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


def _curves(metric: str) -> alt.LayerChart:
    """Bytes per image (log) against the mean metric: a line per codec, the AEs solid with their bits per
    coordinate written at each point, JPEG and WebP dashed, WebP lossless a dotted vertical rule."""
    codecs = list(dict.fromkeys(r["codec"] for r in rows))
    ae_colour = iter(AE_COLOURS * 4)
    colours = [next(ae_colour) if c.startswith("AE ") else COLOURS.get(c, "#7f7f7f") for c in codecs]
    name = f"mean {metric.upper()}" + (" (dB)" if metric == "psnr" else "")
    df = pd.DataFrame([{"codec": r["codec"], "setting": r["setting"], "bytes": r[bytes_key], "value": r[metric],
                        "kind": "autoencoder" if r["codec"].startswith("AE ") else "classical"}
                       for r in rows if r["setting"] != "lossless"])
    x = alt.X("bytes:Q", title=f"{axis} bytes per image (log scale)", scale=alt.Scale(type="log"))
    y = alt.Y("value:Q", title=name, scale=alt.Scale(zero=False))
    colour = alt.Color("codec:N", scale=alt.Scale(domain=codecs, range=colours),
                       legend=alt.Legend(orient="top", title=None, columns=4, labelLimit=300))
    tip = [alt.Tooltip("codec:N"), alt.Tooltip("setting:N"), alt.Tooltip("bytes:Q", title=f"{axis} bytes", format=".0f"),
           alt.Tooltip("value:Q", title=name, format=".3f")]
    base = alt.Chart(df).encode(x=x, y=y, color=colour, detail="codec:N", tooltip=tip)
    lines = base.mark_line(point=False).encode(
        strokeDash=alt.StrokeDash("kind:N", scale=alt.Scale(domain=["autoencoder", "classical"],
                                                             range=[[1, 0], [6, 4]]), legend=None),
        order="bytes:Q")
    points = base.mark_point(filled=True, size=60).encode(
        shape=alt.Shape("kind:N", scale=alt.Scale(domain=["autoencoder", "classical"], range=["circle", "square"]),
                        legend=None))
    labels = base.transform_filter(alt.datum.kind == "autoencoder").mark_text(dy=-10, fontSize=9).encode(
        text="setting:N")
    layers = [lines, points, labels]
    lossless = [r for r in rows if r["setting"] == "lossless"]
    if lossless:
        ll = pd.DataFrame([{"bytes": r[bytes_key], "label": f"{r['codec']} lossless: exact, {r[bytes_key]:.0f} bytes"}
                           for r in lossless])
        rule = alt.Chart(ll).encode(x="bytes:Q", tooltip=[alt.Tooltip("label:N", title=None)])
        layers += [rule.mark_rule(color=COLOURS["WebP"], strokeDash=[2, 3], size=2),
                   rule.mark_text(align="right", baseline="top", dx=-4, y=4, fontSize=10, color=COLOURS["WebP"])
                   .encode(text="label:N")]
    return alt.layer(*layers)


# Each tab's chart is built and drawn only while the tab is open.
lazy_tabs({m.upper(): lambda m=m: vega_chart(_curves(m), 460, f"cx_{m}") for m in ("psnr", "ssim")}, "cx_metric")

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
