"""The sidebar shown on every page: dataset and model pickers, the picked model's card metrics, and the
?dataset= / ?model= query parameters (through ui.share) that make a copied link open the same view.

`sidebar()` returns the run's Selection; app.py stores it for the pages (ui.widgets.selection()).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import streamlit as st

from ae_core import data, store
from ui import cache, own_data, share


@dataclasses.dataclass
class Selection:
    """What the sidebar picked: the dataset, and the model (None when no model fits the dataset)."""

    dataset: data.Dataset
    model_name: str | None
    model: object | None
    meta: dict
    models_root: Path

    @property
    def key(self) -> tuple:
        """Hashable identity of the selected model, for st.cache_data functions."""
        return cache.model_key(self.model_name, self.models_root)


DATASET_CHOICES = data.image_datasets()


def sidebar() -> Selection:
    """Dataset and model pickers shown on every page, with the picked model's card metrics."""
    root = cache.models_root()
    with st.sidebar:
        st.markdown("### Data and model")
        # This session's own uploads (ui.own_data) after the registered datasets: no other session lists them.
        choices = DATASET_CHOICES + own_data.names()
        share.choice("dataset", choices, "dataset_name")
        ds_name = st.selectbox("Dataset", choices, key="dataset_name", format_func=own_data.label,
                               help="mnist-5k is embedded; full MNIST (60,000 / 10,000) is unpacked offline by the set-up; "
                                    "Fashion-MNIST and KMNIST must be downloaded first.")
        try:
            ds = cache.get_dataset(ds_name)
        except data.DatasetError as e:
            st.error(str(e))
            ds = cache.get_dataset(data.DEFAULT)
        infos = store.list_models(root)
        broken = [m for m in infos if m.error]
        fits = [m for m in infos if not m.error and m.input_shape == ds.sample_shape]
        # Models trained on the selected dataset first: a mnist-5k model also takes full MNIST's images,
        # but its figures on mnist are another model's figures.
        own = [m for m in fits if m.dataset == ds.name]
        fitting = [m.name for m in own] + [m.name for m in fits if m.dataset != ds.name]
        if not infos:
            _no_models(root)
        elif not fitting:
            st.info(f"No stored model takes {ds.name}'s {ds.sample_shape} images; train one on the Train page.")
        default = _default_model(own, fitting)
        share.choice("model", fitting, "model_name")
        # A new dataset brings its own default model; within one dataset the user's choice stays.
        if fitting and (st.session_state.get("model_name") not in fitting
                        or st.session_state.get("_model_dataset") not in (None, ds.name)):
            st.session_state["model_name"] = default
        st.session_state["_model_dataset"] = ds.name
        name = st.selectbox("Model", fitting, key="model_name",
                            format_func=lambda n: n if n in {m.name for m in own} else f"{n} (trained on other data)",
                            ) if fitting else None
        model, meta = None, {}
        if name is not None:
            try:
                model, meta = cache.get_model(name, root)
            except store.CheckpointError as e:
                st.error(f"Cannot load this model: {e}")
                name = None
        # The choice goes into the page's URL, so a copied link opens the same data and model: the dataset
        # actually shown, not the one asked for (a dataset that failed to load fell back to the default).
        share.write("dataset", ds.name, data.DEFAULT)
        share.write("model", name, default)
        if meta:
            _card(meta)
            _download_model(name, root)
        if broken:
            st.warning(f"{len(broken)} model(s) in {root} cannot be read and are not offered: "
                       f"{', '.join(m.name for m in broken)}.")
            with st.expander("Why they cannot be read"):
                for m in broken:
                    st.caption(f"**{m.name}**: {m.error}")
    return Selection(ds, name, model, meta, root)


def _default_model(own: list, fitting: list[str]) -> str | None:
    """The 2-D autoencoder trained on this dataset (the latent map needs no projection), else the
    shipped ae-2d, else the first model that takes its images."""
    for m in own:
        if m.kind == "ae" and m.latent_dim == 2:
            return m.name
    if own:
        return own[0].name
    return "ae-2d" if "ae-2d" in fitting else (fitting[0] if fitting else None)


def _download_model(name: str, root: Path) -> None:
    """The picked model's folder (weights, config.json, card) as one ZIP, built only when clicked;
    `python -m ae_core import-model` (ae_core.store.transfer) adds it back to a store, checked."""
    import functools

    from ae_core.store import transfer

    st.download_button("Download model (.zip)", functools.partial(transfer.export_zip, name, root),
                       file_name=f"{name}.zip", mime="application/zip", key="download_model", on_click="ignore",
                       icon=":material/download:",
                       help="Weights (safetensors), config.json and the model card in one ZIP. Load it elsewhere with "
                            "`python -m ae_core import-model FILE.zip`: the same checks as any checkpoint.")


def _no_models(root: Path) -> None:
    """Say why there is nothing to pick: the folder is missing, is not a folder, or is empty."""
    hint = "Train one on the Train page, or run `python -m ae_core pretrain`."
    if not root.exists():
        st.warning(f"The models folder {root} does not exist (set MANIFOLD_LAB_MODELS to change it). {hint}")
    elif not root.is_dir():
        st.error(f"The models path {root} is not a folder; point MANIFOLD_LAB_MODELS at a folder of models.")
    else:
        st.warning(f"No models in {root}. {hint}")


def _num(d: object, key: str) -> float | None:
    """d[key] if d is a dict and it holds a real number (a hand-edited config.json may hold anything)."""
    v = d.get(key) if isinstance(d, dict) else None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _card(meta: dict) -> None:
    metrics = meta.get("metrics", {})
    t = metrics.get("test", {}) if isinstance(metrics, dict) else {}
    p = metrics.get("pca", {}) if isinstance(metrics, dict) else {}
    ds = meta.get("dataset", {})
    ds_name = ds.get("name", "?") if isinstance(ds, dict) else "?"
    st.caption(f"`{meta['kind']}` · latent {meta['config']['latent_dim']} · trained on {ds_name}")
    t_psnr, t_sse, p_psnr, p_sse = _num(t, "psnr"), _num(t, "sse"), _num(p, "psnr"), _num(p, "sse")
    if t_psnr is not None and t_sse is not None:
        c1, c2 = st.columns(2)
        c1.metric("Test PSNR", f"{t_psnr:.1f} dB",
                  delta=f"{t_psnr - p_psnr:+.1f} vs PCA" if p_psnr is not None else None)
        c2.metric("Sq. error / image", f"{t_sse:.1f}",
                  delta=f"{t_sse - p_sse:+.1f} vs PCA" if p_sse is not None else None, delta_color="inverse")
