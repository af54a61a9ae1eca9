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


DATASET_CHOICES = data.image_datasets()


def sidebar() -> Selection:
    """Dataset and model pickers shown on every page, with the picked model's card metrics."""
    root = models_root()
    with st.sidebar:
        st.markdown("### Data and model")
        _from_link("dataset", DATASET_CHOICES, "dataset_name")
        ds_name = st.selectbox("Dataset", DATASET_CHOICES, key="dataset_name",
                               help="mnist-5k is embedded; full MNIST (60,000 / 10,000) is unpacked offline by the set-up; "
                                    "Fashion-MNIST and KMNIST must be downloaded first.")
        try:
            ds = get_dataset(ds_name)
        except data.DatasetError as e:
            st.error(str(e))
            ds = get_dataset(data.DEFAULT)
        infos = store.list_models(root)
        broken = [m for m in infos if m.error]
        usable = [m for m in infos if not m.error]
        fits = [m for m in usable if _fits(m, ds, root)]
        # Models trained on the selected dataset first: a mnist-5k model also takes full MNIST's images,
        # but its figures on mnist are another model's figures.
        own = [m for m in fits if m.dataset == ds.name]
        fitting = [m.name for m in own] + [m.name for m in fits if m.dataset != ds.name]
        if not infos:
            _no_models(root)
        elif not fitting:
            st.info(f"No stored model takes {ds.name}'s {ds.sample_shape} images; train one on the Train page.")
        default = _default_model(own, fitting)
        _from_link("model", fitting, "model_name")
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
                model, meta = get_model(name, root)
            except store.CheckpointError as e:
                st.error(f"Cannot load this model: {e}")
                name = None
        # The choice goes into the page's URL, so a copied link opens the same data and model.
        _to_link("dataset", ds_name, data.DEFAULT)
        _to_link("model", name, default)
        if meta:
            _card(meta)
        if broken:
            st.warning(f"{len(broken)} model(s) in {root} cannot be read and are not offered: "
                       f"{', '.join(m.name for m in broken)}.")
            with st.expander("Why they cannot be read"):
                for m in broken:
                    st.caption(f"**{m.name}**: {m.error}")
    return Selection(ds, name, model, meta, root)


def _from_link(param: str, choices: list[str], key: str) -> None:
    """A session's first run takes the widget's value from the URL's `param`, when it names a choice;
    a stale or unknown value falls back to the default with a one-line notice."""
    flag = f"_link_{param}_read"
    if st.session_state.get(flag):
        return
    st.session_state[flag] = True
    value = st.query_params.get(param)
    if value is None:
        return
    if value in choices:
        st.session_state[key] = value
    else:
        st.info(f"The link asks for {param} {value[:60]!r}, which is not available here; showing the default.")


def _to_link(param: str, value: str | None, default: str | None) -> None:
    if value is None or value == default:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != value:
        st.query_params[param] = value


def _default_model(own: list, fitting: list[str]) -> str | None:
    """The 2-D autoencoder trained on this dataset (the latent map needs no projection), else the
    shipped ae-2d, else the first model that takes its images."""
    for m in own:
        if m.kind == "ae" and m.latent_dim == 2:
            return m.name
    if own:
        return own[0].name
    return "ae-2d" if "ae-2d" in fitting else (fitting[0] if fitting else None)


def _no_models(root: Path) -> None:
    """Say why there is nothing to pick: the folder is missing, is not a folder, or is empty."""
    hint = "Train one on the Train page, or run `python -m ae_core pretrain`."
    if not root.exists():
        st.warning(f"The models folder {root} does not exist (set MANIFOLD_LAB_MODELS to change it). {hint}")
    elif not root.is_dir():
        st.error(f"The models path {root} is not a folder; point MANIFOLD_LAB_MODELS at a folder of models.")
    else:
        st.warning(f"No models in {root}. {hint}")


def _fits(info: store.ModelInfo, ds: data.Dataset, root: Path) -> bool:
    try:
        meta = store.read_meta(info.name, root)
        return tuple(meta["config"].get("input_shape", ())) == ds.sample_shape
    except (store.CheckpointError, TypeError, ValueError):  # an input_shape that is not a list of sizes
        return False


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


# --- latent space / generate pages ---
# Derived from one model (identified by its key) and one dataset; cached per (key, dataset, options).
from ae_core import factors as _factors  # noqa: E402
from ae_core import latent as _latent  # noqa: E402


@st.cache_data(show_spinner="Measuring the latent coordinates…", max_entries=32)
def latent_stats(key: tuple, dataset_name: str) -> _latent.LatentStats:
    """Per-coordinate mean / spread / importance of the training codes."""
    model, _ = get_model(key[0])
    ds = get_dataset(dataset_name)
    return _latent.latent_stats(model, ds.x_train, encoded(key, dataset_name, "train"))


@st.cache_data(show_spinner="Projecting the codes to 2-D…", max_entries=16)
def latent_map(key: tuple, dataset_name: str, method: str, coords: tuple[int, int],
               with_train: bool) -> _latent.Projector:
    """A fitted Projector of the test codes (then the training codes, when asked) to the plane."""
    z = encoded(key, dataset_name, "test")
    if with_train:
        z = np.concatenate([z, encoded(key, dataset_name, "train")])
    return _latent.Projector(method, coords).fit(z)


@st.cache_data(show_spinner="Counting pixel-space neighbours over the test split…", max_entries=8)
def pixel_agreement(dataset_name: str, k: int = 8) -> float:
    """Over the test split: fraction of the k nearest pixel-space neighbours sharing the label. Per dataset,
    not per model: full MNIST's 10,000 x 10,000 pixel distances are computed once per server."""
    ds = get_dataset(dataset_name)
    return _latent.neighbour_agreement(ds.x_test, ds.y_test, k)


@st.cache_data(show_spinner="Counting latent-space neighbours…", max_entries=16)
def latent_agreement(key: tuple, dataset_name: str, k: int = 8) -> float:
    """Over the test split: fraction of the k nearest latent-space neighbours sharing the label."""
    return _latent.neighbour_agreement(encoded(key, dataset_name, "test"), get_dataset(dataset_name).y_test, k)


@st.cache_data(show_spinner="Naming the latent coordinates…", max_entries=16)
def factor_names(key: tuple, dataset_name: str, max_dims: int = 16, n_bases: int = 8) -> list:
    """FactorName of the max_dims most important coordinates, swept around n_bases test codes."""
    model, _ = get_model(key[0])
    stats = latent_stats(key, dataset_name)
    z_test = encoded(key, dataset_name, "test")
    rng = np.random.default_rng(0)
    bases = z_test[rng.choice(len(z_test), min(n_bases, len(z_test)), replace=False)]
    return _factors.name_factors(model, bases, stats, dims=stats.order[:max_dims])


# --- denoise / compression / manifold pages ---
# Everything here is keyed by model keys (name, mtime) so a retrained model is recomputed; models and
# fitted objects from st.cache_resource are shared across sessions and never mutated.
from ae_core import compress as _compress  # noqa: E402
from ae_core import denoise as _denoise  # noqa: E402
from ae_core import manifold as _manifold  # noqa: E402


def stored_models(shape: tuple, kinds: tuple[str, ...] | None = None,
                  dataset: str | None = None) -> list[tuple[str, str, str]]:
    """(name, kind, noise) of each readable stored model taking inputs of `shape`, optionally of these kinds
    and trained on this dataset (by its model card)."""
    out = []
    for info in store.list_models(models_root()):
        if info.error or (kinds is not None and info.kind not in kinds) or (dataset is not None and info.dataset != dataset):
            continue
        try:
            cfg = store.read_meta(info.name, models_root())["config"]
            if tuple(cfg.get("input_shape", ())) == tuple(shape):
                out.append((info.name, info.kind, str(cfg.get("noise", "none"))))
        except (store.CheckpointError, TypeError, ValueError):
            continue
    return out


def _models(keys: tuple) -> dict:
    return {k[0]: get_model(k[0])[0] for k in keys}


@st.cache_resource(show_spinner="Tuning non-local means on a few training images…", max_entries=16)
def nl_means(dataset_name: str, noise: str, seed: int = 0) -> _denoise.NLMeans:
    """Non-local means with h chosen on 8 validation images of the TRAINING split under this noise."""
    ds = get_dataset(dataset_name)
    return _denoise.NLMeans().fit(_denoise.validation_images(ds.x_train, 8, seed), noise, seed + 1)


@st.cache_data(show_spinner="Denoising…", max_entries=32)
def denoise_comparison(keys: tuple, dataset_name: str, idx: tuple[int, ...], noise: str, seed: int,
                       with_nlm: bool = True) -> _denoise.Comparison:
    """compare() on the test images `idx` under `noise` (seeded) for the models identified by `keys`."""
    ds = get_dataset(dataset_name)
    nlm = nl_means(dataset_name, noise, seed) if with_nlm and noise != "none" else None
    return _denoise.compare(_models(keys), ds.x_test[list(idx)], noise, seed, nlm=nlm)


@st.cache_resource(show_spinner="Training two tiny denoising autoencoders (a few seconds each)…", max_entries=4)
def filter_daes(dataset_name: str, levels: tuple[float, ...] = (0.1, 0.5), noise_kind: str = "masking") -> dict:
    """Two tiny DAEs differing only in their noise level, trained once per server and shared (read-only)."""
    ds = get_dataset(dataset_name)
    return _denoise.train_filter_daes(ds.x_train, levels, noise_kind)


@st.cache_data(show_spinner="Encoding noisy and clean images…", max_entries=16)
def latent_arrows(key: tuple, dataset_name: str, noise: str, n: int = 40, seed: int = 0) -> dict:
    """2-D positions of the codes of n test images and of their noisy versions, and the measured code shift."""
    model, _ = get_model(key[0])
    ds = get_dataset(dataset_name)
    x = ds.x_test[:n]
    noisy = _denoise.noise.corrupt(x, noise, seed)
    out = _denoise.latent_arrows(model, x, noisy)
    out["shift"] = _denoise.code_shift(model, x, noisy)
    out["labels"] = ds.y_test[:n]
    return out


@st.cache_resource(show_spinner="Fitting the off-manifold threshold…", max_entries=16)
def _detector(name: str, mtime: float, root: str, dataset_name: str) -> _manifold.OffManifoldDetector:
    model, meta = _load_model(name, mtime, root)
    return _manifold.fit_detector(model, get_dataset(dataset_name).x_train, meta)


def off_manifold_detector(model_name: str, dataset_name: str) -> _manifold.OffManifoldDetector:
    """The fitted OffManifoldDetector of a stored model (threshold from its held-out training slice).

    For any page that wants to flag an upload: `off_manifold_detector(name, ds.name).predict(x)`.
    """
    root = models_root()
    return _detector(model_name, model_key(model_name, root)[1], str(root), dataset_name)


@st.cache_data(show_spinner="Encoding with the autoencoders, JPEG and WebP…", max_entries=8)
def rate_distortion(keys: tuple, dataset_name: str, n_images: int) -> list[dict]:
    """Rate-distortion rows on the first n_images test images (quantiser ranges from the training codes)."""
    ds = get_dataset(dataset_name)
    return _compress.rate_distortion(_models(keys), ds.x_test[:n_images], ds.x_train)


@st.cache_data(show_spinner="Encoding the examples…", max_entries=16)
def matched_examples(key: tuple, dataset_name: str, idx: tuple[int, ...], bits: int, match_on: str) -> dict:
    model, _ = get_model(key[0])
    ds = get_dataset(dataset_name)
    return _compress.matched_examples(model, ds.x_test[list(idx)], ds.x_train, bits, match_on)


@st.cache_data(show_spinner="Measuring pairwise distances…", max_entries=8)
def distance_concentration(n: int = 500, seed: int = 0) -> list[dict]:
    return _manifold.distance_concentration(n=n, seed=seed)


@st.cache_data(show_spinner="Scoring reconstruction errors…", max_entries=16)
def manifold_errors(key: tuple, dataset_name: str, n: int = 500, seed: int = 0) -> dict:
    """Per-image reconstruction errors of test images, uniform noise and another dataset, and the threshold."""
    ds = get_dataset(dataset_name)
    det = off_manifold_detector(key[0], dataset_name)
    other_name, other = _manifold.other_dataset(ds.sample_shape, n, seed=seed)
    return {
        "threshold": det.threshold_,
        "heldout": det.heldout_scores_,
        "scores": {
            f"{dataset_name} test images": det.score(ds.x_test[:n]),
            "uniform random pixels": det.score(_manifold.uniform_images(n, ds.sample_shape, seed)),
            other_name: det.score(other),
        },
    }


@st.cache_data(show_spinner="Decoding random latent points…", max_entries=16)
def decoded_samples(key: tuple, dataset_name: str, n: int, seed: int) -> np.ndarray:
    model, _ = get_model(key[0])
    return _manifold.decoded_samples(model, encoded(key, dataset_name, "train"), n, seed)


# --- pca vs ae / train pages ---
# Embeddings and scores are cached per (dataset, method or model key): the non-linear methods take
# seconds, and every visitor who asks for the same ones shares the result.
import uuid  # noqa: E402

from ae_core import embeddings, jobs  # noqa: E402


@st.cache_data(show_spinner="Embedding…", max_entries=32)
def embedding_result(dataset_name: str, method: str) -> dict:
    """embeddings.embed_method on a dataset: one of PCA / Isomap / LLE / t-SNE, with held-out scores."""
    return embeddings.embed_method(get_dataset(dataset_name), method)


@st.cache_data(show_spinner="Encoding…", max_entries=32)
def model_embedding_result(key: tuple, dataset_name: str) -> dict:
    """A stored model's 2-D latent as an embedding, with the same held-out scores as the methods."""
    model, meta = get_model(key[0])
    return embeddings.embed_model(get_dataset(dataset_name), model, key[0], meta.get("history", {}).get("seconds"))


def store_signature(root: Path | None = None) -> tuple:
    """(name, config mtime) of every stored model: changes whenever a model is added, replaced or removed."""
    root = root or models_root()
    return tuple(model_key(m.name, root) for m in store.list_models(root))


@st.cache_data(show_spinner="Measuring error against dimension…", max_entries=8)
def error_curve(dataset_name: str, root: str, signature: tuple) -> dict:
    # signature is only part of the cache key: a new or retrained model invalidates the entry.
    return embeddings.error_vs_dimension(get_dataset(dataset_name), models_root=root)


@st.cache_data(show_spinner="Comparing subspaces…", max_entries=16)
def linear_angles(key: tuple, dataset_name: str) -> np.ndarray:
    model, _ = get_model(key[0])
    return embeddings.principal_angles(model, get_dataset(dataset_name).x_train)


@st.cache_resource(show_spinner="Training a small autoencoder on the point cloud…", max_entries=4)
def unrolling_ae(dataset_name: str):
    """The small 2-D AE of the swiss-roll / S-curve panel, trained once per server (shared, read-only)."""
    return embeddings.quick_ae(get_dataset(dataset_name), seconds=2.0)


@st.cache_data(show_spinner="Embedding the point cloud with PCA, Isomap, LLE and an AE…", max_entries=4)
def unrolling(dataset_name: str) -> list[dict]:
    model, seconds = unrolling_ae(dataset_name)
    out = embeddings.unrolling_comparison(dataset_name, ae_model=model)
    for r in out:
        if r["method"] == "AE":
            r["fit_seconds"] = seconds
    return out


def job_manager() -> jobs.JobManager:
    """The server's one JobManager (module-level in ae_core.jobs): shared by every session."""
    return jobs.MANAGER


def session_uid() -> str:
    """A stable id for this browser session, so a training belongs to the session that started it."""
    return st.session_state.setdefault("session_uid", uuid.uuid4().hex)


# --- uploads (ui/upload.py) ---
from ae_core import images as _images  # noqa: E402


@st.cache_data(show_spinner="Finding the digit…", max_entries=32)
def prepared_upload(data: bytes, shape: tuple, mode: str) -> _images.Prepared:
    """images.prepare_upload, cached: a rerun (any widget) must not decode a 12-megapixel photo again.
    An ImageError is raised again on every call (Streamlit never caches exceptions)."""
    return _images.prepare_upload(data, shape, mode)
