"""Streamlit-side helpers: the only place with st.cache_* wrappers, and the shared sidebar."""
