"""Train page: a form that starts a bounded, cancellable training in the background (ae_core.jobs),
a live view of its progress and losses that polls the job without blocking the page, and the
finished model's held-out metrics beside PCA's. The new model appears in the sidebar's picker
as soon as it is saved.
"""
from __future__ import annotations

import pandas as pd
import altair as alt
import streamlit as st

from ae_core import data, jobs, models, store, workflow
from ui import cache, own_data, path, stacks_panel
from ui.widgets import selection, vega_chart

TRAIN_DATASETS = data.available()
NOISE_CHOICES = ["kind default", "none", "gaussian", "masking", "salt-pepper"]
KIND_DEFAULT_NOISE = {k: models.KINDS[k].defaults.get("noise") for k in models.KINDS}
JOB_KEY = "train_job_id"
LIM = workflow.APP_LIMITS


def _select_model(name: str, dataset: str) -> None:
    # A callback runs before the sidebar is drawn, the only moment its widgets may be set.
    st.session_state["dataset_name"] = dataset
    st.session_state["model_name"] = name


def _spec_from_form(v: dict) -> jobs.JobSpec:
    hidden = jobs.parse_hidden(v["hidden"])
    noise = None
    if v["noise_kind"] == "none":
        noise = "none"
    elif v["noise_kind"] != "kind default":
        noise = f"{v['noise_kind']}:{v['noise_level']:g}"
    name = v["name"].strip() or f"{v['kind']}-{int(v['latent'])}d-{cache.session_uid()[:4]}"
    return jobs.JobSpec(
        kind=v["kind"], dataset=v["dataset"], name=name, latent_dim=int(v["latent"]), hidden=hidden, noise=noise,
        sparsity_weight=v["sparsity"], beta=v["beta"], epochs=int(v["epochs"]), batch_size=int(v["batch"]),
        n_train=None if v["n_train"] in (None, 0) else int(v["n_train"]), max_seconds=float(v["seconds"]),
        dataset_file=own_data.private_file(v["dataset"]))


def _form(sel) -> None:
    # This session's own uploads (ui.own_data) after the registered datasets.
    choices = TRAIN_DATASETS + own_data.names()
    if st.session_state.get("train_dataset") not in choices:
        st.session_state["train_dataset"] = sel.dataset.name if sel.dataset.name in choices else data.DEFAULT
    with st.form("train_form"):
        c1, c2, c3 = st.columns(3)
        v = {}
        v["kind"] = c1.selectbox("Kind", list(models.KINDS), key="train_kind",
                                 format_func=lambda k: f"{k} — {models.KINDS[k].summary}")
        v["dataset"] = c2.selectbox("Dataset", choices, key="train_dataset", format_func=own_data.label)
        v["name"] = c3.text_input("Model name", key="train_name", max_chars=store.MAX_NAME,
                                  placeholder="blank: kind-latent-id",
                                  help="Letters, digits, '-', '_' and '.'; an existing model's name is refused.")
        v["latent"] = c1.number_input("Latent dimension", 1, LIM["hidden"], 2, key="train_latent",
                                      help=f"At most {LIM['latent_dim']}; a sparse AE's code (its hidden layer) "
                                           f"up to {LIM['hidden']}.")
        v["hidden"] = c2.text_input("Hidden sizes (ae, dae, stacked, sdae, vae)", "256,64", key="train_hidden",
                                    help=f"Comma-separated, each at most {LIM['hidden']} units, at most "
                                         f"{jobs.MAX_HIDDEN_LAYERS} layers. The linear, sparse and conv kinds ignore it.")
        v["epochs"] = c3.number_input("Epochs", 1, LIM["epochs"], 5, key="train_epochs",
                                      help="Per greedy stage too, for stacked and sdae.")
        v["noise_kind"] = c1.selectbox("Input noise", NOISE_CHOICES, key="train_noise",
                                       help="Corruption while training (what makes a denoising AE). Kind default: "
                                            + ", ".join(f"{k} {n}" for k, n in KIND_DEFAULT_NOISE.items() if n) + ".")
        v["noise_level"] = c2.slider("Noise level (σ for gaussian, rate otherwise)", 0.0, 1.0, 0.3, 0.05,
                                     key="train_noise_level")
        v["batch"] = c3.number_input("Batch size", 1, jobs.MAX_BATCH, 128, key="train_batch")
        v["sparsity"] = c1.number_input("Sparsity weight (sparse)", 0.0, 100.0, value=None, key="train_sparsity",
                                        placeholder="kind default (0.1)")
        v["beta"] = c2.number_input("β (vae, beta-vae)", 0.0, 100.0, value=None, key="train_beta",
                                    placeholder="kind default (vae 1, beta-vae 4)")
        v["n_train"] = c3.number_input("Training images", 0, LIM["n_train"], value=None, key="train_n",
                                       placeholder="all of the training split",
                                       help=f"At most {LIM['n_train']:,}; a prefix of the (class-balanced) split.")
        v["seconds"] = c1.slider("Time limit (s)", 5, int(LIM["seconds"]), 120, 5, key="train_seconds",
                                 help="Training stops here and keeps the best weights so far.")
        submitted = st.form_submit_button("Train", type="primary")
    if submitted:
        _submit(v, sel)


def _submit(v: dict, sel) -> None:
    try:
        spec = _spec_from_form(v)
    except ValueError as e:
        st.error(str(e))
        return
    try:
        ds = cache.get_dataset(spec.dataset)
    except data.DatasetError as e:
        st.error(str(e))
        return
    try:
        job = cache.job_manager().submit(spec, owner=cache.session_uid(), root=sel.models_root, dataset=ds)
    except jobs.Busy as e:
        st.warning(str(e))
        return
    except ValueError as e:  # bounds, bad names, unbuildable configs (ConfigError, CheckpointError)
        st.error(str(e))
        return
    st.session_state[JOB_KEY] = job.id
    st.session_state.setdefault("train_jobs", []).append(job.id)


def _loss_chart(losses: list[dict]) -> alt.LayerChart:
    """Train and validation loss per epoch (log scale), greedy stages one after another on the x axis, each
    stage's start marked by a dotted rule and its name."""
    rows = [{"step": i + 1, "loss": r[part], "curve": name, "at": f"{r['stage']}, epoch {r['epoch']}"}
            for i, r in enumerate(losses) for part, name in (("train", "train"), ("val", "validation"))
            if r.get(part) is not None]
    x = alt.X("step:Q", title="epoch", scale=alt.Scale(domain=[0.5, len(losses) + 0.5], nice=False),
              axis=alt.Axis(tickMinStep=1))
    curves = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=x, y=alt.Y("loss:Q", title="loss per image", scale=alt.Scale(type="log")),
        color=alt.Color("curve:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("curve:N"), alt.Tooltip("at:N", title="stage"), alt.Tooltip("loss:Q", format=".3f")])
    starts = [{"step": i + 0.5, "stage": r["stage"]} for i, r in enumerate(losses)
              if (i == 0 and (len({q["stage"] for q in losses}) > 1 or r["stage"] != "train"))
              or (i > 0 and r["stage"] != losses[i - 1]["stage"])]
    if not starts:
        return alt.layer(curves)
    marks = alt.Chart(pd.DataFrame(starts)).encode(x="step:Q")
    return alt.layer(curves, marks.mark_rule(strokeDash=[2, 3], color="grey"),
                     marks.mark_text(align="left", baseline="top", dx=3, y=2, fontSize=11).encode(text="stage:N"))


def _result(snap: dict, root) -> None:
    name = snap["saved_name"]
    st.success(f"Saved **{name}** after {snap['elapsed']:.0f} s. It is in the sidebar's model picker "
               f"(with {snap['spec'].dataset} as the dataset).")
    if snap["note"]:
        st.info(snap["note"])
    try:
        meta = store.read_meta(name, root)
    except store.CheckpointError as e:
        st.error(f"The model was saved but cannot be read back: {e}")
        return
    t, p = meta.get("metrics", {}).get("test", {}), meta.get("metrics", {}).get("pca", {})
    if t:
        cols = ("sse", "mse", "psnr")
        rows = [{"": f"{name} ({meta['kind']}, {meta['config']['latent_dim']}-D)", **{k: t.get(k) for k in cols}}]
        if p:
            rows.append({"": f"PCA, {meta['config']['latent_dim']} components", **{k: p.get(k) for k in cols}})
        df = pd.DataFrame(rows).rename(columns={"sse": "sq. error / image", "mse": "MSE / pixel", "psnr": "PSNR (dB)"})
        st.dataframe(df, hide_index=True, column_config={
            "sq. error / image": st.column_config.NumberColumn(format="%.2f"),
            "MSE / pixel": st.column_config.NumberColumn(format="%.5f"),
            "PSNR (dB)": st.column_config.NumberColumn(format="%.2f")})
        st.caption(f"Measured on {meta.get('dataset', {}).get('name', '?')}'s held-out test split when training ended.")
    if snap["spec"].dataset in data.image_datasets() + own_data.names():  # the ones the sidebar offers
        st.button(f"Open {name} in the sidebar", key=f"train_open_{snap['id']}", on_click=_select_model,
                  args=(name, snap["spec"].dataset))


def _panel(job_id: str, root) -> None:
    mgr = cache.job_manager()
    job = mgr.get(job_id)
    if job is None:
        st.info("That training is no longer known to the server (it was restarted); submit it again.")
        return
    snap = job.snapshot()
    spec = snap["spec"]
    st.markdown(f"**{snap['name']}** · `{spec.kind}` on {spec.dataset} · {snap['status']}")
    if snap["status"] in jobs.ACTIVE:
        stage = snap["stage"] or "starting"
        epoch = f" · epoch {snap['epoch'] + 1}" if snap["stage"] else ""
        after = " · measuring on the test split and saving" if snap["progress"] >= 1 else ""
        st.progress(snap["progress"], text=f"{stage}{epoch} · {snap['progress']:.0%} · {snap['elapsed']:.0f} s{after}")
        if snap["cancel_requested"]:
            st.caption("Stopping at the next step…")
        elif st.button("Stop", key=f"train_stop_{job_id}"):
            mgr.cancel(job_id, owner=cache.session_uid())
            st.rerun(scope="fragment")
    if snap["losses"]:
        # The curve changes once an epoch, the panel every poll: build the figure again only when it changed.
        memo = st.session_state.setdefault("train_loss_fig", {})
        key = (job_id, len(snap["losses"]))
        if key not in memo:
            memo.clear()
            memo[key] = _loss_chart(snap["losses"])
        vega_chart(memo[key], 300, "train_loss_chart")
    if snap["status"] == "done":
        _result(snap, root)
    elif snap["status"] == "failed":
        st.error(f"Training failed: {snap['error']}")
    elif snap["status"] == "cancelled":
        st.info("Stopped before the end; the model was not saved.")
    refreshed = st.session_state.setdefault("train_refreshed", [])
    if not job.active and job_id not in refreshed:
        # One full rerun when the job ends, so the sidebar lists the new model at once.
        refreshed.append(job_id)
        st.rerun()


def _history(current: str | None) -> None:
    mgr = cache.job_manager()
    past = [mgr.get(j) for j in st.session_state.get("train_jobs", []) if j != current]
    past = [j.snapshot() for j in past if j is not None]
    if past:
        with st.expander(f"Earlier trainings in this session ({len(past)})"):
            st.dataframe(pd.DataFrame([{
                "model": s["name"], "kind": s["spec"].kind, "dataset": s["spec"].dataset, "status": s["status"],
                "test sq. error": s["metrics"].get("test", {}).get("sse"),
                "PCA sq. error": s["metrics"].get("pca", {}).get("sse"), "seconds": round(s["elapsed"], 1),
                "error": s["error"]} for s in reversed(past)]), hide_index=True)


# ---------------------------------------------------------------- the page

sel = selection()
st.title("Train a model")
path.intro(__file__)
st.markdown(
    "Train any kind in the zoo on a dataset; training runs in the background on the server, so this page "
    f"stays responsive. Bounds per training: at most {LIM['epochs']} epochs, {LIM['seconds']:.0f} s, "
    f"{LIM['n_train']:,} images, a {LIM['latent_dim']}-D latent and {LIM['hidden']} units per layer; "
    f"{cache.job_manager().max_concurrent} trainings at once on this server. Stacked kinds train greedily, "
    "one stage per layer, then fine-tune.")
own_data.panel(form_key="train_dataset")
_form(sel)

job_id = st.session_state.get(JOB_KEY)
if job_id:
    st.subheader("Training")
    current = cache.job_manager().get(job_id)
    if current is not None and current.active:
        # A fragment reruns alone once a second: the page polls the job without blocking anything. Each
        # poll costs the server a rerun and the browser a redraw while another session may be waiting
        # on the same cores (benchmarks/load.py); a progress bar needs no more than a tick a second.
        st.fragment(_panel, run_every=1.0)(job_id, sel.models_root)
    else:
        # Drawn with the page, so its buttons rerun the whole app (and the sidebar that they change).
        _panel(job_id, sel.models_root)
    _history(job_id)
# The path's stacking step is this page's: a stored stack taken apart, stage by stage.
stacks_panel.render(sel)
path.next_link(__file__)
