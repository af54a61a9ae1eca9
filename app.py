"""Manifold Lab: navigation only (the pages live in pages/)."""
import streamlit as st

st.set_page_config(page_title="Manifold Lab", page_icon="🌀", layout="wide")
st.title("Manifold Lab")
st.write("See what autoencoders learn. The pages are being built.")
