"""The upload panel every page that takes pictures of digits uses: a file uploader, how to prepare
the picture, and for each file the steps ae_core.images.prepare_upload took (original -> cleaned ->
cropped -> the model's input) with its message, so a person sees why their digit looks as it does.

Widgets only: the preprocessing is ae_core.images (cached in ui/cache.py).
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from ae_core import images
from ui import cache
from ui.widgets import show_image

TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]
MODE_LABELS = {"auto": "Auto",
               "mnist": "Find the digit (photos, scans, drawings)",
               "as-is": "Use as is (already a digit image; only resized)"}
MODE_HELP = ("Auto: as is when the picture already has the model's size (e.g. a noisy 28x28 digit), else find "
             "the digit: remove the paper's background, threshold, keep the digit's strokes, crop, fit into "
             "20x20 and centre in 28x28 as MNIST's digits were. Finding the digit in a noisy digit image would "
             "treat the noise as paper texture, so it is not used for those.")
STEP_WIDTH = 120


def _steps(name: str, prep: images.Prepared, shape: tuple) -> None:
    s = prep.steps
    h, w = shape[1:]
    cols = st.columns(4)
    final = f"{h}×{w}: the model's input" if prep.ok else "no digit"
    shown = [(s.original, f"original ({name})"),
             (s.cleaned, "cleaned: background removed" if s.path == "photo" else None),
             (s.cropped, "cropped to the digit" if s.path == "photo" else None),
             (prep.x, final)]
    for col, (img, caption) in zip(cols, shown):
        with col:
            if img is not None:
                show_image(np.asarray(img, np.float32), caption, STEP_WIDTH)
            elif s.path == "as-is":
                st.caption("Not used: the picture is taken as it is.")
            else:
                st.caption("—")
    if not prep.ok:
        st.warning(f"**{name}**: {s.message}", icon=":material/search_off:")
    elif s.candidates > 1:
        st.warning(f"**{name}**: {s.message}", icon=":material/filter_center_focus:")
    else:
        st.caption(f"**{name}**: {s.message}")


def upload_panel(shape, key: str, *, label: str, multiple: bool = False, empty: str | None = None,
                 default_mode: str = "auto") -> list[tuple[str, np.ndarray]]:
    """Draw the uploader (widget key `key`), the preparation choice and each file's steps.

    shape: the model's (C, H, W). Returns [(file name, x (C, H, W) float32)] for the files that gave a
    digit, in upload order; a file that is not an image, or has no digit, gets its own message and the
    others still come back. `empty`: an info note shown while no file is uploaded.
    """
    shape = tuple(int(v) for v in shape)
    got = st.file_uploader(label, type=TYPES, accept_multiple_files=multiple, key=key)
    files = [f for f in (got if multiple else [got]) if f is not None]
    modes = list(images.MODES)
    mode = st.radio("Preparation", modes, index=modes.index(default_mode), horizontal=True, key=f"{key}_mode",
                    format_func=MODE_LABELS.get, help=MODE_HELP)
    if not files:
        if empty:
            st.info(empty)
        return []
    out = []
    for f in files:
        try:
            prep = cache.prepared_upload(f.getvalue(), shape, mode)
        except images.ImageError as e:
            st.error(f"Cannot use this file: {f.name} — {e}")
            continue
        _steps(f.name, prep, shape)
        if prep.ok:
            out.append((f.name, prep.x))
    return out
