import json
import pickle

import pytest
import torch

from ae_core import models, store


def _saved(root, kind="ae", name="m", **cfg):
    m = models.build(kind, latent_dim=3, **cfg)
    store.save(m, name, root, dataset={"name": "mnist-5k"}, metrics={"test": {"sse": 1.0, "mse": 0.1, "psnr": 10.0}})
    return m


@pytest.mark.parametrize("kind", list(models.KINDS))
def test_roundtrip_every_tensor_exact(store_root, kind):
    m = _saved(store_root, kind, name=f"x-{kind}")
    loaded, meta = store.load(f"x-{kind}", store_root)
    assert not loaded.training and meta["kind"] == kind and type(loaded) is type(m)
    a, b = m.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    folder = store_root / f"x-{kind}"
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    cfg = json.loads((folder / "config.json").read_text())
    assert {"kind", "config", "dataset", "metrics", "history", "versions", "sha256"} <= cfg.keys()
    assert "# x-" in (folder / "README.md").read_text()


def test_list_models_and_broken_entries(store_root):
    _saved(store_root, name="good")
    (store_root / "bad").mkdir()
    (store_root / "bad" / "config.json").write_text("{not json")
    (store_root / ".tmp-half").mkdir()
    rows = {r.name: r for r in store.list_models(store_root)}
    assert set(rows) == {"good", "bad"}
    assert rows["good"].kind == "ae" and not rows["good"].error
    assert "JSON" in rows["bad"].error
    assert store.list_models(store_root / "missing") == []


def test_stored_models_filters_by_shape_kind_and_dataset(store_root):
    _saved(store_root, name="a")
    _saved(store_root, kind="dae", name="d")
    store.save(models.build("ae", latent_dim=2, input_shape=(1, 8, 8), hidden=(8,)), "small", store_root,
               dataset={"name": "digits"})
    (store_root / "bad").mkdir()
    (store_root / "bad" / "config.json").write_text("{not json")
    names = lambda **kw: [m.name for m in store.stored_models(store_root, **kw)]  # noqa: E731
    assert names(shape=(1, 28, 28)) == ["a", "d"]
    assert names(shape=(1, 28, 28), kinds=("dae",)) == ["d"]
    assert names(dataset="digits") == ["small"] and names(shape=(1, 8, 8), dataset="mnist-5k") == []
    info = {m.name: m for m in store.stored_models(store_root)}
    assert info["small"].input_shape == (1, 8, 8) and info["d"].noise == models.build("dae", latent_dim=3).config.noise


def _corrupt(root, how):
    _saved(root)
    f = root / "m" / "model.safetensors"
    c = root / "m" / "config.json"
    meta = json.loads(c.read_text())
    if how == "truncated":
        f.write_bytes(f.read_bytes()[:100])
    elif how == "truncated-no-hash":
        f.write_bytes(f.read_bytes()[:100])
        meta.pop("sha256")
    elif how == "pickle":
        f.write_bytes(pickle.dumps({"encoder.0.weight": [1, 2, 3]}))
        meta.pop("sha256")
    elif how == "mismatch":
        meta["config"]["hidden"] = [32, 8]
    elif how == "unknown-kind":
        meta["kind"] = "gan"
    elif how == "absurd":
        meta["config"]["hidden"] = [1_000_000_000]
    elif how == "missing-weights":
        f.unlink()
    elif how == "bad-type":
        meta["config"]["latent_dim"] = "three"
    c.write_text(json.dumps(meta))


@pytest.mark.parametrize("how", ["truncated", "truncated-no-hash", "pickle", "mismatch", "unknown-kind",
                                 "absurd", "missing-weights", "bad-type"])
def test_bad_checkpoints_raise_one_clear_error(store_root, how):
    _corrupt(store_root, how)
    with pytest.raises(store.CheckpointError) as e:
        store.load("m", store_root)
    assert "m:" in str(e.value) or "m'" in str(e.value)


def test_names_are_sanitised(store_root):
    assert store.sanitize_name("../../etc/passwd") == "etc-passwd"
    assert store.sanitize_name("a/b\x00c") == "a-bc"
    assert len(store.sanitize_name("x" * 500)) == 64
    for bad in ("..", "/", "", "\x00", "..."):
        with pytest.raises(store.CheckpointError):
            store.sanitize_name(bad)
    m = models.build("ae", latent_dim=2, hidden=(8,))
    path = store.save(m, "../escape", store_root)
    assert path.parent == store_root and path.name == "escape"


def test_overwrite_is_atomic_and_leaves_no_temp(store_root):
    _saved(store_root, name="m")
    m2 = _saved(store_root, name="m")
    loaded, _ = store.load("m", store_root)
    assert torch.equal(loaded.state_dict()["encoder.0.weight"], m2.state_dict()["encoder.0.weight"])
    assert [p.name for p in store_root.iterdir()] == ["m"]


def test_save_to_unwritable_root_raises_checkpoint_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(store.CheckpointError, match="Could not save"):
        store.save(models.build("ae", latent_dim=2, hidden=(8,)), "m", blocker / "models")
