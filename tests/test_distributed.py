"""`torchrun -m ae_core train` on 2 CPU processes (gloo) saves a model that loads, and trains like the
1-process run with the same global batch: each step's batch is sharded, gradients averaged (DDP)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ae_core import distributed, evaluate, store

REPO = Path(__file__).resolve().parent.parent
TRAIN = ["train", "--kind", "ae", "--dataset", "mnist-5k", "--latent", "2", "--hidden", "64", "--epochs", "3",
         "--batch-size", "64", "--device", "cpu", "--quiet"]


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR",
                                                            "MASTER_PORT")}
    return {**env, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


def test_a_plain_run_has_no_group(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.init_from_env() is None and distributed.current() is None


def test_shards_cover_the_global_batch_once():
    import torch

    idx = torch.arange(10)
    parts = [distributed.Group(r, 3, r, "gloo").shard(idx) for r in range(3)]
    assert sorted(torch.cat(parts).tolist()) == list(range(10))
    assert distributed.Group(1, 3, 1, "gloo").shard(torch.arange(2)).tolist() == [0, 1]  # too small to split


@pytest.mark.slow
def test_torchrun_two_processes_saves_a_model_close_to_one_process(tmp_path, mnist5k):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun not installed")
    root = tmp_path / "models"
    one = subprocess.run([sys.executable, "-m", "ae_core", "--models", str(root), *TRAIN, "--name", "one"],
                         cwd=REPO, env=_env(), capture_output=True, text=True, timeout=600)
    assert one.returncode == 0, one.stderr[-2000:]
    two = subprocess.run([torchrun, "--standalone", "--nproc_per_node", "2", "-m", "ae_core", "--models", str(root),
                          *TRAIN, "--name", "two"], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=600)
    assert two.returncode == 0, (two.stdout[-2000:], two.stderr[-3000:])
    assert "2 processes, gloo" in two.stdout
    assert sorted(m.name for m in store.list_models(root)) == ["one", "two"]  # rank 1 saved nothing of its own
    m1, meta1 = store.load("one", root)
    m2, meta2 = store.load("two", root)
    assert np.isfinite(evaluate.reconstruct(m2, mnist5k.x_test[:16])).all()
    v1 = meta1["history"]["stages"][0]["val"]
    v2 = meta2["history"]["stages"][0]["val"]
    assert len(v1) == len(v2) == 3 and v2[-1] < v2[0]
    # Same global batch, same order, same data: the two runs' validation losses agree closely.
    assert abs(v2[-1] - v1[-1]) / v1[-1] < 0.05, (v1, v2)
    t1, t2 = meta1["metrics"]["test"]["sse"], meta2["metrics"]["test"]["sse"]
    assert abs(t2 - t1) / t1 < 0.05, (t1, t2)
    print(json.dumps({"one": v1, "two": v2}))
