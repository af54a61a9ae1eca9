import json
import os
import subprocess
import sys

import pytest

from ae_core import cli, store


def test_train_list_eval_smoke(tmp_path, capsys):
    root = str(tmp_path / "models")
    rc = cli.main(["--models", root, "train", "--kind", "dae", "--dataset", "digits", "--latent", "2",
                   "--hidden", "32", "--noise", "masking:0.3", "--epochs", "1", "--name", "my-dae", "--quiet"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "saved" in out and "PCA" in out
    meta = json.loads((tmp_path / "models" / "my-dae" / "config.json").read_text())
    assert meta["kind"] == "dae" and meta["config"]["noise"] == "masking:0.3"
    assert meta["dataset"]["name"] == "digits" and meta["metrics"]["test"]["sse"] > 0
    assert cli.main(["--models", root, "list"]) == 0
    assert "my-dae" in capsys.readouterr().out
    assert cli.main(["--models", root, "eval", "my-dae"]) == 0
    out = capsys.readouterr().out
    assert "PCA-2" in out and "ratio" in out


def test_cli_errors_are_messages_not_tracebacks(tmp_path, capsys):
    root = str(tmp_path / "models")
    assert cli.main(["--models", root, "eval", "nope"]) == 1
    assert "No model named" in capsys.readouterr().err
    assert cli.main(["--models", root, "train", "--dataset", "imagenet", "--epochs", "1"]) == 1
    assert "Unknown dataset" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    r = subprocess.run([sys.executable, "-m", "ae_core", "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "pretrain" in r.stdout


def test_pretrain_rejects_unknown_names(tmp_path):
    from ae_core import workflow

    with pytest.raises(ValueError, match="Unknown shipped"):
        workflow.pretrain(tmp_path, ["nope"])


def test_threads_option_sets_torch_threads():
    code = ("import torch; from ae_core import cli; rc = cli.main(['--threads', '1', 'list']); "
            "print('threads', torch.get_num_threads(), rc)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert r.returncode == 0 and "threads 1 0" in r.stdout, (r.stdout, r.stderr)
    bad = subprocess.run([sys.executable, "-m", "ae_core", "--threads", "0", "list"], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "--threads must be at least 1" in bad.stderr
