"""Placeholder: this page is being built."""
import streamlit as st

st.title("latent_space")
st.info("Coming soon.")
