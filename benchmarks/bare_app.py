"""The browser benchmark's baseline: the least a Streamlit slider-to-image round trip can cost.

One slider and one 280x280 greyscale image, re-rendered on every move like the Generate page's
decoded image (same st.image call on a uint8 array, same size), but with no model, no cache and
no other element. Query parameters add one element each, the floor of a page that shows one: ?plotly=1 a
three-point Plotly line chart (its first render loads Streamlit's Plotly bundle), ?vega=1 the same chart in
Vega-Lite (Altair), ?dataframe=1 a ten-row st.dataframe, ?table=1 the same rows as a static st.table. The image changes with the slider (a bar moves), so its URL changes on every
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
if st.query_params.get("vega") == "1":
    import altair as alt
    import pandas as pd

    st.altair_chart(alt.Chart(pd.DataFrame({"x": [1, 2, 3], "y": [1, 3, 2]})).mark_line(point=True)
                    .encode(x="x:Q", y="y:Q"), key="bare_vega")
ROWS = [{"d": d, "samples": 10**d} for d in range(1, 11)]
if st.query_params.get("dataframe") == "1":
    st.dataframe(ROWS, hide_index=True)
if st.query_params.get("table") == "1":
    st.table(ROWS)
