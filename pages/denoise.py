"""Placeholder: this page is being built."""
import streamlit as st

st.title("denoise")
st.info("Coming soon.")
