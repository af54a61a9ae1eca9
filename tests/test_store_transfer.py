"""ae_core.store.transfer: a stored model as a ZIP and back with exactly its weights; a bad or tampered
ZIP is refused by the archive checks or the checkpoint checks, and the store is left as it was."""
import io
import json
import zipfile

import pytest
import torch

from ae_core import cli, models, store
from ae_core.store import transfer


@pytest.fixture
def saved(store_root):
    model = models.build("ae", input_shape=(1, 8, 8), latent_dim=2, hidden=(16,), seed=3)
    store.save(model, "small", store_root, dataset={"name": "digits", "origin": {"file": "x.zip", "sha256": "ab" * 32}},
               states={"before": {k: v * 0.5 for k, v in model.state_dict().items()}})
    return model


def members(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_round_trip_exact_weights(saved, store_root, tmp_path):
    blob = transfer.export_zip("small", store_root)
    got = members(blob)
    assert set(got) == {"small/config.json", "small/model.safetensors", "small/README.md",
                        "small/state-before.safetensors"}
    other = tmp_path / "elsewhere"
    name, meta = transfer.import_zip(blob, other)
    assert name == "small" and meta["dataset"]["origin"]["file"] == "x.zip"
    model, _ = store.load("small", other)
    for k, v in saved.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
    before, _ = store.load("small", other, state="before")
    for k, v in saved.state_dict().items():
        assert torch.equal(before.state_dict()[k], v * 0.5), k
    # Under another name, beside the original.
    name2, meta2 = transfer.import_zip(blob, store_root, name="small-copy")
    assert name2 == "small-copy" and store.read_meta("small-copy", store_root)["name"] == "small-copy"
    assert "small-copy" in (store_root / "small-copy" / "README.md").read_text()


def test_existing_name_refused_unless_overwrite(saved, store_root):
    blob = transfer.export_zip("small", store_root)
    with pytest.raises(store.CheckpointError, match="already exists"):
        transfer.import_zip(blob, store_root)
    assert transfer.import_zip(blob, store_root, overwrite=True)[0] == "small"


def _rezip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in files.items():
            zf.writestr(n, b)
    return buf.getvalue()


def test_tampered_and_bad_zips_refused(saved, store_root, tmp_path):
    files = members(transfer.export_zip("small", store_root))
    dest = tmp_path / "dest"

    def refused(blob, match):
        with pytest.raises(store.CheckpointError, match=match):
            transfer.import_zip(blob, dest)
        assert not dest.exists() or not any(p for p in dest.iterdir() if not p.name.startswith("."))

    weights = bytearray(files["small/model.safetensors"])
    weights[-1] ^= 0xFF
    refused(_rezip({**files, "small/model.safetensors": bytes(weights)}), "sha256")
    refused(_rezip({**files, "small/../evil": b"x"}), "path traversal")
    refused(_rezip({**files, "small/run.sh": b"#!/bin/sh"}), "does not")
    refused(_rezip({k: v for k, v in files.items() if not k.endswith("model.safetensors")}), "no config.json")
    refused(_rezip({**files, "small/inner.zip": _rezip({"a": b"b"})}), "nested")
    cfg = json.loads(files["small/config.json"])
    cfg["config"]["latent_dim"] = 3
    refused(_rezip({**files, "small/config.json": json.dumps(cfg).encode()}), "do not match")
    cfg = json.loads(files["small/config.json"])
    cfg["kind"] = "pickle-me"
    refused(_rezip({**files, "small/config.json": json.dumps(cfg).encode()}), "unknown model kind")
    refused(b"not a zip", "not a readable ZIP")
    bomb = _rezip({"small/config.json": bytes(5_000_000)})
    refused(bomb, "ZIP bomb")


def test_cli_export_and_import(saved, store_root, tmp_path, capsys):
    out = tmp_path / "small.zip"
    assert cli.main(["--models", str(store_root), "export-model", "small", "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    dest = tmp_path / "dest"
    assert cli.main(["--models", str(dest), "import-model", str(out)]) == 0
    assert "imported small" in capsys.readouterr().out
    model, _ = store.load("small", dest)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in saved.state_dict().items())
    # A refused ZIP is a one-line message and exit status 1, not a traceback.
    bad = tmp_path / "bad.zip"
    bad.write_bytes(_rezip({"a/../../x": b""}))
    assert cli.main(["--models", str(dest), "import-model", str(bad)]) == 1
    assert "path traversal" in capsys.readouterr().err
