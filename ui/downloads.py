"""Download buttons with one look on every page: a picture as PNG, a batch as ZIP, points as CSV.

The bytes come from ae_core.export; a button is given a function that builds them, so they are built
when it is clicked (Streamlit runs it then), not on every rerun, and a click does not rerun the page.
"""
from __future__ import annotations

from typing import Callable

import streamlit as st

KINDS = {"png": ("image/png", ":material/image:"), "zip": ("application/zip", ":material/folder_zip:"),
         "csv": ("text/csv", ":material/table:")}


def button(label: str, data: Callable[[], bytes] | bytes, file_name: str, key: str, help: str | None = None,
           where=st) -> None:
    """A download button for `data` (bytes, or a function returning them) saved as `file_name`."""
    mime, icon = KINDS[file_name.rsplit(".", 1)[-1].lower()]
    where.download_button(label, data, file_name=_safe(file_name), mime=mime, key=key, on_click="ignore",
                          icon=icon, help=help)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
