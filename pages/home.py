"""Home: what Manifold Lab is and where each idea lives."""
import streamlit as st

st.title("Manifold Lab")
st.markdown(
    "See what autoencoders learn. An autoencoder squeezes each image through a small **latent code** "
    "and rebuilds it; the codes of real images lie on a low-dimensional **manifold** inside pixel space. "
    "Pick a dataset and a model in the sidebar, then explore:"
)
st.page_link("pages/latent_space.py", label="Latent space — click the map, see what the decoder makes there", icon=":material/scatter_plot:")
st.page_link("pages/generate.py", label="Generate & traverse — one slider per latent coordinate", icon=":material/tune:")
st.page_link("pages/pca_vs_ae.py", label="PCA vs AE — linear vs non-linear, measured", icon=":material/compare:")
st.page_link("pages/denoise.py", label="Denoise — plain AE vs denoising AE vs stacked denoising AE", icon=":material/auto_fix_high:")
st.page_link("pages/compression.py", label="Compression — an AE codec vs JPEG and WebP", icon=":material/compress:")
st.page_link("pages/train.py", label="Train — the whole model zoo, live", icon=":material/model_training:")
st.page_link("pages/manifold.py", label="Manifold hypothesis & curse of dimensionality", icon=":material/blur_on:")
