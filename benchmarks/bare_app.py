"""The browser benchmark's baseline: the least a Streamlit slider-to-image round trip can cost.

One slider and one 280x280 greyscale image, re-rendered on every move like the Generate page's
decoded image (same st.image call on a uint8 array, same size), but with no model, no cache and
no other element (with ?plotly=1, also one three-point Plotly line chart: the floor of a page with a
chart, whose first render loads Streamlit's Plotly bundle). The image changes with the slider (a bar moves), so its URL changes on every
move, as the decoded image's does; benchmarks/browser_bench.py times both the same way.
"""
import numpy as np
import streamlit as st

SIZE = 280

st.title("Bare slider")
v = st.slider("value", 0.0, 1.0, 0.5, step=0.005, key="bare_value")
img = np.zeros((SIZE, SIZE), np.uint8)
img[SIZE // 4 : 3 * SIZE // 4, :] = 40
col = int(round(v * (SIZE - 20)))
img[:, col : col + 20] = 255
st.image(img, caption="bare image", width=SIZE)
if st.query_params.get("plotly") == "1":
    import plotly.graph_objects as go

    st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])), key="bare_plot")
