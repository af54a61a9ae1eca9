"""Placeholder: this page is being built."""
import streamlit as st

st.title("pca_vs_ae")
st.info("Coming soon.")
