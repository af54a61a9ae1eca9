"""Your own dataset, for this browser session only: the Train page's upload panel and the session's list.

An uploaded ZIP of class folders or `.npz` is read by ae_core.data.user (bounded by ae_core.archives,
images decoded as untrusted); a refused file gets its message and takes nothing away from what the
session has loaded already. An accepted dataset lives in st.session_state (never in a cache shared
between sessions), so only this browser session offers it, in the sidebar and on the Train page; a
private .npz copy (data.user.save_private) is what a training worker reads. Once a model trained on it
is saved, the model is in the store like any other, and its card says where the data came from.
"""
from __future__ import annotations

import hashlib

import streamlit as st

from ae_core import data
from ae_core.data import user

KEY = "own_datasets"  # {name: {"dataset": Dataset, "file": private .npz path}}
_SEEN = "own_datasets_seen"  # {(sha256, resize): name or the refusal's message}, so a rerun does not decode again
UPLOAD_KEY = "own_upload"
SIZE_CHOICES = {"keep": "Keep their size (all images must have one size)",
                **{str(s): f"Resize every image to {s}×{s}" for s in user.RESIZE_SIDES}}


def _entries() -> dict:
    return st.session_state.setdefault(KEY, {})


def names() -> list[str]:
    """This session's own datasets, in upload order."""
    return list(_entries())


def get(name: str) -> data.Dataset | None:
    """This session's own dataset of that name, else None (another session's is never found)."""
    entry = _entries().get(name)
    return entry["dataset"] if entry else None


def private_file(name: str) -> str | None:
    """The private .npz a training worker reads this dataset from (None for registered datasets)."""
    entry = _entries().get(name)
    return entry["file"] if entry else None


def label(name: str) -> str:
    """How pickers show a dataset: this session's own ones marked as such."""
    return f"{name} (your upload)" if name in _entries() else name


def _load(blob: bytes, file_name: str, resize: int | None) -> str:
    """Read the upload into the session; returns the dataset's name. Raises DatasetError."""
    ds = user.load_upload(blob, file_name, resize)
    entries = _entries()
    if ds.name not in entries:
        for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
            a.setflags(write=False)  # read-only, as the registered datasets are
        try:
            path = user.save_private(ds)
        except OSError as e:
            raise data.DatasetError(f"Could not keep a private copy for training ({e.strerror or e}).") from None
        entries[ds.name] = {"dataset": ds, "file": str(path)}
    return ds.name


def panel(form_key: str | None = None) -> str | None:
    """The upload panel. Returns the name of a dataset accepted in this run (else None); with form_key, a
    newly accepted dataset is also chosen in that selectbox (drawn after this panel)."""
    with st.expander("Your own data: a ZIP of class folders of images, or an .npz", expanded=bool(_entries())):
        st.caption(f"Upload {user.RULES} The dataset stays in this browser session only; a model trained on "
                   "it is saved in the store for everyone, and its card records the file's name, sha256 and counts.")
        c1, c2 = st.columns([3, 2])
        got = c1.file_uploader("Dataset file (.zip or .npz)", type=["zip", "npz"], key=UPLOAD_KEY,
                               max_upload_size=int(user.NPZ_MAX_BYTES // 1_000_000))
        size = c2.radio("Image sizes (ZIP)", list(SIZE_CHOICES), format_func=SIZE_CHOICES.get, key="own_size")
        accepted = None
        if got is not None:
            blob = got.getvalue()
            resize = None if size == "keep" or got.name.lower().endswith(".npz") else int(size)
            seen = st.session_state.setdefault(_SEEN, {})
            key = (hashlib.sha256(blob).hexdigest(), resize)
            if key not in seen:
                try:
                    with st.spinner(f"Reading {got.name}…"):
                        seen[key] = ("ok", _load(blob, got.name, resize))
                    if form_key:
                        st.session_state[form_key] = seen[key][1]
                except data.DatasetError as e:
                    seen[key] = ("refused", str(e))
            status, what = seen[key]
            if status == "refused":
                kept = f" Your datasets loaded before are still here ({', '.join(names())})." if names() else ""
                st.error(f"Cannot use {got.name}: {what}{kept}", icon=":material/block:")
            else:
                accepted = what
                ds = get(what)
                if ds is not None:
                    st.success(f"**{what}**: {ds.description} {len(ds.x_train):,} training / {len(ds.x_test):,} "
                               "test images. Choose it under Dataset below, or in the sidebar.",
                               icon=":material/check_circle:")
        if _entries():
            st.dataframe([{"dataset": n, "file": e["dataset"].origin.get("file"),
                           "images": e["dataset"].origin.get("n_images"),
                           "classes": e["dataset"].origin.get("n_classes"),
                           "size": "×".join(map(str, e["dataset"].sample_shape[1:])),
                           "sha256": e["dataset"].origin.get("sha256", "")[:16] + "…"} for n, e in _entries().items()],
                         hide_index=True)
    return accepted
