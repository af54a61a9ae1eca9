"""A view that lives in the page's URL (st.query_params), so a copied link opens the same view.

Owns the one mechanism every page uses: `read` takes a value from the link on the session's first
run of that parameter (a stale, unknown or malformed value gets a one-line notice and the default,
never an exception); `choice` is `read` for a widget whose value must be one of its options; `write`
puts the current value into the URL and leaves defaults out, so a plain link stays plain; `tidy`
drops the parameters of other pages when the person moves on. `PARAMS` says which page owns which
parameter: the sidebar's dataset and model belong to every page.

Per-session state that does not belong in a link (a selection, an upload) stays in st.session_state.
"""
from __future__ import annotations

from typing import Callable, Sequence

import streamlit as st

EVERY_PAGE = ("dataset", "model")
PARAMS: dict[str, tuple[str, ...]] = {
    "latent_space": ("pick", "map", "colour"),
    "generate": ("code",),
    "denoise": ("noise",),
}


def notice(param: str, value: str, why: str = "which is not available here") -> None:
    """The one-line notice for a link parameter that cannot be used."""
    st.info(f"The link asks for {param} {str(value)[:60]!r}, {why}; showing the default.", icon=":material/link_off:")


def read(param: str, parse: Callable[[str], object], scope: str = "") -> object | None:
    """parse(the URL's value of `param`) on the first run that asks for it in this session, else None.

    parse raises ValueError (or returns None) for a value it cannot use: then the notice is shown, with
    the error's sentence, and None is returned. `scope` separates reads of one parameter that depend on
    something else (the model a code belongs to): each scope reads the link once.
    """
    flag = f"_link_{param}_read{('_' + scope) if scope else ''}"
    if st.session_state.get(flag):
        return None
    st.session_state[flag] = True
    value = st.query_params.get(param)
    if value is None:
        return None
    try:
        out = parse(value)
    except (ValueError, TypeError, KeyError, IndexError) as e:
        notice(param, value, f"which cannot be used here ({e})" if str(e) else "which cannot be used here")
        return None
    if out is None:
        notice(param, value)
    return out


def choice(param: str, choices: Sequence[str], key: str) -> None:
    """On the session's first run, set widget `key` from the URL's `param` when it names one of `choices`."""
    value = read(param, lambda v: v if v in choices else None)
    if value is not None:
        st.session_state[key] = value


def write(param: str, value: str | None, default: str | None = None) -> None:
    """Put `value` in the URL as `param`; None or the default removes it (a plain link stays plain)."""
    if value is None or value == default:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != value:
        st.query_params[param] = value


def tidy(page: str) -> None:
    """Remove the link parameters that other pages own: a pick on the latent map means nothing on Denoise."""
    mine = set(EVERY_PAGE) | set(PARAMS.get(page, ()))
    for p in {q for owned in PARAMS.values() for q in owned} - mine:
        if p in st.query_params:
            del st.query_params[p]


def floats(text: str, n: int | None = None) -> list[float]:
    """Comma-separated finite numbers (exactly n of them when n is given); ValueError with a sentence otherwise."""
    try:
        vals = [float(t) for t in str(text).split(",") if t.strip()]
    except ValueError:
        raise ValueError("not a list of numbers") from None
    if any(v != v or v in (float("inf"), float("-inf")) for v in vals):
        raise ValueError("NaN or infinite values")
    if n is not None and len(vals) != n:
        raise ValueError(f"{len(vals)} numbers where this model needs {n}")
    return vals


def fmt_floats(vals, digits: int = 3) -> str:
    """Numbers for a link: short, and read back by `floats` to within 10 ** -digits."""
    return ",".join(f"{float(v):.{digits}f}".rstrip("0").rstrip(".") for v in vals)
