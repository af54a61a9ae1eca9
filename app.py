"""Manifold Lab: navigation and the shared sidebar only; each page lives in pages/."""
import streamlit as st

from ui.state import sidebar

st.set_page_config(page_title="Manifold Lab", page_icon="🌀", layout="wide")

PAGES = {
    "Explore": [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/latent_space.py", title="Latent space", icon="🗺️"),
        st.Page("pages/generate.py", title="Generate & traverse", icon="🎛️"),
        st.Page("pages/pca_vs_ae.py", title="PCA vs AE", icon="📐"),
    ],
    "Use": [
        st.Page("pages/denoise.py", title="Denoise", icon="🧽"),
        st.Page("pages/compression.py", title="Compression vs JPEG", icon="🗜️"),
        st.Page("pages/train.py", title="Train", icon="🏋️"),
    ],
    "Ideas": [
        st.Page("pages/manifold.py", title="Manifold & dimensionality", icon="🌐"),
    ],
}

nav = st.navigation(PAGES)
st.session_state["selection"] = sidebar()
nav.run()
