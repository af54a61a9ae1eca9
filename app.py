"""Manifold Lab: navigation and the shared sidebar only; each page lives in pages/."""
import streamlit as st

from ui.share import tidy as tidy_link
from ui.sidebar import sidebar
from ui.widgets import prefetch_plotly

st.set_page_config(page_title="Manifold Lab", page_icon=":material/blur_circular:", layout="wide")

PAGES = {
    "Explore": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/latent_space.py", title="Latent space", icon=":material/scatter_plot:"),
        st.Page("pages/generate.py", title="Generate & traverse", icon=":material/tune:"),
        st.Page("pages/pca_vs_ae.py", title="PCA vs autoencoders", icon=":material/compare:"),
    ],
    "Use": [
        st.Page("pages/denoise.py", title="Denoise", icon=":material/auto_fix_high:"),
        st.Page("pages/compression.py", title="Compression vs JPEG and WebP", icon=":material/compress:"),
        st.Page("pages/train.py", title="Train a model", icon=":material/model_training:"),
    ],
    "Ideas": [
        st.Page("pages/manifold.py", title="Manifold & dimensionality", icon=":material/blur_on:"),
    ],
}

nav = st.navigation(PAGES)
tidy_link(nav.url_path)  # a pick on the latent map means nothing on another page
st.session_state["selection"] = sidebar()
with st.sidebar:
    prefetch_plotly()
nav.run()
