"""Bad input gets a clear message and loses nothing: user datasets, checkpoints, names, the app itself.

Uploaded images are covered in test_images.py; basic .npz and checkpoint refusals in test_data.py and
test_store.py. This file adds what those leave out, and checks after each refusal that things still work.
"""
from __future__ import annotations

import errno
import io
import json
import math
import os
import pickle
import shutil
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ae_core import data, models, store

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app.py"
SHIPPED = REPO / "models"


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _good_npz() -> bytes:
    rng = np.random.default_rng(0)
    return _npz(X=(rng.random((30, 28, 28)) * 255).astype(np.uint8), y=np.repeat(np.arange(3), 10))


def _still_works():
    """A good dataset still loads after a refusal: nothing global was left broken."""
    ds = data.load_npz(_good_npz(), "ok")
    assert len(ds.x_train) + len(ds.x_test) == 30 and ds.x_train.dtype == np.float32


# ---------------------------------------------------------------- user .npz files


@pytest.mark.parametrize("x, match", [
    (np.full((20, 28, 28), np.inf), "infinite"),
    (np.concatenate([np.zeros((19, 28, 28)), np.full((1, 28, 28), -np.inf)]), "infinite"),
    (np.full((20, 28, 28), 1e300), "too large for float32"),  # finite in float64, inf once float32
    (np.zeros((9, 28, 28), np.uint8), "between 10 and"),
    (np.zeros((20, 120, 120), np.uint8), "too large"),
    (np.zeros((20, 28, 27), np.uint8).reshape(20, -1), "square"),
    (np.zeros((20, 28, 28), np.complex64), "dtype"),
    (np.zeros((20,), np.float32), "shape"),
    (np.zeros((20, 28, 28, 2), np.float32), "shape"),
])
def test_npz_bad_x_is_refused_clearly(x, match):
    with pytest.raises(data.DatasetError, match=match):
        data.load_npz(_npz(X=x), "bad")
    _still_works()


def test_npz_values_near_float32_limits_are_rescaled_not_nan():
    big = np.float32(3e38)
    x = np.where(np.arange(20 * 28 * 28).reshape(20, 28, 28) % 2, big, -big).astype(np.float32)
    ds = data.load_npz(_npz(X=x), "edge")
    both = np.concatenate([ds.x_train, ds.x_test])
    assert np.isfinite(both).all() and both.min() == 0.0 and both.max() == 1.0


@pytest.mark.parametrize("y, match", [
    (np.arange(19), "must be 20 integer labels"),  # one label short
    (np.arange(21), "must be 20 integer labels"),
    (np.zeros((20, 1), np.int64), "must be 20 integer labels"),
    (np.linspace(0, 1, 20), "integer labels"),  # float labels
    (np.array(["a"] * 20), "integer labels"),
    (np.full(20, -1), "from 0 to 999"),
    (np.full(20, 10**12), "from 0 to 999"),  # np.bincount would allocate 8 TB
])
def test_npz_bad_labels_are_refused_clearly(y, match):
    x = np.zeros((20, 28, 28), np.uint8)
    with pytest.raises(data.DatasetError, match=match):
        data.load_npz(_npz(X=x, y=y), "bad")
    _still_works()


def test_npz_that_is_really_a_single_npy_array():
    buf = io.BytesIO()
    np.save(buf, np.zeros((20, 28, 28), np.float32))
    with pytest.raises(data.DatasetError, match="single .npy array, not an .npz"):
        data.load_npz(buf.getvalue(), "renamed")
    _still_works()


@pytest.mark.parametrize("blob", [b"", b"PK\x03\x04" + b"\0" * 40, _good_npz()[:200], b"\x80\x04K\x01."],
                         ids=["empty", "zip-magic-only", "truncated-zip", "pickle"])
def test_npz_damaged_bytes(blob):
    with pytest.raises(data.DatasetError):
        data.load_npz(blob, "bad")
    _still_works()


class _Payload:
    """Unpickling this opens (so creates) a file: proof of whether pickle ever ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_object_array_payload_is_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    x = np.empty(20, dtype=object)
    x[:] = [_Payload(marker)] * 20
    buf = io.BytesIO()
    np.savez(buf, X=x)  # numpy pickles object arrays when saving
    assert b"builtins" in buf.getvalue() or b"open" in buf.getvalue()
    with pytest.raises(data.DatasetError, match="dtype"):
        data.load_npz(buf.getvalue(), "evil")
    assert not marker.exists()
    # The same archive would run the payload if anyone loaded it with pickle allowed:
    # this is what the test guards against, so make sure the payload is real.
    np.load(io.BytesIO(buf.getvalue()), allow_pickle=True)["X"]
    assert marker.exists()


def _bomb_npz(shape, dtype=np.uint8) -> bytes:
    """An honest compressed .npz of zeros, streamed so the test never holds the array itself."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z, z.open("X.npy", "w", force_zip64=True) as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape})
        chunk = bytes(1 << 20)
        left = math.prod(shape) * np.dtype(dtype).itemsize
        while left > 0:
            f.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
    return buf.getvalue()


def test_npz_decompression_bomb_refused_from_its_header():
    blob = _bomb_npz((7000, 64, 64, 3))  # 86 MB of zeros in ~85 kB; 344 MB as float32
    assert len(blob) < 500_000
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        with pytest.raises(data.DatasetError, match="at most"):
            data.load_npz(blob, "bomb")
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Decompressing X would take 86 MB (numpy reports its buffers to tracemalloc) and ~0.3 s.
    assert peak < 5_000_000, f"peak {peak:,} bytes: X was decompressed before the size check"
    assert elapsed < 0.5
    _still_works()


def test_npz_lying_header_refused_without_reading():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, z.open("X.npy", "w") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (10**9, 28, 28)})
    with pytest.raises(data.DatasetError, match="between 10 and"):
        data.load_npz(buf.getvalue(), "liar")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, z.open("X.npy", "w") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (20, 28, 28)})
        f.write(b"\0" * 100)  # promises 62 kB, holds 100 bytes
    with pytest.raises(data.DatasetError, match="not a readable .npz"):
        data.load_npz(buf.getvalue(), "short")
    _still_works()


# ---------------------------------------------------------------- user image folders


def _digit_png(size=(28, 28), mode="L", seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    a = np.zeros(size[::-1], np.uint8)
    h, w = a.shape
    a[h // 4: 3 * h // 4, w // 2 - max(1, w // 10): w // 2 + max(1, w // 10)] = 255
    a[rng.integers(0, h), :] = 128
    buf = io.BytesIO()
    Image.fromarray(a).convert(mode).save(buf, "PNG")
    return buf.getvalue()


def test_folder_with_mixed_sizes_and_stray_files(tmp_path):
    root = tmp_path / "mine"
    sizes = [(28, 28), (64, 48), (200, 300), (7, 5), (1000, 30)]
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True)
        for i in range(8):
            mode = ("L", "RGB", "RGBA", "P")[i % 4]
            (root / c / f"{i}.png").write_bytes(_digit_png(sizes[i % len(sizes)], mode, seed=i))
        (root / c / "notes.txt").write_text("not an image")
        (root / c / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
        (root / c / "fake.png").write_bytes(b"%PDF-1.4 renamed")
        (root / c / "cut.png").write_bytes(_digit_png((40, 40))[:60])
        (root / c / "nested").mkdir()
        (root / c / "nested" / "9.png").write_bytes(_digit_png())
    (root / ".hidden").mkdir()
    (root / "README.md").write_text("a file beside the class folders")
    ds = data.load_image_folder(root)
    assert ds.class_names == ("cat", "dog")
    x = np.concatenate([ds.x_train, ds.x_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    assert x.shape == (16, 1, 28, 28) and x.dtype == np.float32 and np.isfinite(x).all()
    assert 0 <= x.min() and x.max() <= 1 and np.bincount(y).tolist() == [8, 8]
    # 2 x (txt, .DS_Store, fake.png, cut.png) skipped; the nested folder is not a file.
    assert "16 read, 8 files skipped" in ds.description


def test_folder_huge_file_is_skipped_without_reading_it(tmp_path, monkeypatch):
    root = tmp_path / "f"
    (root / "a").mkdir(parents=True)
    for i in range(10):
        (root / "a" / f"{i}.png").write_bytes(_digit_png(seed=i))
    with open(root / "a" / "huge.png", "wb") as f:  # sparse: 50 MB on paper, nothing on disk
        f.truncate(50_000_000)
    real = Path.read_bytes

    def guarded(self):
        assert self.name != "huge.png", "the oversized file was read"
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", guarded)
    ds = data.load_image_folder(root)
    assert len(ds.x_train) + len(ds.x_test) == 10 and "1 files skipped" in ds.description


@pytest.mark.parametrize("layout, match", [
    ("too-few", "found 9 readable images; at least 10"),
    ("flat", "no sub-folders"),
    ("all-junk", "found 0 readable images"),
    ("missing", "is not a folder"),
    ("a-file", "is not a folder"),
])
def test_folder_refusals(tmp_path, layout, match):
    root = tmp_path / "f"
    if layout == "too-few":
        (root / "a").mkdir(parents=True)
        for i in range(9):
            (root / "a" / f"{i}.png").write_bytes(_digit_png(seed=i))
    elif layout == "flat":
        root.mkdir()
        for i in range(12):
            (root / f"{i}.png").write_bytes(_digit_png(seed=i))
    elif layout == "all-junk":
        (root / "a").mkdir(parents=True)
        for i in range(12):
            (root / "a" / f"{i}.png").write_text("junk")
    elif layout == "a-file":
        root.write_text("x")
    with pytest.raises(data.DatasetError, match=match):
        data.load_image_folder(root)
    with pytest.raises(data.DatasetError):
        data.load_dataset(str(root)) if root.is_dir() else data.load_image_folder(root)


# ---------------------------------------------------------------- checkpoints


def _tiny(seed=0, **cfg):
    return models.build("ae", seed=seed, latent_dim=2, hidden=(8,), **cfg)


def _save(root, name="m", model=None, **kw):
    model = model or _tiny()
    store.save(model, name, root, dataset={"name": "mnist-5k"}, **kw)
    return model


def _meta(root, name="m"):
    return json.loads((root / name / store.CONFIG).read_text())


def _write_meta(root, meta, name="m"):
    (root / name / store.CONFIG).write_text(json.dumps(meta))


def _assert_refused(root, match, name="m"):
    with pytest.raises(store.CheckpointError, match=match) as e:
        store.load(name, root)
    assert name in str(e.value)
    rows = store.list_models(root)  # never raises; the broken one is listed (with its error) or loads
    assert name in [r.name for r in rows]
    return e.value


def test_config_json_that_is_a_list_a_string_or_null(store_root):
    _save(store_root)
    for text in ("[1, 2, 3]", '"model"', "null", "42"):
        (store_root / "m" / store.CONFIG).write_text(text)
        _assert_refused(store_root, "no 'config' object")


def test_config_json_too_large_is_refused_before_parsing(store_root, monkeypatch):
    _save(store_root)
    meta = _meta(store_root)
    meta["description"] = "x" * (store.MAX_CONFIG_BYTES + 10)
    _write_meta(store_root, meta)
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("parsed an oversized config.json"))
    _assert_refused(store_root, "config.json is [0-9,]+ bytes; the limit is 2,000,000")


def test_config_json_nested_too_deeply(store_root):
    _save(store_root)
    (store_root / "m" / store.CONFIG).write_text("[" * 200_000 + "]" * 200_000)  # RecursionError in json
    _assert_refused(store_root, "nested too deeply")


@pytest.mark.parametrize("field, value, match", [
    ("latent_dim", float("nan"), "latent_dim=nan"),
    ("latent_dim", float("inf"), "latent_dim=inf"),
    ("latent_dim", 1e400, "latent_dim=inf"),  # json writes Infinity
    ("hidden", [float("nan")], "hidden"),
    ("input_shape", "1x28x28", "input_shape"),
    ("latent_dim", -3, "between 1 and"),
    ("hidden", {"a": 1}, "hidden"),
    ("activation", "gelu; rm -rf /", "activation"),
    ("kind", "ae", "bad config"),  # a key inside config that clashes with make_config's own
])
def test_config_values_nan_inf_and_wrong_types(store_root, field, value, match):
    _save(store_root)
    meta = _meta(store_root)
    meta["config"][field] = value
    _write_meta(store_root, meta)
    _assert_refused(store_root, match)


@pytest.mark.parametrize("field", ["dataset", "metrics", "history", "train"])
def test_config_sections_of_the_wrong_type_do_not_break_listing(store_root, field):
    _save(store_root, "good")
    _save(store_root)
    meta = _meta(store_root)
    meta[field] = "mnist-5k"
    _write_meta(store_root, meta)
    _assert_refused(store_root, f"'{field}' must be an object")
    assert [r.name for r in store.list_models(store_root) if not r.error] == ["good"]
    store.load("good", store_root)


def test_listing_survives_a_latent_dim_json_cannot_hold_as_int(store_root):
    _save(store_root)
    meta = _meta(store_root)
    meta["config"]["latent_dim"] = 1e400  # OverflowError in int(); used to escape list_models
    _write_meta(store_root, meta)
    (row,) = store.list_models(store_root)
    assert row.error and "m" in row.error


def test_nan_metrics_are_kept_and_listed(store_root):
    _save(store_root, metrics={"test": {"sse": float("nan"), "mse": 1.0, "psnr": float("inf")}})
    (row,) = store.list_models(store_root)
    assert not row.error and math.isnan(row.metrics["test"]["sse"])
    store.load("m", store_root)


def test_unknown_kind_listed_with_its_error(store_root):
    _save(store_root)
    meta = _meta(store_root)
    meta["kind"] = "diffusion"
    _write_meta(store_root, meta)
    err = _assert_refused(store_root, "unknown model kind 'diffusion'")
    assert "ae" in str(err)  # names the known kinds
    assert store.list_models(store_root)[0].error


def test_weights_file_that_is_a_directory(store_root):
    _save(store_root)
    w = store_root / "m" / store.WEIGHTS
    w.unlink()
    w.mkdir()
    _assert_refused(store_root, "not a regular file")


@pytest.mark.parametrize("which", [store.WEIGHTS, store.CONFIG])
def test_fifo_in_place_of_a_file_does_not_hang(store_root, which):
    import threading

    _save(store_root)
    f = store_root / "m" / which
    f.unlink()
    os.mkfifo(f)
    result = {}

    def attempt():
        try:
            store.load("m", store_root)
        except store.CheckpointError as e:
            result["error"] = str(e)

    t = threading.Thread(target=attempt, daemon=True)  # opening a FIFO blocks until a writer comes
    t.start()
    t.join(10)
    assert not t.is_alive(), "store.load blocked on a FIFO"
    assert "not a regular file" in result["error"]


def test_sha256_mismatch_same_length(store_root):
    _save(store_root)
    w = store_root / "m" / store.WEIGHTS
    b = bytearray(w.read_bytes())
    b[-1] ^= 0x01  # one bit of one weight: still a valid safetensors file
    w.write_bytes(bytes(b))
    _assert_refused(store_root, "sha256")


def test_nan_weights_are_refused(store_root):
    from safetensors.torch import save_file

    m = _save(store_root)
    state = {k: v.clone() for k, v in m.state_dict().items()}
    state["decoder.0.weight"][0, 0] = float("nan")
    save_file(state, str(store_root / "m" / store.WEIGHTS))
    meta = _meta(store_root)
    meta.pop("sha256")
    _write_meta(store_root, meta)
    _assert_refused(store_root, "NaN or infinite weights.*decoder.0.weight")


def test_weights_swapped_with_another_models(store_root):
    _save(store_root, "small", _tiny())
    _save(store_root, "big", models.build("ae", latent_dim=2, hidden=(16,)))
    shutil.copy(store_root / "big" / store.WEIGHTS, store_root / "small" / store.WEIGHTS)
    meta = _meta(store_root, "small")
    meta.pop("sha256")
    _write_meta(store_root, meta, "small")
    _assert_refused(store_root, "do not match config.json", name="small")
    store.load("big", store_root)


@pytest.mark.parametrize("config", [
    {"hidden": [1_000_000_000]},
    {"hidden": [16384, 16384, 16384]},  # each size allowed, 0.8 billion parameters in all
    {"input_shape": [3, 16384, 16384]},
    {"latent_dim": 16384, "hidden": [16384]},
])
def test_absurd_sizes_refused_before_allocating(store_root, config):
    _save(store_root)
    meta = _meta(store_root)
    meta["config"].update(config)
    _write_meta(store_root, meta)

    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    before, t0 = rss(), time.perf_counter()
    _assert_refused(store_root, "between 1 and|more than the limit")
    # Allocating any of these would take gigabytes and seconds.
    assert time.perf_counter() - t0 < 2.0
    assert rss() - before < 100_000_000


def test_load_only_ever_raises_checkpoint_error_for_shipped_model_damage(store_root):
    """Each byte-level damage to a real shipped checkpoint is one CheckpointError, or a load."""
    src = SHIPPED / "linear-2d"
    assert (src / store.CONFIG).is_file(), f"shipped model linear-2d is missing from {SHIPPED}"
    shutil.copytree(src, store_root / "m")
    blob = (store_root / "m" / store.WEIGHTS).read_bytes()
    meta = _meta(store_root)
    meta.pop("sha256")
    _write_meta(store_root, meta)
    rng = np.random.default_rng(0)
    for cut in (0, 1, 7, 8, 9, 60, len(blob) // 2, len(blob) - 1):
        (store_root / "m" / store.WEIGHTS).write_bytes(blob[:cut])
        _assert_refused(store_root, "not a valid safetensors|do not match")
    header_len = struct.unpack("<Q", blob[:8])[0]
    for _ in range(20):
        b = bytearray(blob)
        b[8 + int(rng.integers(0, header_len))] = int(rng.integers(0, 256))  # damage the JSON header
        (store_root / "m" / store.WEIGHTS).write_bytes(bytes(b))
        try:
            store.load("m", store_root)
        except store.CheckpointError:
            pass
    (store_root / "m" / store.WEIGHTS).write_bytes(blob)
    store.load("m", store_root)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("raw, expected", [
    ("../../etc/passwd", "etc-passwd"),
    ("..\\..\\windows\\system32", "windows-system32"),
    ("/absolute/path", "absolute-path"),
    ("name\x00.safetensors", "name.safetensors"),
    ("my model (v2)", "my-model-v2"),
    ("ümlaut-modèl", "mlaut-mod-l"),
    ("数字-ae", "ae"),
    ("x" * 10_000, "x" * 64),
    ("a" + "/" * 100 + "b", "a-b"),
    (".hidden", "hidden"),
    (".tmp-m-0123abcd", "tmp-m-0123abcd"),  # can never collide with save's hidden working folders
    ("CON", "CON-model"),
    ("nul", "nul-model"),
    ("com1.txt", "com1-model.txt"),
    ("aux." + "a" * 100, "aux-model." + "a" * 54),
    ("LPT9", "LPT9-model"),
    ("console", "console"),
])
def test_sanitize_name(raw, expected):
    got = store.sanitize_name(raw)
    assert got == expected
    assert store.sanitize_name(got) == got  # idempotent
    assert 0 < len(got) <= store.MAX_NAME and not got.startswith(".")


@pytest.mark.parametrize("raw", ["", ".", "..", "/", "\x00", "数字", "🙂🙂", "...---___", None, 42, b"bytes"])
def test_unusable_names_are_refused(raw):
    with pytest.raises(store.CheckpointError):
        store.sanitize_name(raw)


@pytest.mark.parametrize("raw", ["../escape", "/abs/olute", "a\x00b", "é" * 3 + "x", "CON", "x" * 300])
def test_hostile_names_save_inside_the_root(store_root, raw):
    path = store.save(_tiny(), raw, store_root)
    assert path.parent == store_root and path.name == store.sanitize_name(raw)
    store.load(raw, store_root)  # load sanitises the same way
    assert [p.name for p in store_root.iterdir()] == [path.name]


def test_load_and_read_meta_of_hostile_names_stay_in_the_root(tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    _save(tmp_path, "outside")  # a real model one level up
    for raw in ("../outside", "..", "/", "\x00"):
        with pytest.raises(store.CheckpointError):
            store.load(raw, root)


# ---------------------------------------------------------------- unwritable and full disks


def _hidden(root):
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


def test_failed_mkdir_permission_denied(store_root, monkeypatch):
    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(store.CheckpointError, match="Could not save model 'm'.*Permission denied"):
        store.save(_tiny(), "m", store_root)
    monkeypatch.undo()
    assert list(store_root.iterdir()) == []


@pytest.mark.parametrize("call", [1, 2], ids=["moving-old-aside", "moving-new-in"])
def test_failed_rename_keeps_the_old_model(store_root, monkeypatch, call):
    old = _save(store_root, model=_tiny(seed=1))
    real, calls = os.replace, []

    def failing(src, dst):
        calls.append((src, dst))
        if len(calls) == call:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    monkeypatch.setattr(store.atomic, "_exchange", lambda a, b: False)  # the two-rename path
    with pytest.raises(store.CheckpointError, match="No space left on device"):
        store.save(_tiny(seed=2), "m", store_root)
    monkeypatch.undo()
    loaded, _ = store.load("m", store_root)
    assert torch.equal(loaded.state_dict()["encoder.0.weight"], old.state_dict()["encoder.0.weight"])
    assert [p.name for p in store_root.iterdir()] == ["m"]  # no .tmp-*, no .old-*


def test_failed_atomic_exchange_keeps_the_old_model(store_root, monkeypatch):
    old = _save(store_root, model=_tiny(seed=1))

    def failing(a, b):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.atomic, "_exchange", failing)
    with pytest.raises(store.CheckpointError, match="No space left on device"):
        store.save(_tiny(seed=2), "m", store_root)
    monkeypatch.undo()
    loaded, _ = store.load("m", store_root)
    assert torch.equal(loaded.state_dict()["encoder.0.weight"], old.state_dict()["encoder.0.weight"])
    assert [p.name for p in store_root.iterdir()] == ["m"]


def test_metadata_that_is_not_json_is_a_checkpoint_error(store_root):
    old = _save(store_root, model=_tiny(seed=1))
    with pytest.raises(store.CheckpointError, match="not JSON serializable"):
        store.save(_tiny(seed=2), "m", store_root, metrics={"test": {"sse": np.float32(1.0), "mse": 1, "psnr": 1}})
    assert [p.name for p in store_root.iterdir()] == ["m"]
    loaded, _ = store.load("m", store_root)
    assert torch.equal(loaded.state_dict()["encoder.0.weight"], old.state_dict()["encoder.0.weight"])


@pytest.mark.slow
def test_disk_full_while_writing_weights_real_kernel_error(store_root):
    """RLIMIT_FSIZE makes the kernel refuse writes past 2 kB (EFBIG), as a full disk would (ENOSPC)."""
    _save(store_root, model=_tiny(seed=1))
    script = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        from ae_core import models, store
        m = models.build("ae", seed=2, latent_dim=2, hidden=(64,))
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
        for name in ("m", "fresh"):
            try:
                store.save(m, name, {str(store_root)!r})
                print("SAVED", name)
            except store.CheckpointError as e:
                print("REFUSED", name, e)
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [ln.split()[:2] for ln in lines] == [["REFUSED", "m"], ["REFUSED", "fresh"]], out.stdout
    assert "File too large" in lines[0] and "Could not save model 'm'" in lines[0]
    assert [p.name for p in store_root.iterdir()] == ["m"]
    loaded, _ = store.load("m", store_root)
    assert torch.equal(loaded.state_dict()["encoder.0.weight"], _tiny(seed=1).state_dict()["encoder.0.weight"])


def test_listing_a_root_that_cannot_be_read(tmp_path, monkeypatch):
    root = tmp_path / "models"
    _save(root)

    def denied(self):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "iterdir", denied)
    assert store.list_models(root) == []


# ---------------------------------------------------------------- the app with bad model folders


def _app(monkeypatch, root: Path, **state):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MANIFOLD_LAB_MODELS", str(root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def _texts(at) -> str:
    return "\n".join([e.value for e in at.warning] + [e.value for e in at.error] + [e.value for e in at.info])


@pytest.mark.slow
@pytest.mark.parametrize("layout, match", [
    ("missing", "does not exist"),
    ("empty", "No models in"),
    ("file", "is not a folder"),
])
def test_app_starts_without_models(tmp_path, monkeypatch, layout, match):
    root = tmp_path / "models"
    if layout == "empty":
        root.mkdir()
    elif layout == "file":
        root.write_text("not a folder")
    at = _app(monkeypatch, root)
    assert not at.exception
    assert match in _texts(at) and str(root) in _texts(at)
    assert at.session_state["selection"].model is None
    assert any("Manifold Lab" in t.value for t in at.title)  # the page itself still rendered


@pytest.mark.slow
def test_app_with_broken_models_beside_a_good_one(tmp_path, monkeypatch):
    assert (SHIPPED / "ae-2d" / store.CONFIG).is_file(), f"shipped model ae-2d is missing from {SHIPPED}"
    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(SHIPPED / "ae-2d", root / "ae-2d")
    shutil.copytree(SHIPPED / "ae-2d", root / "cut-weights")
    w = root / "cut-weights" / store.WEIGHTS
    w.write_bytes(w.read_bytes()[:1000])
    (root / "bad-json").mkdir()
    (root / "bad-json" / store.CONFIG).write_text("{oops")
    shutil.copytree(SHIPPED / "ae-2d", root / "odd-metrics")
    meta = json.loads((root / "odd-metrics" / store.CONFIG).read_text())
    meta["metrics"] = {"test": {"psnr": "high", "sse": None}, "pca": []}
    (root / "odd-metrics" / store.CONFIG).write_text(json.dumps(meta))
    (root / ".tmp-ae-2d-0123abcd").mkdir()  # a crash leftover: never listed

    at = _app(monkeypatch, root)
    assert not at.exception
    assert "bad-json" in _texts(at) and "cannot be read" in _texts(at)
    assert at.sidebar.selectbox(key="model_name").options == ["ae-2d", "cut-weights", "odd-metrics"]
    sel = at.session_state["selection"]
    assert sel.model_name == "ae-2d" and sel.model is not None

    # A fresh session per pick: in streamlit 1.67 an AppTest rerun of an app with a pages/ folder
    # runs the page alone (PagesManager falls back to pages-directory mode), so app.py's sidebar
    # only runs on a session's first run. Seeding the picker's key is what picking it does.
    at = _app(monkeypatch, root, model_name="cut-weights")
    assert not at.exception
    assert any("Cannot load this model" in e.value and "cut-weights" in e.value for e in at.error)
    assert at.session_state["selection"].model is None

    at = _app(monkeypatch, root, model_name="odd-metrics")
    assert not at.exception and at.session_state["selection"].model is not None

    at = _app(monkeypatch, root, model_name="ae-2d")
    assert not at.exception and not [e for e in at.error if "Cannot load" in e.value]
    sel = at.session_state["selection"]
    from ae_core import evaluate

    z = evaluate.encode(sel.model, sel.dataset.x_test[:5])
    assert z.shape == (5, sel.model.latent_dim) and np.isfinite(z).all()
