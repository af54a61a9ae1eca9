"""The checkpoint format: models/<name>/ = model.safetensors + config.json + README.md (model card),
written and read through atomic.py's folder transactions.

`load` rebuilds the model from config.json (sizes validated before anything is allocated),
checks the sha256 of the weights, reads them with safetensors (never pickle), refuses non-finite
weights, loads them strictly and returns the model in eval mode; if a concurrent save swaps the
folder mid-read, it still reads config.json and the weights from one folder (by its descriptor).
Every way a checkpoint can be bad raises `CheckpointError` with a readable message. Also the
listing of a store (`list_models`, `stored_models`) and `delete`.

A model may carry other named weights of the same model beside its own (`save(..., states=...)`), each in
`state-<name>.safetensors` with its sha256 in config.json's "states"; `load(name, state=...)` reads one
with the same checks. workflow.train_on keeps a greedy stack's weights before fine-tuning this way.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import platform
import re
from pathlib import Path

import numpy as np
import torch

from ..models import KINDS, Autoencoder, ConfigError, config_to_dict, from_config, make_config
from .atomic import (CONFIG, WEIGHTS, CheckpointError, discard, open_folder, read_file, restore, retrying,
                     sanitize_name, work_dirs, write_folder)
from .card import model_card

FORMAT = "manifold-lab/1"
_STATE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
CARD = "README.md"
MAX_CONFIG_BYTES = 2_000_000
MAX_WEIGHT_BYTES = 400_000_000


def default_root() -> Path:
    """$MANIFOLD_LAB_MODELS, else the repository's models/ folder."""
    env = os.environ.get("MANIFOLD_LAB_MODELS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "models"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def state_file(state: str) -> str:
    """The file of a named extra state, built from its (checked) name, never read from config.json."""
    if not isinstance(state, str) or not _STATE_NAME.match(state):
        raise CheckpointError(f"{state!r} is not a state name (lower-case letters, digits and '-').")
    return f"state-{state}.safetensors"


def versions() -> dict[str, str]:
    import numpy
    import safetensors
    import sklearn

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__, "safetensors": safetensors.__version__}


def save(model: Autoencoder, name: str, root: str | Path | None = None, *, dataset: dict | None = None,
         metrics: dict | None = None, history: dict | None = None, train_config: dict | None = None,
         description: str = "", overwrite: bool = True, states: dict[str, dict] | None = None) -> Path:
    """Write the model atomically; returns its folder. `states`: other state dicts of the same model to keep
    beside its weights, by name (loaded by `load(name, state=...)`). Raises CheckpointError (also for a full
    or read-only disk)."""
    from safetensors.torch import save_file

    name = sanitize_name(name)
    root = Path(root) if root is not None else default_root()

    extra = {s: state_file(s) for s in (states or {})}
    expected_keys = set(model.state_dict())

    def fill(tmp: Path) -> None:
        state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS))
        stored = {}
        for s, fname in extra.items():
            if set(states[s]) != expected_keys:  # a state that could not be loaded into this model
                raise CheckpointError(f"{name}: state {s!r} does not hold this model's weights.")
            save_file({k: v.detach().to("cpu").contiguous() for k, v in states[s].items()}, str(tmp / fname))
            stored[s] = {"file": fname, "sha256": _sha256(tmp / fname)}
        meta = {
            "format": FORMAT,
            "name": name,
            "kind": model.kind,
            "config": config_to_dict(model.config),
            "dataset": dataset or {},
            "train": train_config or {},
            "metrics": metrics or {},
            "history": history or {},
            "description": description,
            "versions": versions(),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "sha256": _sha256(tmp / WEIGHTS),
        }
        if stored:
            meta["states"] = stored
        (tmp / CONFIG).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        (tmp / CARD).write_text(model_card(meta))

    return write_folder(root, name, fill, overwrite)


def _parse_meta(raw: bytes, name: str) -> dict:
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:  # JSONDecodeError is a ValueError
        raise CheckpointError(f"{name}: config.json is not readable JSON ({e}).") from None
    except RecursionError:
        raise CheckpointError(f"{name}: config.json is nested too deeply to be a model config.") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{name}: config.json has no 'config' object.")
    for key in ("dataset", "metrics", "history", "train", "states"):
        if not isinstance(meta.get(key, {}), dict):
            raise CheckpointError(f"{name}: config.json's {key!r} must be an object, not {type(meta[key]).__name__}.")
    if meta.get("kind") not in KINDS:
        raise CheckpointError(f"{name}: unknown model kind {meta.get('kind')!r}; known: {', '.join(KINDS)}.")
    return meta


def _meta_at(dir_fd: int, folder: Path, name: str) -> dict:
    raw = read_file(dir_fd, CONFIG, MAX_CONFIG_BYTES, name,
                     f"No model named {name!r} in {folder.parent} (no {CONFIG}).")
    return _parse_meta(raw, name)


def read_meta(name: str, root: str | Path | None = None) -> dict:
    """The parsed config.json of a stored model (validated enough to rebuild the model)."""
    folder = (Path(root) if root is not None else default_root()) / sanitize_name(name)

    def once():
        dir_fd = open_folder(folder, name)
        try:
            return _meta_at(dir_fd, folder, name)
        finally:
            os.close(dir_fd)

    return retrying(once)


def _finite(t: torch.Tensor) -> bool:
    if not t.is_floating_point():
        return True
    # numpy, not torch.isfinite: no intra-op thread pool to wait for when the CPUs are busy.
    return bool(np.isfinite((t.float() if t.dtype == torch.bfloat16 else t).numpy()).all())


def load(name: str, root: str | Path | None = None, device: str = "cpu",
         state: str | None = None) -> tuple[Autoencoder, dict]:
    """(model in eval mode, meta); with `state`, the model with that stored state's weights instead of its
    own (see save). Raises CheckpointError for anything wrong with the checkpoint."""
    folder = (Path(root) if root is not None else default_root()) / sanitize_name(name)
    return retrying(_load_once, name, folder, device, state)


def _load_once(name: str, folder: Path, device: str, state_name: str | None = None) -> tuple[Autoencoder, dict]:
    from safetensors import SafetensorError
    from safetensors.torch import load as load_bytes

    dir_fd = open_folder(folder, name)
    try:
        meta = _meta_at(dir_fd, folder, name)
        kind = meta["kind"]
        try:
            config = make_config(kind, **meta["config"])
        except ConfigError as e:
            raise CheckpointError(f"{name}: {e}") from None
        except TypeError as e:
            raise CheckpointError(f"{name}: bad config ({e}).") from None
        weights, expected = WEIGHTS, meta.get("sha256")
        if state_name is not None:
            entry = (meta.get("states") or {}).get(state_name)
            weights = state_file(state_name)
            if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
                raise CheckpointError(f"{name} has no stored state {state_name!r}.")
            expected = entry["sha256"]  # required: a state file is only read against its hash
        blob = read_file(dir_fd, weights, MAX_WEIGHT_BYTES, name, f"{name}: {weights} is missing.")
    finally:
        os.close(dir_fd)
    if expected and hashlib.sha256(blob).hexdigest() != expected:
        raise CheckpointError(f"{name}: {weights} does not match the sha256 in config.json (truncated or replaced).")
    try:
        state = load_bytes(blob)
    except (SafetensorError, ValueError, RuntimeError, OSError, OverflowError) as e:
        raise CheckpointError(f"{name}: {weights} is not a valid safetensors file ({e}).") from None
    bad = [k for k, t in state.items() if not _finite(t)]
    if bad:
        raise CheckpointError(f"{name}: {weights} holds NaN or infinite weights ({', '.join(bad[:3])}); "
                              "the training that wrote it diverged.")
    model = from_config(kind, config_to_dict(config))  # the zoo's one constructor; config checked above
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[0:3]
        raise CheckpointError(f"{name}: the weights do not match config.json ({' '.join(first)}).") from None
    return model.to(device).eval(), meta


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    name: str
    kind: str = ""
    latent_dim: int = 0
    dataset: str = ""
    metrics: dict = dataclasses.field(default_factory=dict)
    error: str = ""  # non-empty: listed so a person sees it, but it cannot be loaded
    input_shape: tuple = ()  # () when config.json's input_shape is not a list of sizes
    noise: str = "none"


def _shape(cfg: dict) -> tuple:
    try:
        return tuple(int(s) for s in cfg.get("input_shape", ()))
    except (TypeError, ValueError, OverflowError):
        return ()


def list_models(root: str | Path | None = None) -> list[ModelInfo]:
    """Every model folder under root, sorted by name; broken ones carry their error instead of raising."""
    root = Path(root) if root is not None else default_root()
    try:
        # Read twice: a folder renamed while the directory is read (a concurrent save moving a model
        # in) may be missed by one pass; it is a rare thing to be missed by both.
        names = {p.name for p in root.iterdir()} | {p.name for p in root.iterdir()}
    except OSError:
        return []
    for state, name, _ in work_dirs(root):
        # A save that died between moving the old version aside and moving the new one in; or one
        # in that instant right now, which has moved the new version in by the time we look again.
        if state in ("old", "tmp") and name not in names and (restore(root, name) or (root / name).is_dir()):
            names.add(name)
    out = []
    for p in sorted(root / n for n in names if not n.startswith(".")):
        # Not is_dir() alone: a folder a concurrent save has moved aside for an instant is missing
        # now, yet read_meta finds it (it restores it or the new version has arrived).
        if p.exists() and not p.is_dir():
            continue
        try:
            meta = read_meta(p.name, root)
            cfg = meta["config"]
            out.append(ModelInfo(p.name, meta["kind"], int(cfg.get("latent_dim", 0)),
                                 str(meta.get("dataset", {}).get("name", "")), meta.get("metrics", {}),
                                 input_shape=_shape(cfg), noise=str(cfg.get("noise", "none"))))
        except CheckpointError as e:
            if p.exists() or p.is_symlink():  # else it was deleted meanwhile: not a model any more
                out.append(ModelInfo(p.name, error=str(e)))
        except (ValueError, TypeError, OverflowError) as e:  # e.g. a latent_dim of NaN or 1e400
            out.append(ModelInfo(p.name, error=f"{p.name}: config.json has a bad value ({e})."))
    return out


def stored_models(root: str | Path | None = None, shape: tuple | None = None, kinds: tuple[str, ...] | None = None,
                  dataset: str | None = None) -> list[ModelInfo]:
    """The readable stored models taking inputs of `shape`, optionally of these kinds and trained on
    this dataset (by its model card)."""
    return [m for m in list_models(root)
            if not m.error and (shape is None or m.input_shape == tuple(shape))
            and (kinds is None or m.kind in kinds) and (dataset is None or m.dataset == dataset)]


def delete(name: str, root: str | Path | None = None) -> None:
    """Remove a stored model, and any moved-aside old version that could otherwise be restored."""
    root = Path(root) if root is not None else default_root()
    name = sanitize_name(name)
    for state, n, p in work_dirs(root):
        if state == "old" and n == name:
            discard(p)
    discard(root / name)
