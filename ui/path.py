"""The path through the argument: the app's one story, told step by step, defined once.

The lecture the app follows makes one argument: data live on a low-dimensional manifold in a space
whose high dimension is hostile; PCA can only flatten it linearly; an autoencoder learns it
non-linearly, self-supervised; stacking trains it layer by layer; denoising makes it robust; a good
manifold's coordinates are disentangled factors; and it compresses better than JPEG where bytes are
few. STEPS is that argument in order: each step names the page that lets a user explore it, the claim
in one sentence, the line the page starts with, and the Home page's picture and number for it
(functions of ui/home_cache.py, by name).

Home (pages/home.py) draws the steps; every other page calls `intro(__file__)` right after its title
and `next_link(__file__)` at its end, so the path can be walked from any page.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import streamlit as st

HOME = "pages/home.py"
ROOT = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Step:
    page: str      # the page that explores it, relative to app.py
    title: str     # a few words
    claim: str     # the claim, one sentence
    shows: str     # what the page shows of it: the page's first line
    picture: str   # ui.home_cache function drawing Home's picture of it
    number: str    # ui.home_cache function measuring Home's number for it


STEPS: tuple[Step, ...] = (
    Step("pages/manifold.py", "High dimensions are hostile",
         "In the 784 dimensions of a 28×28 image almost every point is noise, distances stop telling near from far, "
         "and filling the space takes exponentially many samples: the curse of dimensionality.",
         "how much room there is in high dimensions: samples needed for a fixed density, distances that concentrate, "
         "a cube whose volume is all corners (tabs 1–3)",
         "picture_random_pixels", "number_distance_concentration"),
    Step("pages/manifold.py", "Real images live on a thin manifold",
         "Digits fill a tiny, low-dimensional part of pixel space: a decoder turns any random code into a digit-like "
         "image, and an image far from that manifold is rebuilt badly.",
         "random pixels against decoded random codes, and reconstruction errors on and off the manifold (tab 4)",
         "picture_decoded_samples", "number_off_manifold"),
    Step("pages/pca_vs_ae.py", "PCA can only flatten it",
         "PCA projects onto a plane, so a curved manifold comes out folded, its classes on top of each other; a "
         "non-linear map can unfold it.",
         "the same held-out points mapped to 2-D by PCA, linear and non-linear autoencoders and neighbourhood "
         "methods, with held-out scores",
         "picture_pca_vs_ae", "number_knn"),
    Step("pages/latent_space.py", "An autoencoder learns the manifold",
         "Trained only to rebuild its own input (self-supervised, no labels), an autoencoder's encoder learns "
         "coordinates on the manifold and its decoder maps any coordinate back to an image.",
         "the encoder's map of the test images: click a point for its reconstruction, empty space to decode it",
         "picture_reconstructions", "number_vs_pca"),
    Step("pages/train.py", "Stacking trains it layer by layer",
         "A deep autoencoder can be trained greedily, one shallow autoencoder per layer on the codes of the layer "
         "below, then fine-tuned as a whole (Hinton & Salakhutdinov 2006; Bengio et al. 2007).",
         "training any kind of the model zoo, the stacked and stacked denoising ones greedily, stage by stage",
         "picture_stacked_filters", "number_stacked"),
    Step("pages/denoise.py", "Denoising makes it robust",
         "Trained to undo corruption, a denoising autoencoder projects a noisy image back onto the manifold, so "
         "noisy and clean images end up at the same place.",
         "noisy images through plain, denoising and stacked denoising autoencoders and classical filters, scored",
         "picture_denoised", "number_denoise"),
    Step("pages/generate.py", "Its coordinates are factors",
         "On a good manifold each coordinate controls one way the images vary, like the lecture's \"v1 is zoom, v2 "
         "is rotation\": disentangled factors, measured here by sweeping each coordinate.",
         "one slider per latent coordinate, each named by the image factor its sweep follows",
         "picture_traversal", "number_factors"),
    Step("pages/compression.py", "It compresses, where bytes are few",
         "An autoencoder is a learned codec: a few bytes of code rebuild a digit that JPEG needs far more bytes for, "
         "but only at small budgets.",
         "an autoencoder codec against JPEG and WebP, bytes per image against quality on held-out images",
         "picture_codec", "number_codec"),
)


def page_key(file: str | Path) -> str:
    """'pages/<name>.py' for a page file given as __file__, a path or that string."""
    return f"pages/{Path(file).name}"


def steps_of(file: str | Path) -> list[tuple[int, Step]]:
    """(1-based number, step) of each step that the page explores."""
    key = page_key(file)
    return [(i, s) for i, s in enumerate(STEPS, 1) if s.page == key]


def pages() -> list[str]:
    """The path's pages in order, each once."""
    return list(dict.fromkeys(s.page for s in STEPS))


def next_page(file: str | Path) -> tuple[int, Step] | None:
    """The first step after this page's last one (None on the last page, or a page off the path)."""
    mine = steps_of(file)
    if not mine or mine[-1][0] == len(STEPS):
        return None
    i = mine[-1][0] + 1
    return i, STEPS[i - 1]


def _numbers(mine: list[tuple[int, Step]]) -> str:
    n = [i for i, _ in mine]
    return f"Step {n[0]}" if len(n) == 1 else f"Steps {n[0]}–{n[-1]}"


def intro(file: str | Path) -> None:
    """The page's first line: which step(s) of the path it explores and what it shows of them."""
    mine = steps_of(file)
    if not mine:
        return
    titles = "; ".join(s.title.lower() if k else s.title for k, (_, s) in enumerate(mine))
    shows = "; ".join(s.shows for _, s in mine)
    st.info(f"**{_numbers(mine)} of {len(STEPS)} on the path — {titles}.** What this shows: {shows}.",
            icon=":material/route:")


def nav_entry(page: str) -> tuple[str, str | None]:
    """(title, icon) that app.py's navigation gives a page, so links read like the sidebar; the file's
    name and no icon where the page is not registered (a page run on its own)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        want = (ROOT / page).resolve()
        for info in get_script_run_ctx().pages_manager.get_pages().values():
            if Path(info["script_path"]).resolve() == want and info.get("page_name"):
                return info["page_name"], info.get("icon") or None
    except Exception:  # noqa: BLE001 - a Streamlit internal; a plain label is a fine fallback
        pass
    return Path(page).stem.replace("_", " "), None


def page_link(page: str, label: str | None = None, icon: str | None = None, **kw) -> None:
    """st.page_link to a page of app.py's navigation (its own title and icon unless given). Where the page
    is not registered (a page run on its own, as the AppTest page tests do) a plain line says the same."""
    try:
        st.page_link(page, label=label, icon=icon, **kw)
    except st.errors.StreamlitAPIException:
        name = Path(page).stem
        st.markdown(f"{label or name} (`/{'' if page == HOME else name}`)")


def next_link(file: str | Path) -> None:
    """The page's last line: "next: ..." to the following step's page, or back to Home after the last."""
    if not steps_of(file):
        return
    st.divider()
    nxt = next_page(file)
    if nxt is None:
        page_link(HOME, label=f"The path ends here: back to the start, all {len(STEPS)} steps on one page",
                  icon=":material/home:")
    else:
        i, s = nxt
        page_link(s.page, label=f"Next: step {i} of {len(STEPS)} — {s.title}", icon=":material/arrow_forward:")
