"""Placeholder: this page is being built."""
import streamlit as st

st.title("generate")
st.info("Coming soon.")
