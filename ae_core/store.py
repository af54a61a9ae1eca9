"""The checkpoint store: models/<name>/ = model.safetensors + config.json + README.md (model card).

`save` writes into a hidden temporary folder and renames it into place, so a crash mid-save
never leaves a half-written model under a listed name. `load` rebuilds the model from
config.json (sizes validated before anything is allocated), checks the sha256 of the weights,
reads them with safetensors (never pickle), loads them strictly and returns the model in eval
mode. Every way a checkpoint can be bad raises `CheckpointError` with a readable message.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import platform
import re
import shutil
import uuid
from pathlib import Path

import torch

from .models import KINDS, Autoencoder, ConfigError, config_to_dict, make_config

FORMAT = "manifold-lab/1"
WEIGHTS, CONFIG, CARD = "model.safetensors", "config.json", "README.md"
MAX_CONFIG_BYTES = 2_000_000
MAX_WEIGHT_BYTES = 400_000_000
MAX_NAME = 64
_NAME_OK = re.compile(r"[^A-Za-z0-9._-]+")


class CheckpointError(ValueError):
    """A checkpoint that cannot be saved or loaded; the message says which and why."""


def default_root() -> Path:
    """$MANIFOLD_LAB_MODELS, else the repository's models/ folder."""
    env = os.environ.get("MANIFOLD_LAB_MODELS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "models"


def sanitize_name(name: str) -> str:
    """A safe folder name: letters, digits, '.', '_' and '-' only, no leading dot, at most 64 chars."""
    if not isinstance(name, str):
        raise CheckpointError("A model name must be text.")
    clean = _NAME_OK.sub("-", name.replace("\x00", "")).strip(".-_")
    clean = re.sub(r"-{2,}", "-", clean)[:MAX_NAME].strip(".-_")
    if not clean:
        raise CheckpointError(f"{name!r} is not a usable model name; use letters, digits, '-', '_' or '.'.")
    return clean


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def versions() -> dict[str, str]:
    import numpy
    import safetensors
    import sklearn

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__, "safetensors": safetensors.__version__}


def model_card(meta: dict) -> str:
    m = meta.get("metrics", {})
    test, pca = m.get("test", {}), m.get("pca", {})
    ds = meta.get("dataset", {})
    lines = [
        f"# {meta['name']}",
        "",
        f"A `{meta['kind']}` autoencoder ({KINDS[meta['kind']].summary}) with a {meta['config']['latent_dim']}-D latent, "
        f"trained on `{ds.get('name', '?')}` ({ds.get('split', {}).get('n_train', '?')} training images, "
        f"split seed {ds.get('split', {}).get('seed', '?')}).",
        "",
    ]
    if test:
        lines += [
            f"Held-out test split ({ds.get('split', {}).get('n_test', '?')} images):",
            "",
            "| | squared error / image | MSE / pixel | PSNR (dB) |",
            "|---|---|---|---|",
            f"| this model | {test['sse']:.2f} | {test['mse']:.5f} | {test['psnr']:.2f} |",
        ]
        if pca:
            lines.append(f"| PCA, {meta['config']['latent_dim']} components | {pca['sse']:.2f} | {pca['mse']:.5f} | {pca['psnr']:.2f} |")
        lines.append("")
    lines += ["Config:", "", "```json", json.dumps(meta["config"], indent=2, sort_keys=True), "```", "",
              f"Weights sha256 `{meta['sha256']}`. Load with `ae_core.store.load({meta['name']!r})`.", ""]
    return "\n".join(lines)


def save(model: Autoencoder, name: str, root: str | Path | None = None, *, dataset: dict | None = None,
         metrics: dict | None = None, history: dict | None = None, train_config: dict | None = None,
         description: str = "", overwrite: bool = True) -> Path:
    """Write the model atomically; returns its folder. Raises CheckpointError (also for a full or read-only disk)."""
    from safetensors.torch import save_file

    name = sanitize_name(name)
    root = Path(root) if root is not None else default_root()
    final = root / name
    if final.exists() and not overwrite:
        raise CheckpointError(f"A model named {name!r} already exists.")
    tmp = root / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS))
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
        (tmp / CONFIG).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        (tmp / CARD).write_text(model_card(meta))
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        # Move any old version aside first: a directory cannot be renamed over a non-empty one.
        trash = root / f".old-{name}-{uuid.uuid4().hex[:8]}"
        if final.exists():
            os.replace(final, trash)
        os.replace(tmp, final)
        shutil.rmtree(trash, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise CheckpointError(f"Could not save model {name!r} in {root}: {e.strerror or e}.") from None
    return final


def read_meta(name: str, root: str | Path | None = None) -> dict:
    """The parsed config.json of a stored model (validated enough to rebuild the model)."""
    folder = (Path(root) if root is not None else default_root()) / sanitize_name(name)
    path = folder / CONFIG
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise CheckpointError(f"{name}: config.json is larger than {MAX_CONFIG_BYTES:,} bytes.")
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"No model named {name!r} in {folder.parent} (no {CONFIG}).") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{name}: config.json is not readable JSON ({e}).") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{name}: config.json has no 'config' object.")
    if meta.get("kind") not in KINDS:
        raise CheckpointError(f"{name}: unknown model kind {meta.get('kind')!r}; known: {', '.join(KINDS)}.")
    return meta


def load(name: str, root: str | Path | None = None, device: str = "cpu") -> tuple[Autoencoder, dict]:
    """(model in eval mode, meta). Raises CheckpointError for anything wrong with the checkpoint."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_bytes

    meta = read_meta(name, root)
    folder = (Path(root) if root is not None else default_root()) / sanitize_name(name)
    kind = meta["kind"]
    try:
        config = make_config(kind, **meta["config"])
    except ConfigError as e:
        raise CheckpointError(f"{name}: {e}") from None
    except TypeError as e:
        raise CheckpointError(f"{name}: bad config ({e}).") from None
    wpath = folder / WEIGHTS
    try:
        size = wpath.stat().st_size
        if size > MAX_WEIGHT_BYTES:
            raise CheckpointError(f"{name}: {WEIGHTS} is {size:,} bytes; the limit is {MAX_WEIGHT_BYTES:,}.")
        blob = wpath.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{name}: {WEIGHTS} is missing.") from None
    except OSError as e:
        raise CheckpointError(f"{name}: cannot read {WEIGHTS} ({e}).") from None
    expected = meta.get("sha256")
    if expected and hashlib.sha256(blob).hexdigest() != expected:
        raise CheckpointError(f"{name}: {WEIGHTS} does not match the sha256 in config.json (truncated or replaced).")
    try:
        state = load_bytes(blob)
    except (SafetensorError, ValueError, RuntimeError, OSError, OverflowError) as e:
        raise CheckpointError(f"{name}: {WEIGHTS} is not a valid safetensors file ({e}).") from None
    model = KINDS[kind].model(config)
    model.kind = kind
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


def list_models(root: str | Path | None = None) -> list[ModelInfo]:
    """Every model folder under root, sorted by name; broken ones carry their error instead of raising."""
    root = Path(root) if root is not None else default_root()
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    out = []
    for p in folders:
        try:
            meta = read_meta(p.name, root)
            out.append(ModelInfo(p.name, meta["kind"], int(meta["config"].get("latent_dim", 0)),
                                 str(meta.get("dataset", {}).get("name", "")), meta.get("metrics", {})))
        except (CheckpointError, ValueError, TypeError) as e:
            out.append(ModelInfo(p.name, error=str(e)))
    return out


def delete(name: str, root: str | Path | None = None) -> None:
    folder = (Path(root) if root is not None else default_root()) / sanitize_name(name)
    shutil.rmtree(folder, ignore_errors=True)
