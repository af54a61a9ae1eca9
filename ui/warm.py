"""Warm the server's caches at start: every page visited once, with the default selection, in the background.

The first visit to a page after a server start would otherwise compute what every later visitor reads
from the server's caches (the encoded splits, the maps, Compression's rate-distortion sweep, the
denoisers' comparison). `start(port)` runs one daemon thread that waits for the server's health check
and then opens a session over the server's own websocket, as a browser does, and asks for each page
in turn (`PAGES`): the pages' own code fills the caches with the pages' own defaults, so nothing here
repeats what a page computes or knows. A page that fails is logged and skipped; the server is never
disturbed. `ui/serve.py` (the app's launcher, what `make run` starts) calls `start` once, before the
server; MANIFOLD_LAB_WARM=0 turns it off. When it is done it logs `WARM_DONE` and the time it took.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARM_DONE = "Manifold Lab: caches warm"  # the log line's start; benchmarks wait for it
PAGE_TIMEOUT_S = 300.0


def pages() -> list[str]:
    """The pages' URL paths (st.Page's default: the file's stem), Home ("") first: most visitors land there."""
    stems = sorted(p.stem for p in (ROOT / "pages").glob("*.py") if not p.stem.startswith("_"))
    return [""] + [s for s in stems if s != "home"]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _healthy(port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def visit(port: int, page_names: list[str], timeout_s: float = PAGE_TIMEOUT_S) -> dict[str, dict]:
    """Run each page once in one new session over the websocket; per page: seconds and whether it raised."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    out = {}
    with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                 open_timeout=30) as ws:
        for name in page_names:
            t0 = time.perf_counter()
            msg = BackMsg()
            msg.rerun_script.query_string = ""
            msg.rerun_script.page_name = name
            ws.send(msg.SerializeToString())
            errors = 0
            deadline = time.monotonic() + timeout_s
            while True:
                fwd = ForwardMsg()
                fwd.ParseFromString(ws.recv(timeout=max(1.0, deadline - time.monotonic())))
                kind = fwd.WhichOneof("type")
                if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element" \
                        and fwd.delta.new_element.WhichOneof("type") == "exception":
                    errors += 1
                if kind == "script_finished":
                    break
            out[name or "home"] = {"seconds": round(time.perf_counter() - t0, 2), "exceptions": errors}
    return out


def _run(port: int) -> None:
    try:
        if not _healthy(port, 300):
            _log("Manifold Lab: the server did not answer its health check; caches not warmed")
            return
        t0 = time.perf_counter()
        done = {}
        for name in pages():  # a session per page: a page that stops the script cannot hold up the rest
            try:
                done.update(visit(port, [name]))
            except Exception as e:  # noqa: BLE001 - warming is a courtesy: log it, never disturb the server
                _log(f"Manifold Lab: warming page {name or 'home'!r} failed: {type(e).__name__}: {e}")
        _log(f"{WARM_DONE} ({len(done)} pages in {time.perf_counter() - t0:.1f} s: "
             + ", ".join(f"{k} {v['seconds']} s" + (f" ({v['exceptions']} exception(s) shown)" if v["exceptions"] else "")
                        for k, v in done.items()) + ")")
    except Exception as e:  # noqa: BLE001
        _log(f"Manifold Lab: cache warm-up stopped: {type(e).__name__}: {e}")


_STARTED = threading.Event()


def start(port: int) -> bool:
    """Start the warm-up thread once per process (False when already started or turned off)."""
    if os.environ.get("MANIFOLD_LAB_WARM", "1") == "0" or _STARTED.is_set():
        return False
    _STARTED.set()
    threading.Thread(target=_run, args=(port,), name="cache-warm", daemon=True).start()
    return True
