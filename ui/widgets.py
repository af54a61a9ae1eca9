"""Shared page widgets: crisp image display and the current selection."""
from __future__ import annotations

import numpy as np
import streamlit as st

from ae_core import images


def selection():
    """The sidebar's Selection for this run (set by app.py before the page runs)."""
    return st.session_state["selection"]


def show_image(img: np.ndarray, caption: str | None = None, width: int = 140) -> None:
    """Show a (H, W) or (1, H, W) image crisp: nearest-neighbour upscaled, never a blurry thumbnail."""
    a = np.asarray(img, dtype=np.float32)
    a = a[0] if a.ndim == 3 and a.shape[0] == 1 else (a.transpose(1, 2, 0) if a.ndim == 3 else a)
    scale = max(1, int(np.ceil(width / a.shape[1])))
    st.image(images.upscale(np.clip(a, 0, 1), scale), caption=caption, width=width)
