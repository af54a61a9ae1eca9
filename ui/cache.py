"""The app's only st.cache_* wrappers: datasets, models and the arrays derived from them, each one call
into ae_core; and the server's shared JobManager.

Models are cached with st.cache_resource and shared by every session, so pages must treat them
as read-only: ae_core.evaluate runs them under no_grad in eval mode and never changes weights.
A model's cache key includes its checkpoint's modification time (`model_key`), so a model retrained
under the same name is reloaded and everything derived from it recomputed. Arrays use st.cache_data.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import streamlit as st

from ae_core import (compress, data, denoise, embeddings, evaluate, explore, factors, groundtruth, images, jobs,
                     latent, manifold, stacks, store, workflow)


def models_root() -> Path:
    return store.default_root()


def model_key(name: str | None, root: Path | None = None) -> tuple:
    """(name, config.json's mtime): the hashable identity of a stored model, for st.cache_data functions."""
    if name is None:
        return (None, 0.0)
    p = (root or models_root()) / name / store.CONFIG
    try:
        return (name, p.stat().st_mtime)
    except OSError:
        return (name, 0.0)


@st.cache_resource(show_spinner="Loading dataset…", max_entries=6)
def _registered_dataset(name: str) -> data.Dataset:
    # Shared read-only across sessions: a Dataset's arrays are never written to by the app.
    return data.load_dataset(name)


def get_dataset(name: str) -> data.Dataset:
    """A registered dataset (shared by every session), or this session's own upload (ui.own_data; its name
    holds its content's hash, so arrays cached under that name are the same for anyone who has it)."""
    from ui import own_data

    own = own_data.get(name)
    return own if own is not None else _registered_dataset(name)


@st.cache_resource(show_spinner="Loading model…", max_entries=24)
def _load_model(name: str, mtime: float, root: str):
    return store.load(name, root)


def get_model(name: str, root: Path | None = None):
    root = root or models_root()
    return _load_model(name, model_key(name, root)[1], str(root))


def _models(keys: tuple) -> dict:
    return {k[0]: get_model(k[0])[0] for k in keys}


def stored_models(shape: tuple, kinds: tuple[str, ...] | None = None,
                  dataset: str | None = None) -> list[tuple[str, str, str]]:
    """(name, kind, noise) of each readable stored model taking inputs of `shape` (store.stored_models)."""
    return [(m.name, m.kind, m.noise) for m in store.stored_models(models_root(), shape, kinds, dataset)]


def store_signature(root: Path | None = None) -> tuple:
    """(name, config mtime) of every stored model: changes whenever a model is added, replaced or removed."""
    root = root or models_root()
    return tuple(model_key(m.name, root) for m in store.list_models(root))


@st.cache_data(show_spinner="Encoding…", max_entries=32)
def encoded(key: tuple, dataset_name: str, split: str = "test") -> np.ndarray:
    """The latent codes of a dataset split under the model identified by `key`."""
    ds = get_dataset(dataset_name)
    return evaluate.encode(get_model(key[0])[0], ds.x_test if split == "test" else ds.x_train)


# ---------------------------------------------------------------- latent space / generate


@st.cache_data(show_spinner="Measuring the latent coordinates…", max_entries=32)
def latent_stats(key: tuple, dataset_name: str) -> latent.LatentStats:
    """Per-coordinate mean / spread / importance of the training codes."""
    return latent.latent_stats(get_model(key[0])[0], get_dataset(dataset_name).x_train,
                               encoded(key, dataset_name, "train"))


@st.cache_data(show_spinner="Projecting the codes to 2-D…", max_entries=16)
def latent_map(key: tuple, dataset_name: str, method: str, coords: tuple[int, int],
               with_train: bool) -> latent.Projector:
    """A fitted Projector of the test codes (then the training codes, when asked) to the plane."""
    z = [encoded(key, dataset_name, "test")] + ([encoded(key, dataset_name, "train")] if with_train else [])
    return latent.Projector(method, coords).fit(np.concatenate(z))


@st.cache_data(show_spinner="Reconstructing every image to measure its error…", max_entries=16)
def point_errors(key: tuple, dataset_name: str, split: str) -> dict:
    """explore.point_errors of a split under the model identified by key: {'sse', 'mse'} per image."""
    ds = get_dataset(dataset_name)
    return explore.point_errors(get_model(key[0])[0], ds.x_test if split == "test" else ds.x_train)


@st.cache_data(show_spinner="Placing every image among the held-out training images…", max_entries=16)
def off_manifold_percentile(key: tuple, dataset_name: str, split: str) -> np.ndarray:
    """Per image: the share (%) of the model's held-out training images it is reconstructed worse than."""
    return off_manifold_detector(key[0], dataset_name).percentile_of(point_errors(key, dataset_name, split)["mse"])


@st.cache_data(show_spinner="Counting pixel-space neighbours over the test split…", max_entries=8)
def pixel_agreement(dataset_name: str, k: int = 8) -> float:
    """Over the test split: fraction of the k nearest pixel-space neighbours sharing the label. Per dataset,
    not per model: full MNIST's 10,000 x 10,000 pixel distances are computed once per server."""
    ds = get_dataset(dataset_name)
    return latent.neighbour_agreement(ds.x_test, ds.y_test, k)


@st.cache_data(show_spinner="Counting latent-space neighbours…", max_entries=16)
def latent_agreement(key: tuple, dataset_name: str, k: int = 8) -> float:
    """Over the test split: fraction of the k nearest latent-space neighbours sharing the label."""
    return latent.neighbour_agreement(encoded(key, dataset_name, "test"), get_dataset(dataset_name).y_test, k)


@st.cache_data(show_spinner="Naming the latent coordinates…", max_entries=16)
def factor_names(key: tuple, dataset_name: str, max_dims: int = 16, n_bases: int = 8) -> list:
    """FactorName of the max_dims most important coordinates, swept around n_bases test codes."""
    return factors.name_model_factors(get_model(key[0])[0], encoded(key, dataset_name, "test"),
                                      latent_stats(key, dataset_name), max_dims, n_bases)


@st.cache_data(show_spinner="Scoring the code against the ground-truth factors (MI, MIG, SAP, DCI)…", max_entries=16)
def ground_truth(key: tuple, dataset_name: str) -> groundtruth.Scores:
    """The model's disentanglement scores on a dataset with factors (its held-out encoder means)."""
    return groundtruth.score(get_model(key[0])[0], get_dataset(dataset_name))


@st.cache_data(show_spinner="Probing how far each factor moves along each coordinate…", max_entries=16)
def traversal_effect(key: tuple, dataset_name: str, dims: tuple[int, ...], n_bases: int = 8) -> np.ndarray:
    """(len(dims), F) factor movement per swept coordinate, around the first n_bases test codes."""
    z = encoded(key, dataset_name, "test")
    return groundtruth.traversal_effect(get_model(key[0])[0], get_dataset(dataset_name), z[:n_bases], dims,
                                        latent_stats(key, dataset_name).spread)


# ---------------------------------------------------------------- denoise / compression / manifold


@st.cache_resource(show_spinner="Tuning non-local means on a few training images…", max_entries=16)
def nl_means(dataset_name: str, noise: str, seed: int = 0) -> denoise.NLMeans:
    """Non-local means with h chosen on 8 validation images of the TRAINING split under this noise."""
    return denoise.NLMeans().fit(denoise.validation_images(get_dataset(dataset_name).x_train, 8, seed), noise, seed + 1)


@st.cache_data(show_spinner="Denoising…", max_entries=32)
def denoise_comparison(keys: tuple, dataset_name: str, idx: tuple[int, ...], noise: str, seed: int,
                       with_nlm: bool = True) -> denoise.Comparison:
    """compare() on the test images `idx` under `noise` (seeded) for the models identified by `keys`."""
    nlm = nl_means(dataset_name, noise, seed) if with_nlm and noise != "none" else None
    return denoise.compare(_models(keys), get_dataset(dataset_name).x_test[list(idx)], noise, seed, nlm=nlm)


@st.cache_resource(show_spinner="Training two tiny denoising autoencoders (a few seconds each)…", max_entries=4)
def filter_daes(dataset_name: str, levels: tuple[float, ...] = (0.1, 0.5), noise_kind: str = "masking") -> dict:
    """Two tiny DAEs differing only in their noise level, trained once per server and shared (read-only)."""
    return workflow.filter_daes(get_dataset(dataset_name).x_train, levels, noise_kind)


@st.cache_data(show_spinner="Encoding noisy and clean images…", max_entries=16)
def latent_arrows(key: tuple, dataset_name: str, noise: str, n: int = 40, seed: int = 0) -> dict:
    """2-D positions of the codes of n test images and of their noisy versions, and the measured code shift."""
    ds = get_dataset(dataset_name)
    return denoise.noisy_code_arrows(get_model(key[0])[0], ds.x_test[:n], ds.y_test[:n], noise, seed)


@st.cache_resource(show_spinner="Fitting the off-manifold threshold…", max_entries=16)
def _detector(name: str, mtime: float, root: str, dataset_name: str) -> manifold.OffManifoldDetector:
    model, meta = _load_model(name, mtime, root)
    return manifold.fit_detector(model, get_dataset(dataset_name).x_train, meta)


def off_manifold_detector(model_name: str, dataset_name: str) -> manifold.OffManifoldDetector:
    """The fitted OffManifoldDetector of a stored model (threshold from its held-out training slice).

    For any page that wants to flag an upload: `off_manifold_detector(name, ds.name).predict(x)`.
    """
    root = models_root()
    return _detector(model_name, model_key(model_name, root)[1], str(root), dataset_name)


@st.cache_data(show_spinner="Encoding with the autoencoders, JPEG and WebP…", max_entries=8)
def rate_distortion(keys: tuple, dataset_name: str, n_images: int) -> list[dict]:
    """Rate-distortion rows on the first n_images test images (quantiser ranges from the training codes)."""
    ds = get_dataset(dataset_name)
    return compress.rate_distortion(_models(keys), ds.x_test[:n_images], ds.x_train)


@st.cache_data(show_spinner="Encoding the examples…", max_entries=16)
def matched_examples(key: tuple, dataset_name: str, idx: tuple[int, ...], bits: int, match_on: str) -> dict:
    ds = get_dataset(dataset_name)
    return compress.matched_examples(get_model(key[0])[0], ds.x_test[list(idx)], ds.x_train, bits, match_on)


@st.cache_data(show_spinner="Measuring pairwise distances…", max_entries=8)
def distance_concentration(n: int = 500, seed: int = 0) -> list[dict]:
    return manifold.distance_concentration(n=n, seed=seed)


@st.cache_data(show_spinner="Scoring reconstruction errors…", max_entries=16)
def manifold_errors(key: tuple, dataset_name: str, n: int = 500, seed: int = 0) -> dict:
    """Per-image reconstruction errors of test images, uniform noise and another dataset, and the threshold."""
    return manifold.error_comparison(off_manifold_detector(key[0], dataset_name), get_dataset(dataset_name).x_test,
                                     dataset_name, n, seed)


@st.cache_data(show_spinner="Decoding random latent points…", max_entries=16)
def decoded_samples(key: tuple, dataset_name: str, n: int, seed: int) -> np.ndarray:
    return manifold.decoded_samples(get_model(key[0])[0], latent_stats(key, dataset_name), n, seed)


# ---------------------------------------------------------------- pca vs ae
# Embeddings and scores are cached per (dataset, method or model key): the non-linear methods take
# seconds, and every visitor who asks for the same ones shares the result.


@st.cache_data(show_spinner="Embedding…", max_entries=32)
def embedding_result(dataset_name: str, method: str) -> dict:
    """embeddings.embed_method on a dataset: one of PCA / Isomap / LLE / t-SNE, with held-out scores."""
    return embeddings.embed_method(get_dataset(dataset_name), method)


@st.cache_data(show_spinner="Encoding…", max_entries=32)
def model_embedding_result(key: tuple, dataset_name: str) -> dict:
    """A stored model's 2-D latent as an embedding, with the same held-out scores as the methods."""
    model, meta = get_model(key[0])
    return embeddings.embed_model(get_dataset(dataset_name), model, key[0], meta.get("history", {}).get("seconds"))


@st.cache_data(show_spinner="Measuring error against dimension…", max_entries=8)
def error_curve(dataset_name: str, root: str, signature: tuple) -> dict:
    # signature is only part of the cache key: a new or retrained model invalidates the entry.
    return workflow.error_vs_dimension(get_dataset(dataset_name), models_root=root)


@st.cache_data(show_spinner="Comparing subspaces…", max_entries=16)
def linear_angles(key: tuple, dataset_name: str) -> np.ndarray:
    return embeddings.principal_angles(get_model(key[0])[0], get_dataset(dataset_name).x_train)


@st.cache_data(show_spinner="Embedding the point cloud with PCA, Isomap, LLE and an AE…", max_entries=4)
def unrolling(dataset_name: str) -> list[dict]:
    """workflow.unrolling: PCA, Isomap, LLE and a small AE trained for about 2 s, once per server."""
    return workflow.unrolling(dataset_name, ae_seconds=2.0)


# ---------------------------------------------------------------- stacks, layer by layer


@st.cache_resource(show_spinner="Loading the stack as it was before fine-tuning…", max_entries=8)
def _load_model_state(name: str, mtime: float, root: str, state: str):
    return store.load(name, root, state=state)


def get_model_state(name: str, state: str | None, root: Path | None = None):
    """(model, meta) with the stored weights `state` (workflow.GREEDY_STATE: before fine-tuning); None: the final ones."""
    if state is None:
        return get_model(name, root)
    root = root or models_root()
    return _load_model_state(name, model_key(name, root)[1], str(root), state)


@st.cache_data(show_spinner="Taking the stack apart, stage by stage…", max_entries=16)
def stack_walk(key: tuple, dataset_name: str, state: str | None = None, units: tuple | None = None) -> dict:
    ds = get_dataset(dataset_name)
    return stacks.walk(get_model_state(key[0], state)[0], ds.x_test, ds.x_train, units=units)


# ---------------------------------------------------------------- train / uploads


def job_manager() -> jobs.JobManager:
    """The server's one JobManager (module-level in ae_core.jobs): shared by every session."""
    return jobs.MANAGER


def session_uid() -> str:
    """A stable id for this browser session, so a training belongs to the session that started it."""
    return st.session_state.setdefault("session_uid", uuid.uuid4().hex)


@st.cache_data(show_spinner="Finding the digit…", max_entries=32)
def prepared_upload(data: bytes, shape: tuple, mode: str) -> images.Prepared:
    """images.prepare_upload, cached: a rerun (any widget) must not decode a 12-megapixel photo again.
    An ImageError is raised again on every call (Streamlit never caches exceptions)."""
    return images.prepare_upload(data, shape, mode)
