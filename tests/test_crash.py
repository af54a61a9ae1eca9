"""Crashes: a process killed mid-save never leaves a half-written or lost model; any bytes load or refuse cleanly.

A helper process imports torch once and forks a child per experiment; the child saves models and is
killed with SIGKILL, either after a random delay (many times) or at an exact point inside
`store.save` (by wrapping the os call that marks that point). The test process then checks the
store as the app would see it.
"""
from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ae_core import models, store

REPO = Path(__file__).resolve().parent.parent
SIZES = dict(latent_dim=2, hidden=(64,))

# The child must build exactly the models the test builds: same kind, sizes and seeds.
FORKER = textwrap.dedent("""
    import json, os, signal, sys, time
    import torch
    torch.set_num_threads(1)  # no OpenMP pool running in the parent when it forks
    from ae_core import models, store

    A = models.build("ae", seed=1, **%(sizes)r)
    B = models.build("ae", seed=2, **%(sizes)r)

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def child(cmd):
        root = cmd["root"]
        if cmd["op"] == "loop":
            k = 0
            while True:
                m = (A, B)[k %% 2]
                store.save(m, "m", root)
                store.save(m, "new-%%d-%%d" %% (cmd["i"], k), root)
                k += 1
        mode = cmd["mode"]
        if mode in ("swap", "discard"):
            # The two-rename path, used where the kernel cannot swap folders atomically.
            store.atomic._exchange = lambda a, b: False
        if mode == "swap":  # between moving the old version aside and moving the new one in
            real, calls = os.replace, []
            def replace(src, dst):
                calls.append(1)
                if len(calls) == 2:
                    die()
                return real(src, dst)
            os.replace = replace
        elif mode == "discard":  # new version in place, old one not yet removed
            real_rename = os.rename
            def rename(src, dst):
                if "/.old-" in str(src):
                    die()
                return real_rename(src, dst)
            os.rename = rename
        elif mode == "write":  # weights written, config.json not yet
            store.checkpoint._sha256 = lambda path: die()
        store.save(B, cmd.get("name", "m"), root)

    # One save before forking, so that each child starts saving at once instead of importing
    # safetensors and scikit-learn (store.versions) first.
    import tempfile
    with tempfile.TemporaryDirectory() as warm:
        store.save(A, "warm", warm)
        store.load("warm", warm)
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                child(cmd)
            finally:
                os._exit(3)
        if cmd["op"] == "loop":
            time.sleep(cmd["delay"])
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}), flush=True)
""") % {"sizes": SIZES}


@pytest.fixture(scope="module")
def forker():
    proc = subprocess.Popen([sys.executable, "-c", FORKER], cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"

        def run(**cmd) -> dict:
            proc.stdin.write(json.dumps(cmd) + "\n")
            proc.stdin.flush()
            return json.loads(proc.stdout.readline())

        yield run
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def versions():
    """The two weight sets the child writes, by seed."""
    return {seed: models.build("ae", seed=seed, **SIZES).state_dict() for seed in (1, 2)}


def _which(model, versions) -> int:
    """The seed whose weights this model holds exactly; fails on a mix of the two or anything else."""
    state = model.state_dict()
    hits = [s for s, v in versions.items() if all(torch.equal(state[k], v[k]) for k in v)]
    assert len(hits) == 1, "loaded weights are not exactly one saved version"
    return hits[0]


def _hidden(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------- killed at a random moment


@pytest.mark.slow
def test_sigkill_during_saves_never_lists_a_half_written_or_loses_a_model(tmp_path, forker, versions):
    root = tmp_path / "models"
    rng = random.Random(0)
    seen_m, verified, mid_save, mid_swap, work_before = False, set(), 0, 0, set()
    t0 = time.perf_counter()
    for i in range(30):
        # Saves take ~10-40 ms here: delays up to 150 ms land anywhere from before the first save
        # to the middle of the fifth, and often inside one.
        assert forker(op="loop", root=str(root), i=i, delay=rng.uniform(0.0, 0.15))["signal"] == 9
        if not root.exists():
            continue
        work = set(_hidden(root))
        mid_save += any(n.startswith((".tmp-", ".del-")) for n in work - work_before)  # new leftovers
        mid_swap += not (root / "m").exists() and any(n.startswith(".old-m-") for n in work)
        rows = store.list_models(root)
        assert all(not r.name.startswith(".") for r in rows)
        assert not [r for r in rows if r.error], "a listed model is half-written"
        names = {r.name for r in rows}
        assert names <= {"m"} | {n for n in names if n.startswith("new-")}
        if seen_m:
            assert "m" in names, "a crash lost the model saved before it"
        seen_m = seen_m or "m" in names
        for name in sorted(names - verified):
            model, meta = store.load(name, root)
            _which(model, versions)
            if name != "m":
                verified.add(name)  # written once, never overwritten
        if "m" in names:
            _which(store.load("m", root)[0], versions)
        work_before = set(_hidden(root))
    elapsed = time.perf_counter() - t0
    print(f"30 kills in {elapsed:.1f} s: {mid_save} left a save's working folder, "
          f"{mid_swap} landed between the two renames, {len(verified)} new models verified")
    assert seen_m and verified
    # Kills land inside a save most of the time; if none did, this test tested nothing.
    assert mid_save >= 5
    assert elapsed < 60


# ---------------------------------------------------------------- killed at exact points of save


def _first_version(root: Path) -> None:
    store.save(models.build("ae", seed=1, **SIZES), "m", root)


@pytest.mark.parametrize("reader", ["list_models", "load"])
def test_kill_between_moving_old_aside_and_new_in_loses_nothing(tmp_path, forker, versions, reader):
    root = tmp_path / "models"
    _first_version(root)
    assert forker(op="crash", mode="swap", root=str(root))["signal"] == 9
    # The crash landed where intended: no model under the name, the old one hidden aside.
    assert not (root / "m").exists()
    assert [n[:7] for n in _hidden(root)] == [".old-m-", ".tmp-m-"]
    if reader == "list_models":
        (row,) = store.list_models(root)
        assert row.name == "m" and not row.error
    model, _ = store.load("m", root)
    assert _which(model, versions) == 1  # the complete old version, back under its name
    assert (root / "m").is_dir()
    # The next save replaces it normally and, once the leftovers are stale, sweeps them.
    store.save(models.build("ae", seed=2, **SIZES), "m", root)
    assert _which(store.load("m", root)[0], versions) == 2
    assert [n[:7] for n in _hidden(root)] == [".tmp-m-"]  # fresh: might belong to a running save


def test_kill_after_new_version_is_in_keeps_the_new_one(tmp_path, forker, versions, monkeypatch):
    root = tmp_path / "models"
    _first_version(root)
    assert forker(op="crash", mode="discard", root=str(root))["signal"] == 9
    assert [n[:7] for n in _hidden(root)] == [".old-m-"]
    (row,) = store.list_models(root)
    assert row.name == "m" and not row.error
    assert _which(store.load("m", root)[0], versions) == 2
    assert [n[:7] for n in _hidden(root)] == [".old-m-"]  # never restored over a model that exists
    monkeypatch.setattr(store.atomic, "STALE_SECONDS", 0)
    store.save(models.build("ae", seed=1, **SIZES), "other", root)
    assert _hidden(root) == []
    assert _which(store.load("m", root)[0], versions) == 2


def test_kill_during_first_save_of_a_name_lists_nothing(tmp_path, forker):
    root = tmp_path / "models"
    _first_version(root)
    assert forker(op="crash", mode="write", root=str(root), name="fresh")["signal"] == 9
    assert [n[:11] for n in _hidden(root)] == [".tmp-fresh-"]
    assert [r.name for r in store.list_models(root)] == ["m"]
    with pytest.raises(store.CheckpointError, match="No model named 'fresh'"):
        store.load("fresh", root)


def test_stale_leftovers_are_swept_fresh_ones_kept(tmp_path, monkeypatch):
    root = tmp_path / "models"
    _first_version(root)
    for name in (".tmp-x-0123abcd", ".del-x-0123abcd", ".old-m-0123abcd"):
        (root / name).mkdir()
        (root / name / "junk").write_text("x")
    (root / ".keep-me").mkdir()  # not one of save's folders: never touched
    store.save(models.build("ae", seed=2, **SIZES), "n", root)
    assert _hidden(root) == [".del-x-0123abcd", ".keep-me", ".old-m-0123abcd", ".tmp-x-0123abcd"]
    monkeypatch.setattr(store.atomic, "STALE_SECONDS", 0)
    store.save(models.build("ae", seed=2, **SIZES), "n", root)
    assert _hidden(root) == [".keep-me"]
    assert sorted(r.name for r in store.list_models(root)) == ["m", "n"]


def test_delete_leaves_nothing_restorable(tmp_path):
    root = tmp_path / "models"
    _first_version(root)
    (root / ".old-m-0123abcd").mkdir()  # a crash leftover of an earlier save of m
    for f in ("config.json", "model.safetensors"):
        (root / ".old-m-0123abcd" / f).write_bytes((root / "m" / f).read_bytes())
    store.delete("m", root)
    assert store.list_models(root) == [] and _hidden(root) == []


# ---------------------------------------------------------------- any bytes, any JSON

_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12))
_json = st.recursive(_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                     max_leaves=12)
_config_keys = sorted({f for k in models.KINDS.values() for f in k.config.__dataclass_fields__})
# Values a hand-edited config plausibly holds: small sizes (so a valid one builds fast), wrong types.
_plausible = (st.integers(-2, 40) | st.lists(st.integers(-2, 40), max_size=4) | st.sampled_from(
    ["relu", "sigmoid", "linear", "tanh", "mse", "bce", "kl", "l1", "none", "gaussian:0.5", "masking:2", ""]) | _json)


def _tiny_root(tmp: Path) -> tuple[Path, dict, bytes]:
    """(root holding folder m to scribble on, a pristine tiny model's meta and weights)."""
    src, root = tmp / "pristine", tmp / "models"
    if not (src / "m").exists():  # once per test: examples share tmp_path
        store.save(models.build("ae", seed=0, latent_dim=2, hidden=(3,), input_shape=(1, 4, 4)), "m", src)
        (root / "m").mkdir(parents=True)
    meta = json.loads((src / "m" / store.CONFIG).read_text())
    return root, meta, (src / "m" / store.WEIGHTS).read_bytes()


def _check(root: Path) -> None:
    """The property: load returns a model in eval mode or raises CheckpointError; listing never raises."""
    try:
        model, meta = store.load("m", root)
        assert not model.training and isinstance(meta, dict)
        event("loaded")
    except store.CheckpointError as e:
        assert str(e)
        event("refused: " + str(e).split(": ", 1)[-1][:28])
    rows = store.list_models(root)
    assert [r.name for r in rows] == ["m"]


_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(body=st.one_of(_json.map(lambda v: json.dumps(v)), st.text(max_size=200)),
       weights=st.binary(max_size=600))
def test_random_config_json_and_random_weights(tmp_path, body, weights):
    root, _, _ = _tiny_root(tmp_path)
    (root / "m" / store.CONFIG).write_text(body)
    (root / "m" / store.WEIGHTS).write_bytes(weights)
    _check(root)


@_SETTINGS
@given(data=st.data())
def test_random_config_with_real_weights(tmp_path, data):
    root, meta, blob = _tiny_root(tmp_path)
    kind = data.draw(st.sampled_from(["ae"] * 6 + list(models.KINDS) + ["", "gan", "AE", None, 3]), "kind")
    known = sorted(models.KINDS[kind].config.__dataclass_fields__) if kind in models.KINDS else _config_keys
    edits = data.draw(st.dictionaries(st.sampled_from(known * 8 + ["", "kind", "seed", "hidden_"]), _plausible,
                                      max_size=3), "edits")
    # Start from a valid config of that kind (only the ae one matches the weights), then edit it.
    base = meta["config"] if kind == "ae" or kind not in models.KINDS else models.config_to_dict(
        models.make_config(kind, input_shape=(1, 4, 4), latent_dim=2))
    meta = {**meta, "kind": kind, "config": {**base, **edits}}
    if not data.draw(st.booleans(), "keep sha256"):
        meta.pop("sha256")
    (root / "m" / store.CONFIG).write_text(json.dumps(meta))
    (root / "m" / store.WEIGHTS).write_bytes(blob)
    _check(root)


def _header_blob(header: dict, body: bytes) -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + body


_tensor_spec = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F64", "F16", "BF16", "I64", "I8", "U8", "BOOL", "F8_E4M3", "C64", "X"]),
    "shape": st.lists(st.integers(-1, 70) | st.integers(2**31, 2**64), max_size=3),
    "data_offsets": st.lists(st.integers(-1, 400) | st.integers(2**32, 2**64), min_size=2, max_size=2),
})


@_SETTINGS
@given(data=st.data())
def test_damaged_and_crafted_safetensors(tmp_path, data):
    root, meta, blob = _tiny_root(tmp_path)
    meta = {k: v for k, v in meta.items() if k != "sha256"}
    how = data.draw(st.sampled_from(["flip", "truncate", "crafted-header", "splice"]))
    if how == "flip":
        b = bytearray(blob)
        for pos in data.draw(st.lists(st.integers(0, len(blob) - 1), min_size=1, max_size=8)):
            b[pos] = data.draw(st.integers(0, 255))
        weights = bytes(b)
    elif how == "truncate":
        weights = blob[: data.draw(st.integers(0, len(blob) - 1))]
    elif how == "splice":
        weights = blob[: data.draw(st.integers(0, len(blob)))] + data.draw(st.binary(max_size=64))
    else:
        names = ["encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "decoder.0.weight", "x", "__metadata__"]
        header = data.draw(st.dictionaries(st.sampled_from(names), _tensor_spec | _json, max_size=5))
        weights = _header_blob(header, data.draw(st.binary(max_size=400)))
    (root / "m" / store.CONFIG).write_text(json.dumps(meta))
    (root / "m" / store.WEIGHTS).write_bytes(weights)
    _check(root)
