"""PCA vs AE page: the same test points embedded in 2-D by PCA, the linear / MLP / variational
autoencoders and (on request) Isomap, LLE, t-SNE and UMAP, side by side in one chart with a selection linked
across the maps (ui.widgets.linked_maps); held-out scores per method; reconstruction error against
dimension; the linear AE's subspace against PCA's; and the swiss roll / S-curve, where a linear projection
squashes what neighbourhood methods unroll.

All numbers come from ae_core.embeddings through the cached wrappers in ui/cache.py.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from ae_core import embeddings, store
from ui import cache, path
from ui.widgets import CLASS_COLOURS, lazy_tabs, linked_maps, linked_maps_frame, linked_pick, selection, vega_chart

KIND_LABELS = {"linear": "Linear AE", "ae": "AE", "vae": "VAE", "beta-vae": "β-VAE", "umap-ae": "UMAP-loss AE"}
KIND_ORDER = ("linear", "ae", "vae", "beta-vae", "umap-ae")
# What each slow method is doing while the page waits (the first visit only: results are cached).
WAIT = {"Isomap": "Isomap: neighbourhood graph and its shortest paths…", "LLE": "LLE: local linear fits…",
        "t-SNE": "t-SNE of the training prefix and the test points together (about 10 s)…",
        "UMAP": "UMAP: compiling it with numba (about 15 s, once per server) and fitting it on the training images "
                "(about 5–25 s)…"}


def _usable_models(sel) -> tuple[list[tuple[str, tuple]], list[str], dict[str, str]]:
    """(name, cache key) of the 2-D models trained on this dataset, notes, and each one's kind.

    Read from the store, not from a list of names: mnist-5k shows linear-2d, ae-2d and vae-2d, full
    MNIST its own mnist-* models, and a 2-D model trained on the Train page appears beside them.
    """
    ds, root = sel.dataset, sel.models_root
    infos = [m for m in store.list_models(root) if not m.error and m.latent_dim == 2]
    own = [m for m in infos if m.dataset == ds.name]
    if sel.model_name and sel.model is not None and sel.model.latent_dim == 2 \
            and sel.model_name not in {m.name for m in own}:
        own += [m for m in infos if m.name == sel.model_name]  # the sidebar's own 2-D model, trained elsewhere
    rank = {k: i for i, k in enumerate(KIND_ORDER)}
    own.sort(key=lambda m: (rank.get(m.kind, len(rank)), m.name))
    found, notes, kinds = [], [], {}
    for m in own:
        try:
            meta = store.read_meta(m.name, root)
        except store.CheckpointError as e:
            notes.append(f"**{m.name}** cannot be read ({e}); left out.")
            continue
        shape = tuple(meta["config"].get("input_shape", ()))
        if shape != ds.sample_shape:
            notes.append(f"**{m.name}** takes {shape} inputs, not {ds.name}'s {ds.sample_shape}; left out.")
            continue
        found.append((m.name, cache.model_key(m.name, root)))
        kinds[m.name] = m.kind
    if not found:
        notes.append(f"No 2-D autoencoder trained on {ds.name} is stored; train one on the Train page "
                     "(or `python -m ae_core pretrain`).")
    return found, notes, kinds


def _legend(class_names) -> None:
    swatches = " ".join(
        f"<span style='color:{CLASS_COLOURS[i % len(CLASS_COLOURS)]};font-size:1.2em'>●</span>&nbsp;{c}"
        for i, c in enumerate(class_names))
    st.markdown(f"<div style='font-size:0.9em'>{swatches}</div>", unsafe_allow_html=True)


def _label(r: dict) -> str:
    m = r["method"]
    return f"{KIND_LABELS.get(KINDS.get(m[4:-1], 'ae'), 'AE')} ({m[4:-1]})" if m.startswith("AE (") else m


def _maps(results: list[dict], ds):
    """The 2-D maps side by side in one chart (ui.widgets.linked_maps); returns its rows and its selection event."""
    shown = [r for r in results if r["embedding_test"] is not None]
    maps = linked_maps_frame([r["embedding_test"] for r in shown], [_label(r) for r in shown], ds.y_test,
                             ds.class_names)
    titles = [(_label(r), f"5-NN acc. {r['knn5']:.2f} · trust {r['trust']:.2f}"
               + (f" · fit {r['fit_seconds']:.1f} s" if r.get("fit_seconds") is not None else "")) for r in shown]
    # A pick means nothing on another dataset or set of maps, and "Clear the pick" must clear the browser's box
    # too: each of them makes a new chart (a new key), with no selection.
    key = f"pca_maps_{ds.name}_{len(shown)}_{st.session_state.get('pca_maps_gen', 0)}"
    event = st.altair_chart(linked_maps(maps, titles, ds.class_names), key=key, on_select="rerun")
    return maps, event


def _table(results: list[dict]) -> None:
    rows = [{
        "method": _label(r),
        "recon. error (sq. err./image)": r["recon_sse"],
        "1-NN acc.": r["knn1"],
        "5-NN acc.": r["knn5"],
        "trustworthiness (k=5)": r["trust"],
        "silhouette": r.get("silhouette"),
        "fit time (s)": r["fit_seconds"],
        "note": r["note"],
    } for r in results]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
        "recon. error (sq. err./image)": st.column_config.NumberColumn(format="%.2f", help="Held-out test split; blank where the method has no inverse map."),
        "1-NN acc.": st.column_config.NumberColumn(format="%.3f"),
        "5-NN acc.": st.column_config.NumberColumn(format="%.3f", help="k-NN classifier fitted on the training points' 2-D embedding, scored on the test points'."),
        "trustworthiness (k=5)": st.column_config.NumberColumn(format="%.3f", help="1 = no test point gains false neighbours in 2-D."),
        "silhouette": st.column_config.NumberColumn(format="%.3f", help="Mean silhouette of the classes on the test split's map (−1 to 1): how far apart the classes sit relative to their spread."),
        "fit time (s)": st.column_config.NumberColumn(format="%.2f", help="For autoencoders: training time from the model card."),
    })


def _error_curve(ds, sel) -> None:
    curve = cache.error_curve(ds.name, str(sel.models_root), cache.store_signature(sel.models_root))
    pca = dict(curve["pca"])
    dims = sorted(pca)
    rows = curve["models"]
    ordered = sorted(rows, key=lambda r: (r["latent_dim"], r["name"]))
    names = ["PCA"] + [f"{r['name']} ({r['kind']})" for r in ordered]
    line = pd.DataFrame({"dims": dims, "sse": [pca[d] for d in dims], "what": "PCA"})
    pts = pd.DataFrame([{"dims": r["latent_dim"], "sse": r["sse"], "what": n, "pca_sse": r["pca_sse"],
                         "source": r["source"]} for r, n in zip(ordered, names[1:])],
                       columns=["dims", "sse", "what", "pca_sse", "source"])
    x = alt.X("dims:Q", title="dimensions (latent size, log scale)", scale=alt.Scale(type="log"))
    y = alt.Y("sse:Q", title="held-out squared error per image")
    colour = alt.Color("what:N", title=None, legend=alt.Legend(orient="right", labelLimit=300),
                       scale=alt.Scale(domain=names, range=["#444"] + [CLASS_COLOURS[i % len(CLASS_COLOURS)]
                                                                        for i in range(len(ordered))]))
    shape = alt.Shape("what:N", scale=alt.Scale(domain=names, range=["circle"] + [
        ["circle", "square", "diamond", "triangle-up", "cross", "triangle-down"][i % 6] for i in range(len(ordered))]))
    pca_layer = alt.Chart(line).mark_line(point=True).encode(
        x=x, y=y, color=colour, tooltip=[alt.Tooltip("what:N", title="method"), alt.Tooltip("dims:Q", title="dims"),
                                         alt.Tooltip("sse:Q", title="squared error", format=".2f")])
    model_layer = alt.Chart(pts).mark_point(filled=True, size=130, stroke="black", strokeWidth=1, opacity=1).encode(
        x=x, y=y, color=colour, shape=shape,
        tooltip=[alt.Tooltip("what:N", title="model"), alt.Tooltip("dims:Q", title="latent dims"),
                 alt.Tooltip("sse:Q", title="squared error", format=".2f"),
                 alt.Tooltip("pca_sse:Q", title="PCA with as many dims", format=".2f"),
                 alt.Tooltip("source:N", title="from the")])
    vega_chart(pca_layer + model_layer, 400, "pca_error_curve")
    if rows:
        beat = [r for r in rows if r["sse"] < r["pca_sse"]]
        st.caption(f"{len(beat)} of {len(rows)} stored models trained on {ds.name} reconstruct the test split better "
                   f"than PCA with as many dimensions ({', '.join(r['name'] for r in beat) or 'none'}). Model points "
                   "come from their model cards (measured on the test split when they were trained).")
    else:
        st.caption(f"No stored model was trained on {ds.name}; only PCA's curve is shown.")


def _angles(ds, found: list) -> None:
    linear = [(n, k) for n, k in found if KINDS.get(n) == "linear"]
    if not linear:
        st.info(f"No linear autoencoder trained on {ds.name} is stored (mnist-5k ships linear-2d), so there is no "
                "subspace to compare.")
        return
    name, key = linear[0]
    angles = cache.linear_angles(key, ds.name)
    cols = st.columns(len(angles) + 1)
    for i, a in enumerate(sorted(angles)):
        cols[i].metric(f"principal angle {i + 1}", f"{a:.1f}°")
    worst = float(np.max(angles))
    verdict = ("it spans (nearly) the same plane as PCA's top two components, as theory says it should at the "
               "optimum (Baldi & Hornik, 1989)" if worst < 10 else
               "it is still far from PCA's plane, so this checkpoint has not converged: a linear AE trained to the "
               "optimum of squared error spans exactly PCA's subspace (Baldi & Hornik, 1989)")
    cols[-1].caption(f"Angles between {name}'s decoder subspace and PCA's top-2 subspace on {ds.name}'s "
                     f"training split. Largest {worst:.1f}°: {verdict}. Its axes may still differ from PCA's by a "
                     "rotation and scaling within the plane.")


def _unrolling_panel() -> None:
    st.session_state.setdefault("pca_manifold", "swiss-roll")
    name = st.radio("Point cloud", ["swiss-roll", "s-curve"], horizontal=True, key="pca_manifold")
    st.caption("PCA, Isomap, LLE and a small 2-D AE (hidden 64, 64; about 2 s of training) each map the held-out "
               "points to the plane, coloured by the intrinsic coordinate t along the roll. Several seconds the "
               "first time; cached for every visitor afterwards.")
    results = cache.unrolling(name)
    ds = cache.get_dataset(name)
    fig = make_subplots(rows=1, cols=len(results) + 1, specs=[[{"type": "scene"}] + [{}] * len(results)],
                        subplot_titles=[f"{name} in 3-D"] + [f"{r['method']} · unrolling {r['unrolling']:.2f}"
                                                             for r in results])
    fig.add_trace(go.Scatter3d(x=ds.x_test[:, 0], y=ds.x_test[:, 1], z=ds.x_test[:, 2], mode="markers",
                               marker=dict(size=2, color=ds.t_test, colorscale="Viridis"), showlegend=False,
                               hoverinfo="skip"), row=1, col=1)
    for i, r in enumerate(results):
        z = r["embedding"]
        fig.add_trace(go.Scatter(x=z[:, 0], y=z[:, 1], mode="markers", showlegend=False,
                                 marker=dict(size=4, color=r["t"], colorscale="Viridis",
                                             showscale=i == len(results) - 1, colorbar=dict(title="t", thickness=10)),
                                 hovertemplate="t = %{marker.color:.2f}<extra></extra>"), row=1, col=i + 2)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=330, margin=dict(l=0, r=0, t=40, b=0))
    fig.update_annotations(font_size=12)
    st.plotly_chart(fig, config={"displaylogo": False})
    st.dataframe(pd.DataFrame([{"method": r["method"], "unrolling |Spearman ρ| with t": r["unrolling"],
                                "trustworthiness (k=5)": r["trust"], "fit time (s)": r["fit_seconds"]}
                               for r in results]).round(3), hide_index=True)
    by = {r["method"]: r for r in results}
    best = max(results, key=lambda r: r["unrolling"])
    st.caption(f"Unrolling score: the best |Spearman correlation| between t and any direction of the 2-D embedding "
               f"(1 = points laid out in order along the roll), on the {len(ds.x_test)} held-out points. Here PCA "
               f"scores {by['PCA']['unrolling']:.2f} and Isomap {by['Isomap']['unrolling']:.2f}; the best is "
               f"{best['method']} ({best['unrolling']:.2f}).")


# ---------------------------------------------------------------- the page

sel = selection()
ds = sel.dataset
st.title("PCA vs autoencoders")
path.intro(__file__)
st.markdown("PCA is a linear projection: it can only flatten data onto a plane, so a curved manifold comes out "
            "folded onto itself. An autoencoder's encoder is a non-linear map, and Isomap, LLE, t-SNE and UMAP keep "
            "neighbourhoods instead of directions. Below, the same held-out points of "
            f"**{ds.name}** ({len(ds.x_test):,} test images) in each 2-D map.")

found, notes, KINDS = _usable_models(sel)


def side_by_side() -> None:
    results = [cache.embedding_result(ds.name, "PCA")] + [cache.model_embedding_result(k, ds.name) for _, k in found]
    st.session_state.setdefault("pca_nonlinear", False)
    extra = st.toggle("Add Isomap, LLE, t-SNE and UMAP (slow the first time: t-SNE takes about 10 s on two idle "
                      "cores, UMAP about 25 s while numba compiles it; cached for every visitor afterwards, and the "
                      "table shows each method's measured fit time)",
                      key="pca_nonlinear")
    if extra:
        for m in embeddings.NONLINEAR:
            with st.spinner(WAIT.get(m, f"{m}…")):
                results.append(cache.embedding_result(ds.name, m))
    for n in notes:
        st.caption(n)

    c1, c2 = st.columns([5, 1])
    with c1:
        _legend(ds.class_names)
        note = st.empty()  # filled once the chart has said what is picked
    maps, event = _maps(results, ds)
    picked, where = linked_pick(event, maps)
    if picked:
        note.caption(f"{len(picked)} point{'s' if len(picked) != 1 else ''} picked" + (f" in {where}" if where else "")
                     + "; they stay bright in every map. Double-click a map to clear.")
        if c2.button("Clear the pick", key="pca_clear"):
            st.session_state["pca_maps_gen"] = st.session_state.get("pca_maps_gen", 0) + 1
            st.rerun()
    else:
        note.caption("Drag a box in any map, or click points (shift-click for more): the same points stay bright "
                     "in every map.")

    st.subheader("Held-out scores per method")
    _table(results)
    st.caption("Scores on the test split. k-NN accuracy: how well classes stay apart in 2-D; trustworthiness: how "
               "few false neighbours the map invents. Only PCA and the autoencoders can map back, so only they "
               "have a reconstruction error. Isomap, LLE and UMAP are fitted on training images and place the test "
               "images with their out-of-sample transform, as an encoder does; t-SNE cannot, so it embeds the test "
               "images together with the training prefix (its note says so).")


def error_and_subspace() -> None:
    st.subheader("Reconstruction error against dimension")
    _error_curve(ds, sel)
    st.subheader("The linear autoencoder learns PCA's plane")
    _angles(ds, found)


def unrolling() -> None:
    st.subheader("Swiss roll and S-curve: squashed or unrolled")
    _unrolling_panel()


# Each tab's content runs only while it is open: a visit computes and draws one tab's charts, and the swiss
# roll's embeddings (seconds, the first time) wait until someone opens its tab.
TABS = {"2-D maps, side by side": side_by_side, "Error against dimension": error_and_subspace,
        "Swiss roll and S-curve": unrolling}
lazy_tabs(TABS, "pca_tab", keep_keys=("pca_nonlinear", "pca_manifold"))
path.next_link(__file__)
