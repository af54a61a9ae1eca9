"""Placeholder: this page is being built."""
import streamlit as st

st.title("manifold")
st.info("Coming soon.")
