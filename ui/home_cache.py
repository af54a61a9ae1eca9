"""The Home page's pictures and numbers: one per step of the path (ui/path.py).

Every picture is a PNG drawn by ae_core.figures from arrays that the pages' own cached wrappers in
ui/cache.py return, called with the pages' own default settings, so the figure under a step is the
figure its page shows, and the work is shared with that page (st.cache_data is per server). The few
arrays no page caches yet have their wrapper here, one call into ae_core each. No Plotly: Home is
the first page most visitors see, and a chart would make a new visitor wait for Plotly's bundle.

Each `picture_*` returns a list of Picture, each `number_*` a Number; both take the sidebar's
Selection and raise Unavailable (with a sentence for the user) when the selected dataset or the
model store cannot show that step.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from ae_core import denoise, evaluate, factors, figures, manifold, metrics, store
from ui import cache

# The pages' own defaults, so Home's figures are the pages' figures.
MF_N_SIDE, MF_ERR_N = 6, 500                 # pages/manifold.py: 6x6 sample grids, 500 images per error set
DN_NOISE, DN_SEED, DN_N = "masking:0.5", 0, 200  # pages/denoise.py: default noise, seed, "first 200 test images"
DN_PLAIN_PREF, DN_PLAIN_KINDS = "ae-16d", ("ae", "linear", "stacked", "conv", "vae", "beta-vae", "sparse")
GEN_MAX_SLIDERS, GEN_STEPS, GEN_SPAN = 16, 9, 2.0  # pages/generate.py: sliders, traversal steps, +-2 sigma
CX_MODEL, CX_BITS, CX_IDX = "ae-30d", 8, (0, 1, 2, 3)  # pages/compression.py: "At matched sizes" defaults
MAP_MODEL = "ae-2d"                          # pages/pca_vs_ae.py's AE
SHOWN = 16                                   # images per strip on Home


class Unavailable(Exception):
    """This step cannot be shown for the current selection; the message says why, to the user."""


@dataclasses.dataclass(frozen=True)
class Picture:
    png: bytes
    caption: str

    @property
    def width(self) -> int:
        """The PNG's own width (from its header): shown at exactly that size, never stretched to a caption."""
        return int.from_bytes(self.png[16:20], "big")


@dataclasses.dataclass(frozen=True)
class Number:
    """One measured figure: label and formatted value (as st.metric shows them), a sentence of detail
    (how it was measured, what it is compared with), and whether the step's claim holds on this data:
    "holds", "partly" or "fails"."""

    label: str
    value: str
    detail: str
    holds: str = "holds"


# ---------------------------------------------------------------- helpers


def _image_dataset(sel, model: bool = True):
    ds = sel.dataset
    if not ds.is_image or ds.sample_shape[0] != 1:
        raise Unavailable(f"{ds.name} is not a greyscale image dataset: pick one in the sidebar to see this step.")
    if model and sel.model is None:
        raise Unavailable(f"No stored model takes {ds.name}'s images: train one on the Train page.")
    return ds


def _fitting(ds, kinds: tuple[str, ...] | None = None) -> list[str]:
    return [n for n, _, _ in cache.stored_models(ds.sample_shape, kinds)]


def _pick(ds, preferred: str, kinds: tuple[str, ...] | None = None) -> str:
    names = _fitting(ds, kinds)
    if preferred in names:
        return preferred
    if not names:
        raise Unavailable(f"No stored {' / '.join(kinds) if kinds else ''} model takes {ds.name}'s images.")
    return names[0]


def _card(name: str) -> tuple[dict, dict, dict]:
    """(meta, test metrics, PCA metrics) from a model's card (config.json)."""
    meta = store.read_meta(name, cache.models_root())
    metrics = meta.get("metrics") or {}
    return meta, metrics.get("test") or {}, metrics.get("pca") or {}


def _finite(*vals) -> bool:
    return all(isinstance(v, (int, float)) and np.isfinite(v) for v in vals)


# ---------------------------------------------------------------- cached pictures (one ae_core call each)


@st.cache_data(show_spinner=False, max_entries=16)
def grid_png(imgs: np.ndarray, ncols: int, scale: int = 2) -> bytes:
    return figures.grid_png(imgs, ncols, scale)


@st.cache_data(show_spinner=False, max_entries=16)
def scatter_png(z: np.ndarray, labels: np.ndarray, size: int = 210) -> bytes:
    return figures.scatter_png(z, labels, size=size)


@st.cache_data(show_spinner=False, max_entries=8)
def uniform_images(shape: tuple, n: int, seed: int = 0) -> np.ndarray:
    return manifold.uniform_images(n, shape, seed)


@st.cache_data(show_spinner="Reconstructing…", max_entries=16)
def reconstructions(key: tuple, dataset_name: str, n: int) -> np.ndarray:
    """The model's reconstructions of the first n test images."""
    return evaluate.reconstruct(cache.get_model(key[0])[0], cache.get_dataset(dataset_name).x_test[:n])


@st.cache_data(show_spinner=False, max_entries=16)
def filters(key: tuple, n: int = 30) -> np.ndarray:
    return denoise.first_layer_filters(cache.get_model(key[0])[0], n)


@st.cache_data(show_spinner="Sweeping the latent coordinates…", max_entries=16)
def traversal(key: tuple, dataset_name: str, dims: tuple[int, ...], idx: int = 0) -> np.ndarray:
    """Generate's traversal rows: each of `dims` swept over +-GEN_SPAN sigma around test image idx's code."""
    return factors.traversals(cache.get_model(key[0])[0], cache.encoded(key, dataset_name, "test")[idx], list(dims),
                              cache.latent_stats(key, dataset_name).spread, GEN_STEPS, GEN_SPAN)


def denoise_models(ds) -> dict[str, str]:
    """{"Plain AE": name, "DAE": name, "SDAE": name}: the Denoise page's default picks, those that exist."""
    stored = cache.stored_models(ds.sample_shape)
    plain = [n for n, k, nz in stored if k in DN_PLAIN_KINDS and nz in ("none", "")]
    out = {}
    for label, names, pref in (("Plain AE", plain, DN_PLAIN_PREF),
                               ("DAE", [n for n, k, _ in stored if k == "dae"], "dae"),
                               ("SDAE", [n for n, k, _ in stored if k == "sdae"], "sdae")):
        if names:
            out[label] = pref if pref in names else names[0]
    return out


def _denoise_comparison(ds):
    picks = denoise_models(ds)
    if "DAE" not in picks:
        raise Unavailable(f"No stored denoising autoencoder takes {ds.name}'s images: train a `dae` on the Train page.")
    keys = tuple(cache.model_key(n) for n in picks.values())
    # The Denoise page's "measured over the first 200 test images" (non-local means left out: it changes
    # no autoencoder's figure and costs seconds).
    return picks, cache.denoise_comparison(keys, ds.name, tuple(range(min(DN_N, len(ds.x_test)))), DN_NOISE,
                                           DN_SEED, False)


# ---------------------------------------------------------------- step 1: the curse of dimensionality


def picture_random_pixels(sel) -> list[Picture]:
    ds = _image_dataset(sel, model=False)
    x = uniform_images(ds.sample_shape, MF_N_SIDE * MF_N_SIDE, 0)[:SHOWN]
    return [Picture(grid_png(x, 8), f"{SHOWN} random points of {ds.name}'s {int(np.prod(ds.sample_shape))}-D pixel "
                                    "space: almost all of it looks like this")]


def number_distance_concentration(sel) -> Number:
    rows = cache.distance_concentration(500, 0)
    last = rows[-1]
    first = next((r for r in rows if r["d"] >= 2 and np.isfinite(r["ratio"])), rows[0])
    if not _finite(last["ratio"], first["ratio"]):
        raise Unavailable("The distance measurement gave no finite ratio.")
    return Number(
        f"farthest pair vs nearest pair, at d = {last['d']:,}", f"+{last['ratio']:.0%}",
        f"Of 500 uniform random points in [0, 1]^d (seed 0), the farthest pair is only {last['ratio']:.0%} farther "
        f"apart than the nearest at d = {last['d']:,}, against {first['ratio']:,.0f}× at d = {first['d']}: in high "
        "dimensions 'near' and 'far' stop meaning much, and covering the space takes exponentially many samples.")


# ---------------------------------------------------------------- step 2: the manifold hypothesis


def picture_decoded_samples(sel) -> list[Picture]:
    ds = _image_dataset(sel)
    x = cache.decoded_samples(sel.key, ds.name, MF_N_SIDE * MF_N_SIDE, 0)[:SHOWN]
    return [Picture(grid_png(x, 8), f"{SHOWN} random latent points of `{sel.model_name}`, decoded: "
                                    "every one lands on a digit-like image")]


def number_off_manifold(sel) -> Number:
    ds = _image_dataset(sel)
    err = cache.manifold_errors(sel.key, ds.name, MF_ERR_N, 0)
    thr = err["threshold"]
    names = list(err["scores"])
    frac = {n: float(np.mean(err["scores"][n] > thr)) for n in names}
    test, uniform, other = names[0], names[1], names[2]
    holds = "holds" if frac[uniform] > 0.95 and frac[test] < 0.1 else "fails"
    detail = (f"Under `{sel.model_name}`, an image is off the manifold when its reconstruction error exceeds the 99th "
              f"percentile of held-out training images ({thr:.4f}): {frac[uniform]:.0%} of random-pixel images are, "
              f"against {frac[test]:.1%} of {len(err['scores'][test])} held-out {ds.name} test images.")
    if holds == "holds" and frac[other] < 0.5:
        holds = "partly"
        detail += (f" But only {frac[other]:.0%} of {other} are flagged: error alone tells noise from digits far "
                   "better than one kind of image from another.")
    else:
        detail += f" {other}: {frac[other]:.0%} flagged."
    return Number("random-pixel images flagged off the manifold", f"{frac[uniform]:.0%}", detail, holds)


# ---------------------------------------------------------------- step 3: PCA flattens, linearly


def _map_model(sel, ds) -> str | None:
    names = _fitting(ds)
    if MAP_MODEL in names:
        return MAP_MODEL
    if sel.model is not None and sel.model.latent_dim == 2:
        return sel.model_name
    return None


def picture_pca_vs_ae(sel) -> list[Picture]:
    ds = _image_dataset(sel, model=False)
    pca = cache.embedding_result(ds.name, "PCA")
    out = [Picture(scatter_png(pca["embedding_test"], ds.y_test), f"PCA: {len(ds.x_test):,} test images, one colour "
                                                                 "per class")]
    name = _map_model(sel, ds)
    if name is not None:
        ae = cache.model_embedding_result(cache.model_key(name), ds.name)
        out.append(Picture(scatter_png(ae["embedding_test"], ds.y_test), f"the 2-D autoencoder `{name}`"))
    return out


def number_knn(sel) -> Number:
    ds = _image_dataset(sel, model=False)
    pca = cache.embedding_result(ds.name, "PCA")
    name = _map_model(sel, ds)
    if name is None:
        raise Unavailable(f"No stored 2-D autoencoder takes {ds.name}'s images, so there is no map to set beside "
                          f"PCA's (PCA's 5-NN accuracy: {pca['knn5']:.2f}).")
    ae = cache.model_embedding_result(cache.model_key(name), ds.name)
    gain = ae["knn5"] - pca["knn5"]
    holds = "holds" if gain > 0.05 else "fails"
    detail = (f"A 5-nearest-neighbour classifier fitted on the training points' 2-D map and scored on the "
              f"{len(ds.x_test):,} held-out points: classes that PCA lays on top of each other, `{name}` keeps apart. "
              f"Trustworthiness (no false neighbours = 1): {ae['trust']:.2f} vs {pca['trust']:.2f}.")
    if holds == "fails":
        detail += f" Here the autoencoder's map is not clearly better than PCA's ({gain:+.2f})."
    return Number(f"5-NN accuracy in 2-D, `{name}` vs PCA", f"{ae['knn5']:.2f} vs {pca['knn5']:.2f}", detail, holds)


# ---------------------------------------------------------------- step 4: an autoencoder learns it, self-supervised


def picture_reconstructions(sel) -> list[Picture]:
    ds = _image_dataset(sel)
    n = min(8, len(ds.x_test))
    x = np.concatenate([ds.x_test[:n], reconstructions(sel.key, ds.name, n)])
    return [Picture(grid_png(x, n), f"top: held-out test images; bottom: `{sel.model_name}`'s reconstructions "
                                    f"through its {sel.model.latent_dim}-number code")]


def number_vs_pca(sel) -> Number:
    ds = _image_dataset(sel)
    meta, t, p = _card(sel.model_name)
    sse, pca_sse = t.get("sse"), p.get("sse")
    d, kind = meta["config"]["latent_dim"], meta.get("kind", "?")
    if not _finite(sse, pca_sse):
        raise Unavailable(f"`{sel.model_name}`'s model card has no held-out figures.")
    if pca_sse <= 1e-9:
        return Number("held-out squared error per image", f"{sse:.1f}",
                      f"`{sel.model_name}` has a {d}-D code: PCA with that many components is lossless, so there is "
                      "no ratio to PCA.", "partly")
    ratio = sse / pca_sse
    detail = (f"`{sel.model_name}` ({kind}, a {d}-number code, trained only to rebuild its input, no labels): "
              f"{sse:.1f} squared error per held-out image against PCA's {pca_sse:.1f} with as many components "
              "(its model card; the sidebar shows it).")
    holds = "holds" if ratio < 0.95 else "fails"
    if holds == "fails":
        detail += (" This one does no better than PCA: " + (
            "a linear autoencoder can only learn PCA's plane (Baldi & Hornik, 1989)." if kind == "linear" else
            "it was trained to undo noise, not to compress clean images." if kind in ("dae", "sdae") else
            "pick a non-linear autoencoder in the sidebar to see the difference."))
    return Number("held-out squared error, relative to PCA at the same size", f"{ratio:.2f}×", detail, holds)


def card_vs_pca(name: str) -> str:
    """'sse vs PCA's sse (ratio)' from a stored model's card, for the About section; Unavailable if none."""
    try:
        meta, t, p = _card(name)
    except store.CheckpointError as e:
        raise Unavailable(f"`{name}` is not in the model store ({e}).") from None
    if not _finite(t.get("sse"), p.get("sse")) or p["sse"] <= 0:
        raise Unavailable(f"`{name}`'s model card has no held-out figures.")
    return (f"`{name}` ({meta['config']['latent_dim']}-D, trained on {(meta.get('dataset') or {}).get('name', '?')}): "
            f"{t['sse']:.2f} vs PCA's {p['sse']:.2f} squared error per held-out image, {t['sse'] / p['sse']:.2f}×")


# ---------------------------------------------------------------- step 5: stacking, layer by layer


def _stacked(ds) -> str:
    return _pick(ds, "sdae", ("sdae", "stacked"))


def picture_stacked_filters(sel) -> list[Picture]:
    ds = _image_dataset(sel, model=False)
    name = _stacked(ds)
    return [Picture(grid_png(filters(cache.model_key(name), 30)[:24], 8),
                    f"24 first-layer filters of `{name}`, the layer trained first, on its own")]


def number_stacked(sel) -> Number:
    ds = _image_dataset(sel, model=False)
    name = _stacked(ds)
    meta, t, p = _card(name)
    stages = (meta.get("history") or {}).get("stages") or []
    greedy = [s for s in stages if str(s.get("name", "")).startswith("stage")]
    sse, pca_sse, d = t.get("sse"), p.get("sse"), meta["config"]["latent_dim"]
    if not _finite(sse, pca_sse):
        raise Unavailable(f"`{name}`'s model card has no held-out figures.")
    detail = (f"`{name}` was trained in {len(greedy)} greedy stages (one shallow autoencoder per layer, each on the "
              f"codes of the one below), then fine-tuned as a whole: {sse:.1f} squared error per held-out image, "
              f"PCA {pca_sse:.1f} at {d}-D.")
    holds = "holds" if sse < pca_sse else "fails"
    plain = [n for n in _fitting(ds, ("ae",)) if _card(n)[0]["config"].get("latent_dim") == d]
    if plain:
        p_sse = _card(plain[0])[1].get("sse")
        if _finite(p_sse) and p_sse < sse:
            holds = "partly"
            detail += (f" A plain autoencoder of the same size trained end to end, `{plain[0]}`, does better "
                       f"({p_sse:.1f}; `{name}` was also trained on corrupted inputs): on small data and shallow "
                       "nets greedy pre-training is a way to train, not a necessity.")
    return Number(f"held-out squared error after {len(greedy)} stages + fine-tuning", f"{sse:.1f}", detail, holds)


# ---------------------------------------------------------------- step 6: denoising


def picture_denoised(sel) -> list[Picture]:
    ds = _image_dataset(sel, model=False)
    picks, comp = _denoise_comparison(ds)
    n = min(8, len(comp.clean))
    x = np.concatenate([comp.noisy[:n], comp.outputs[picks["DAE"]][:n], comp.clean[:n]])
    return [Picture(grid_png(x, n), f"top: masking noise (half the pixels zeroed); middle: the DAE `{picks['DAE']}`; "
                                    "bottom: the clean originals")]


def number_denoise(sel) -> Number:
    ds = _image_dataset(sel, model=False)
    picks, comp = _denoise_comparison(ds)
    means = {r["method"]: r["psnr"] for r in comp.means()}
    dae, noisy = means[picks["DAE"]], means["noisy"]
    holds = "holds" if dae > noisy + 1.0 else "fails"
    parts = [f"Mean PSNR over the first {len(comp.clean)} test images under {DN_NOISE}, seed {DN_SEED} (the Denoise "
             f"page's table): noisy input {noisy:.1f} dB"]
    if "Plain AE" in picks:
        parts.append(f"plain AE `{picks['Plain AE']}` {means[picks['Plain AE']]:.1f} dB")
    if "median 3x3" in means:
        parts.append(f"median filter {means['median 3x3']:.1f} dB")
    detail = ", ".join(parts) + "."
    if "SDAE" in picks:
        sdae = means[picks["SDAE"]]
        trained = cache.stored_models(ds.sample_shape, ("sdae",))
        nz = next((z for n, _, z in trained if n == picks["SDAE"]), "?")
        if sdae >= dae:
            detail += (f" The stacked DAE `{picks['SDAE']}` (trained on {nz}) does better still, {sdae:.1f} dB, as "
                       "Vincent et al. (2010) found.")
        else:
            holds = "partly" if holds == "holds" else holds
            detail += (f" The stacked DAE `{picks['SDAE']}` (trained on {nz}) scores {sdae:.1f} dB, below the DAE at "
                       "this noise level: Vincent et al.'s (2010) stacked-DAE advantage does not hold at every noise "
                       "level here; try others on the Denoise page.")
    return Number(f"mean PSNR of the DAE `{picks['DAE']}` at {DN_NOISE}", f"{dae:.1f} dB", detail, holds)


# ---------------------------------------------------------------- step 7: disentangled factors


def _top_dims(sel, ds, n: int) -> list[int]:
    stats = cache.latent_stats(sel.key, ds.name)
    return [int(d) for d in stats.order[:n]]


def picture_traversal(sel) -> list[Picture]:
    ds = _image_dataset(sel)
    dims = _top_dims(sel, ds, min(2, sel.model.latent_dim))
    rows = traversal(sel.key, ds.name, tuple(dims), 0)
    return [Picture(grid_png(rows.reshape(-1, *rows.shape[2:]), GEN_STEPS),
                    f"`{sel.model_name}`'s {len(dims)} most used coordinates ({', '.join(f'z{d}' for d in dims)}), "
                    f"one per row, swept ±{GEN_SPAN:g}σ around test image #0's code")]


def number_factors(sel) -> Number:
    ds = _image_dataset(sel)
    shown = _top_dims(sel, ds, GEN_MAX_SLIDERS)
    named = {n.dim: n for n in cache.factor_names(sel.key, ds.name, GEN_MAX_SLIDERS)}
    top = named.get(shown[0])
    if top is None or top.factor is None or not np.isfinite(top.r):
        raise Unavailable(f"No factor could be measured along `{sel.model_name}`'s coordinates.")
    clean = [d for d in shown if d in named and named[d].factor and abs(named[d].r) >= factors.LABEL_R]
    detail = (f"Sweeping z{top.dim}, `{sel.model_name}`'s most used coordinate, around 8 test codes and measuring the "
              f"decoded images: {top.factor} follows it with Pearson r = {top.r:+.2f}. {len(clean)} of the "
              f"{len(shown)} coordinates the Generate page shows {'is' if len(clean) == 1 else 'are'} named by one factor "
              f"(|r| ≥ {factors.LABEL_R}).")
    holds = "holds" if abs(top.r) >= factors.LABEL_R and len(clean) == len(shown) else "partly"
    if abs(top.r) < factors.LABEL_R:
        holds = "fails"
    if holds != "holds":
        detail += (" The rest mix several factors: a plain autoencoder is not trained to disentangle them "
                   "(a β-VAE is pushed towards it).")
    return Number(f"z{top.dim} tracks {top.factor}", f"r = {top.r:+.2f}", detail, holds)


# ---------------------------------------------------------------- step 8: compression


def _codec_model(sel, ds) -> str:
    names = _fitting(ds)
    if CX_MODEL in names:
        return CX_MODEL
    if sel.model_name in names:
        return sel.model_name
    if not names:
        raise Unavailable(f"No stored model takes {ds.name}'s images.")
    return names[0]


def _examples(sel):
    ds = _image_dataset(sel, model=False)
    name = _codec_model(sel, ds)
    return ds, name, cache.matched_examples(cache.model_key(name), ds.name, CX_IDX, CX_BITS, "file")


def picture_codec(sel) -> list[Picture]:
    _, name, ex = _examples(sel)
    x = np.concatenate([ex["ae"][0], ex["JPEG"][0], ex["original"]])
    return [Picture(grid_png(x, len(CX_IDX), 3),
                    f"top: `{name}`'s {ex['ae'][1]}-byte codes, decoded; middle: JPEG at its closest size "
                    f"({ex['JPEG'][1]:.0f} bytes); bottom: the originals")]


def number_codec(sel) -> Number:
    ds, name, ex = _examples(sel)
    orig = ex["original"]
    (ae_img, ae_b, ae_set), (j_img, j_b, j_set), (w_img, w_b, w_set) = ex["ae"], ex["JPEG"], ex["WebP"]
    ae_p, j_p, w_p = (float(np.mean(metrics.psnr(orig, im))) for im in (ae_img, j_img, w_img))
    smaller, better = ae_b < j_b, ae_p >= j_p
    holds = "partly" if smaller and better else "fails"
    detail = (f"`{name}` with {ae_set}s per coordinate: {ae_b} bytes per digit at {ae_p:.1f} dB PSNR on test images "
              f"{CX_IDX[0]}–{CX_IDX[-1]}; JPEG's closest file ({j_set}) takes {j_b:.0f} bytes for {j_p:.1f} dB. "
              f"That holds only where bytes are few: JPEG cannot get smaller than that, and above it JPEG and WebP keep "
              f"improving while the autoencoder's reconstructions stop (WebP {w_set}: {w_b:.0f} bytes, {w_p:.1f} dB). "
              "The crossover is measured on the Compression page.")
    return Number("bytes per digit: the autoencoder's code vs JPEG's smallest", f"{ae_b} vs {j_b:.0f}", detail, holds)
