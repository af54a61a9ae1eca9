"""Real-browser end-to-end tests: Debian's Chromium, driven by Playwright, against `streamlit run app.py`."""
