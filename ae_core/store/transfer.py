"""A stored model as one ZIP file, and such a ZIP back into the store with every checkpoint check.

`export_zip(name, root)` packs the model's folder (weights, config.json, card, and any extra states
config.json lists) under `<name>/`, read from one version of the folder (by its descriptor), so a
concurrent save never mixes two versions in one ZIP.

`import_zip(data, root)` reads the ZIP through `ae_core.archives` (sizes, ZIP bombs, traversal, links,
nested or encrypted members refused), accepts only the store's own file names, writes them into a
private temporary folder under names of its own, and loads the model from there with `checkpoint.load`
(config validated before anything is allocated, sha256 of the weights and of each state, safetensors,
finite, strict) before moving it into the store as one folder transaction (`atomic.write_folder`). The
card is written again from config.json, never copied. Refusals raise `CheckpointError`.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from .. import archives
from .atomic import CONFIG, WEIGHTS, CheckpointError, open_folder, read_file, retrying, sanitize_name, write_folder
from .card import model_card
from .checkpoint import CARD, MAX_CONFIG_BYTES, MAX_WEIGHT_BYTES, _meta_at, default_root, load, state_file


def _state_files(meta: dict) -> dict[str, str]:
    states = meta.get("states") or {}
    if not isinstance(states, dict):
        raise CheckpointError("config.json's 'states' must be an object.")
    return {s: state_file(s) for s in states}


def export_zip(name: str, root: str | Path | None = None) -> bytes:
    """The model's folder as ZIP bytes: <name>/config.json, model.safetensors, README.md (and states)."""
    folder = (Path(root) if root is not None else default_root()) / sanitize_name(name)

    def once() -> dict[str, bytes]:
        dir_fd = open_folder(folder, name)
        try:
            meta = _meta_at(dir_fd, folder, name)
            files = {CONFIG: read_file(dir_fd, CONFIG, MAX_CONFIG_BYTES, name, f"{name}: {CONFIG} is missing.")}
            for fname in (WEIGHTS, *_state_files(meta).values()):
                files[fname] = read_file(dir_fd, fname, MAX_WEIGHT_BYTES, name, f"{name}: {fname} is missing.")
            try:
                files[CARD] = read_file(dir_fd, CARD, MAX_CONFIG_BYTES, name, "")
            except CheckpointError:
                files[CARD] = model_card(meta).encode()  # a card is derived from config.json; write it afresh
            return files
        finally:
            os.close(dir_fd)

    return archives.write_zip(retrying(once), folder.name)


def import_zip(data: bytes | str | os.PathLike, root: str | Path | None = None, name: str | None = None,
               overwrite: bool = False, source: str = "The model ZIP") -> tuple[str, dict]:
    """Check a model ZIP and add it to the store; returns (its name in the store, meta).

    name: the name to store it under (default: config.json's own name, else the ZIP's top folder).
    Raises CheckpointError for anything refused, naming the reason.
    """
    root = Path(root) if root is not None else default_root()
    try:
        arc = archives.read_zip(data, archives.MODEL_LIMITS, source)
    except archives.ArchiveError as e:
        raise CheckpointError(str(e)) from None
    files = {m.name: m.data for m in arc.members}
    tops = {n.split("/")[0] for n in files}
    prefix = ""
    if len(tops) == 1 and all("/" in n for n in files):
        prefix = next(iter(tops)) + "/"
    inner = {n[len(prefix):]: b for n, b in files.items()}
    if any("/" in n for n in inner):
        raise CheckpointError(f"{source}: expected one model folder (config.json, {WEIGHTS}, {CARD}), "
                              f"found {', '.join(sorted(files)[:4])}.")
    if CONFIG not in inner or WEIGHTS not in inner:
        raise CheckpointError(f"{source} has no {CONFIG} and {WEIGHTS}: it is not a model exported from "
                              "Manifold Lab (the sidebar's 'Download model' makes one).")
    if len(inner[CONFIG]) > MAX_CONFIG_BYTES:
        raise CheckpointError(f"{source}: {CONFIG} is larger than {MAX_CONFIG_BYTES:,} bytes.")
    try:
        meta0 = json.loads(inner[CONFIG].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CheckpointError(f"{source}: {CONFIG} is not readable JSON ({e}).") from None
    if not isinstance(meta0, dict):
        raise CheckpointError(f"{source}: {CONFIG} has no model config.")
    states = _state_files(meta0)
    known = {CONFIG, WEIGHTS, CARD, *states.values()}
    extra = sorted(set(inner) - known)
    if extra:
        raise CheckpointError(f"{source} holds files a model folder does not: {', '.join(extra[:4])}.")
    wanted = name or meta0.get("name") or prefix.rstrip("/") or "imported"
    final = sanitize_name(str(wanted))
    if (root / final).exists() and not overwrite:
        raise CheckpointError(f"A model named {final!r} already exists in {root}; import it under another name.")
    # Every check of a checkpoint runs on a private copy under names of our own, before the store sees it.
    tmp = Path(tempfile.mkdtemp(prefix="manifold-lab-import-"))
    try:
        folder = tmp / final
        folder.mkdir()
        for fname in (CONFIG, WEIGHTS, *states.values()):
            (folder / fname).write_bytes(inner[fname])
        model, meta = load(final, tmp)
        for s in states:
            load(final, tmp, state=s)
        meta = {**meta, "name": final}
        try:
            card = model_card(meta)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise CheckpointError(f"{source}: {CONFIG} lacks what a model card needs ({e}).") from None
        config_bytes = (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode()

        def fill(dst: Path) -> None:
            (dst / CONFIG).write_bytes(config_bytes)
            for fname in (WEIGHTS, *states.values()):
                shutil.copyfile(folder / fname, dst / fname)
            (dst / CARD).write_text(card)

        write_folder(root, final, fill, overwrite)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final, meta
