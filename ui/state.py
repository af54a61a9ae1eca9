"""The app's shared state: cached datasets and models (the only st.cache_* wrappers) and the sidebar.

Models are cached with st.cache_resource and shared by every session, so pages must treat them
as read-only: ae_core.evaluate runs them under no_grad in eval mode and never changes weights.
The cache key includes the checkpoint's modification time, so a model retrained under the same
name is reloaded. Arrays derived from a model (encoded splits) use st.cache_data.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import streamlit as st

from ae_core import data, evaluate, store


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
        return model_key(self.model_name, self.models_root)


def models_root() -> Path:
    return store.default_root()


def model_key(name: str | None, root: Path | None = None) -> tuple:
    if name is None:
        return (None, 0.0)
    p = (root or models_root()) / name / store.CONFIG
    try:
        return (name, p.stat().st_mtime)
    except OSError:
        return (name, 0.0)


@st.cache_resource(show_spinner="Loading dataset…", max_entries=6)
def get_dataset(name: str) -> data.Dataset:
    # Shared read-only across sessions: a Dataset's arrays are never written to by the app.
    return data.load_dataset(name)


@st.cache_resource(show_spinner="Loading model…", max_entries=24)
def _load_model(name: str, mtime: float, root: str):
    return store.load(name, root)


def get_model(name: str, root: Path | None = None):
    root = root or models_root()
    return _load_model(name, model_key(name, root)[1], str(root))


@st.cache_data(show_spinner="Encoding…", max_entries=32)
def encoded(key: tuple, dataset_name: str, split: str = "test") -> np.ndarray:
    """The latent codes of a dataset split under the model identified by `key`."""
    model, _ = get_model(key[0])
    ds = get_dataset(dataset_name)
    return evaluate.encode(model, ds.x_test if split == "test" else ds.x_train)


@st.cache_data(show_spinner="Reconstructing…", max_entries=32)
def reconstructed(key: tuple, dataset_name: str, split: str = "test") -> np.ndarray:
    model, _ = get_model(key[0])
    ds = get_dataset(dataset_name)
    return evaluate.reconstruct(model, ds.x_test if split == "test" else ds.x_train)


DATASET_CHOICES = ["mnist-5k", "digits", "mnist", "fashion-mnist", "kmnist"]


def sidebar() -> Selection:
    """Dataset and model pickers shown on every page, with the picked model's card metrics."""
    root = models_root()
    with st.sidebar:
        st.markdown("### Data and model")
        ds_name = st.selectbox("Dataset", DATASET_CHOICES, key="dataset_name",
                               help="mnist-5k is embedded; MNIST, Fashion-MNIST and KMNIST must be downloaded first.")
        try:
            ds = get_dataset(ds_name)
        except data.DatasetError as e:
            st.error(str(e))
            ds = get_dataset(data.DEFAULT)
        infos = store.list_models(root)
        broken = [m for m in infos if m.error]
        usable = [m for m in infos if not m.error]
        fitting = [m.name for m in usable if _fits(m, ds, root)]
        if not infos:
            st.warning(f"No models in {root}. Train one on the Train page, or run `python -m ae_core pretrain`.")
        elif not fitting:
            st.info(f"No stored model takes {ds.name}'s {ds.sample_shape} images; train one on the Train page.")
        default = "ae-2d" if "ae-2d" in fitting else (fitting[0] if fitting else None)
        if fitting and st.session_state.get("model_name") not in fitting:
            st.session_state["model_name"] = default
        name = st.selectbox("Model", fitting, key="model_name") if fitting else None
        model, meta = None, {}
        if name is not None:
            try:
                model, meta = get_model(name, root)
            except store.CheckpointError as e:
                st.error(f"Cannot load this model: {e}")
                name = None
        if meta:
            _card(meta)
        if broken:
            with st.expander(f"{len(broken)} unreadable model(s)"):
                for m in broken:
                    st.caption(f"**{m.name}**: {m.error}")
    return Selection(ds, name, model, meta, root)


def _fits(info: store.ModelInfo, ds: data.Dataset, root: Path) -> bool:
    try:
        meta = store.read_meta(info.name, root)
    except store.CheckpointError:
        return False
    return tuple(meta["config"].get("input_shape", ())) == ds.sample_shape


def _card(meta: dict) -> None:
    t = meta.get("metrics", {}).get("test", {})
    p = meta.get("metrics", {}).get("pca", {})
    st.caption(f"`{meta['kind']}` · latent {meta['config']['latent_dim']} · trained on {meta.get('dataset', {}).get('name', '?')}")
    if t:
        c1, c2 = st.columns(2)
        c1.metric("Test PSNR", f"{t['psnr']:.1f} dB", delta=f"{t['psnr'] - p['psnr']:+.1f} vs PCA" if p else None)
        c2.metric("Sq. error / image", f"{t['sse']:.1f}", delta=f"{t['sse'] - p['sse']:+.1f} vs PCA" if p else None,
                  delta_color="inverse")
