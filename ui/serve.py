"""The app's launcher: Streamlit's server on app.py, in this process, with the cache warm-up beside it.

    python -m ui.serve [streamlit run options, e.g. --server.port 8501]

`streamlit run` runs no code of the app until a first visitor arrives, so the warm-up (ui/warm.py)
cannot start from app.py without making that visitor wait. This starts it first, then hands the
command line to Streamlit's own CLI exactly as `streamlit run app.py ...` would.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def port_of(argv: list[str]) -> int:
    """The port the server will listen on: --server.port N / --server.port=N, $STREAMLIT_SERVER_PORT, else 8501."""
    for i, a in enumerate(argv):
        if a == "--server.port" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--server.port="):
            return int(a.split("=", 1)[1])
    return int(os.environ.get("STREAMLIT_SERVER_PORT", "8501"))


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from streamlit.web import cli

    from ui import warm

    warm.start(port_of(argv))
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *argv]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
