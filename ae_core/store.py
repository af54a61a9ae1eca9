"""The checkpoint store: models/<name>/ = model.safetensors + config.json + README.md (model card).

`save` writes into a hidden temporary folder and renames it into place, so a crash mid-save
never leaves a half-written model under a listed name. Replacing a model moves the old folder
aside (`.old-<name>-*`) for an instant; if the process dies right then, `list_models` and `load`
move it back, so a crash never loses the last complete version either. Hidden `.tmp-*`, `.old-*`
and `.del-*` folders are leftovers of crashes: never listed, swept by later saves once stale.

`load` rebuilds the model from config.json (sizes validated before anything is allocated),
checks the sha256 of the weights, reads them with safetensors (never pickle), refuses non-finite
weights, loads them strictly and returns the model in eval mode; if a concurrent save swaps the
folder mid-read, it still reads config.json and the weights from one folder (by its descriptor).
Every way a checkpoint can be bad raises `CheckpointError` with a readable message.
"""
from __future__ import annotations

import ctypes
import dataclasses
import datetime as _dt
import errno
import hashlib
import json
import os
import platform
import re
import shutil
import stat
import time
import uuid
from pathlib import Path

import numpy as np
import torch

from .models import KINDS, Autoencoder, ConfigError, config_to_dict, from_config, make_config

FORMAT = "manifold-lab/1"
WEIGHTS, CONFIG, CARD = "model.safetensors", "config.json", "README.md"
MAX_CONFIG_BYTES = 2_000_000
MAX_WEIGHT_BYTES = 400_000_000
MAX_NAME = 64
_NAME_OK = re.compile(r"[^A-Za-z0-9._-]+")
# Names Windows cannot use for a file or folder, whatever the extension: a model saved under one
# could not be checked out or copied there.
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
# Hidden working folders of save/delete: .tmp-<name>-<8 hex> (being written), .old-<name>-<8 hex>
# (the previous version, moved aside), .del-<name>-<8 hex> (being removed).
_WORK_DIR = re.compile(r"^\.(tmp|old|del)-(.+)-[0-9a-f]{8}$")
STALE_SECONDS = 3600


class CheckpointError(ValueError):
    """A checkpoint that cannot be saved or loaded; the message says which and why."""


def default_root() -> Path:
    """$MANIFOLD_LAB_MODELS, else the repository's models/ folder."""
    env = os.environ.get("MANIFOLD_LAB_MODELS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "models"


def sanitize_name(name: str) -> str:
    """A safe folder name: letters, digits, '.', '_' and '-' only, no leading dot, at most 64 chars;
    a Windows device name (CON, NUL, COM1, ...) gets '-model' after its stem."""
    if not isinstance(name, str):
        raise CheckpointError("A model name must be text.")
    clean = _NAME_OK.sub("-", name.replace("\x00", "")).strip(".-_")
    clean = re.sub(r"-{2,}", "-", clean)[:MAX_NAME].strip(".-_")
    if not clean:
        raise CheckpointError(f"{name!r} is not a usable model name; use letters, digits, '-', '_' or '.'.")
    stem, dot, rest = clean.partition(".")
    if stem.upper() in _WINDOWS_RESERVED:  # "COM1.txt" is reserved too: change the part before the dot
        clean = f"{stem}-model{dot}{rest}"[:MAX_NAME].rstrip(".-_")
    return clean


def _work_dirs(root: Path) -> list[tuple[str, str, Path]]:
    """(state, model name, path) of every hidden working folder of save/delete under root."""
    out = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return out
    for p in entries:
        m = _WORK_DIR.match(p.name)
        if m:
            out.append((m.group(1), m.group(2), p))
    return out


def _restore(root: Path, name: str) -> bool:
    """Move the newest complete `.old-<name>-*` back to `name` if nothing is there (a save died mid-swap)."""
    if (root / name).exists():
        return False
    olds = []
    for state, n, p in _work_dirs(root):
        if state == "old" and n == name and (p / CONFIG).is_file() and (p / WEIGHTS).is_file():
            try:
                olds.append(((p / CONFIG).stat().st_mtime, p))
            except OSError:
                continue
    for _, p in sorted(olds, reverse=True):
        try:
            # rename, not replace: it fails (and we give up) if a concurrent save just moved a model in.
            os.rename(p, root / name)
            return True
        except OSError:
            continue
    return False


def _discard(path: Path) -> None:
    """Remove a folder; renamed to .del-* first so a crash mid-removal never leaves a listed or restorable half."""
    m = _WORK_DIR.match(path.name)
    base = m.group(2) if m else path.name
    gone = path.parent / f".del-{base}-{uuid.uuid4().hex[:8]}"
    try:
        os.rename(path, gone)
    except FileNotFoundError:
        return
    except OSError:
        gone = path
    shutil.rmtree(gone, ignore_errors=True)


def _sweep(root: Path, max_age: float | None = None) -> None:
    """Remove crash leftovers older than max_age (default STALE_SECONDS): temp and half-deleted folders,
    and moved-aside old versions whose name holds a model again. A fresh one may belong to a save
    running right now."""
    max_age = STALE_SECONDS if max_age is None else max_age
    now = time.time()
    for state, name, p in _work_dirs(root):
        try:
            st = p.stat()
        except OSError:
            continue
        # A rename updates ctime, not mtime: the later of the two is when the folder was last touched.
        if now - max(st.st_mtime, st.st_ctime) < max_age:
            continue
        if state == "old" and not (root / name).exists():
            _restore(root, name)
        else:
            shutil.rmtree(p, ignore_errors=True)


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
        lines += ["", "Both reconstructions clipped to [0, 1] before measuring (PCA's back-projection leaves that "
                  "range; unclipped PCA figures: `python -m benchmarks.papers`)."]
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
    moved_aside: list[Path] = []
    done = False
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
        # Where the kernel can swap two folders atomically, the name never disappears, not even
        # for readers listing the folder meanwhile; tmp then holds the old version, discarded below.
        if final.exists() and _exchange(tmp, final):
            moved_aside.append(tmp)
        # Elsewhere move any old version aside first: a folder cannot be renamed over a non-empty
        # one. If another process restores or saves the name between the two renames, go round again.
        for attempt in range(0 if moved_aside else 5):
            trash = root / f".old-{name}-{uuid.uuid4().hex[:8]}"
            try:
                os.replace(final, trash)
                moved_aside.append(trash)
            except FileNotFoundError:
                pass
            try:
                os.replace(tmp, final)
                break
            except OSError as e:
                if e.errno not in (errno.ENOTEMPTY, errno.EEXIST) or attempt == 4:
                    raise
        done = True
    except CheckpointError:
        raise
    except OSError as e:
        raise CheckpointError(f"Could not save model {name!r} in {root}: {e.strerror or e}.") from None
    except Exception as e:  # safetensors reports I/O errors (disk full) as SafetensorError; json, bad metadata
        raise CheckpointError(f"Could not save model {name!r} in {root}: {e}.") from None
    finally:
        if done:
            for p in moved_aside:
                _discard(p)
            _sweep(root)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            # Failed after moving the old version aside: put it back rather than lose it.
            if moved_aside and not final.exists():
                try:
                    os.rename(moved_aside[-1], final)
                except OSError:
                    pass  # still restorable: list_models / load move .old-* back
    return final


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing folders atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOENT, getattr(errno, "ENOTSUP", -1), errno.EOPNOTSUPP):
        return False  # no such call or file system support, or b vanished: the two-rename path copes
    raise OSError(err, os.strerror(err))


class _Vanished(CheckpointError):
    """A file or the folder was not there: also what a concurrent save or delete looks like mid-read."""


def _open_folder(folder: Path, name: str) -> int:
    """A descriptor of the model's folder. Files are read relative to it, so config.json and the
    weights always come from the same folder even if a concurrent save renames folders meanwhile."""
    for attempt in range(2):
        try:
            return os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            if attempt == 0 and _restore(folder.parent, folder.name):
                continue
            raise _Vanished(f"No model named {name!r} in {folder.parent}.") from None
        except OSError as e:
            raise CheckpointError(f"{name}: cannot open its folder ({e.strerror or e}).") from None
    raise AssertionError("unreachable")


def _read_file(dir_fd: int, fname: str, limit: int, name: str, missing: str) -> bytes:
    try:
        # O_NONBLOCK: a FIFO planted in place of a file would otherwise block the open forever.
        fd = os.open(fname, os.O_RDONLY | os.O_NONBLOCK, dir_fd=dir_fd)
    except FileNotFoundError:
        raise _Vanished(missing) from None
    except OSError as e:
        raise CheckpointError(f"{name}: cannot read {fname} ({e.strerror or e}).") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
            raise CheckpointError(f"{name}: {fname} is not a regular file.")
        if st.st_size > limit:
            raise CheckpointError(f"{name}: {fname} is {st.st_size:,} bytes; the limit is {limit:,}.")
        with open(fd, "rb", closefd=False) as f:
            return f.read(limit + 1)
    except OSError as e:
        raise CheckpointError(f"{name}: cannot read {fname} ({e.strerror or e}).") from None
    finally:
        os.close(fd)


def _parse_meta(raw: bytes, name: str) -> dict:
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:  # JSONDecodeError is a ValueError
        raise CheckpointError(f"{name}: config.json is not readable JSON ({e}).") from None
    except RecursionError:
        raise CheckpointError(f"{name}: config.json is nested too deeply to be a model config.") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{name}: config.json has no 'config' object.")
    for key in ("dataset", "metrics", "history", "train"):
        if not isinstance(meta.get(key, {}), dict):
            raise CheckpointError(f"{name}: config.json's {key!r} must be an object, not {type(meta[key]).__name__}.")
    if meta.get("kind") not in KINDS:
        raise CheckpointError(f"{name}: unknown model kind {meta.get('kind')!r}; known: {', '.join(KINDS)}.")
    return meta


def _meta_at(dir_fd: int, folder: Path, name: str) -> dict:
    raw = _read_file(dir_fd, CONFIG, MAX_CONFIG_BYTES, name,
                     f"No model named {name!r} in {folder.parent} (no {CONFIG}).")
    return _parse_meta(raw, name)


def _retrying(fn, *args):
    # A file that vanished mid-read is what a concurrent save or delete looks like: read again.
    # Saves that follow each other closely can swap a folder away from a reader several times
    # in a row on a busy machine, so retry generously (at most ~0.5 s in all).
    attempts = 20
    for attempt in range(attempts):
        try:
            return fn(*args)
        except _Vanished as e:
            if attempt == attempts - 1:
                raise CheckpointError(str(e)) from None
            time.sleep(min(0.05, 0.002 * (attempt + 1)))
    raise AssertionError("unreachable")


def read_meta(name: str, root: str | Path | None = None) -> dict:
    """The parsed config.json of a stored model (validated enough to rebuild the model)."""
    folder = (Path(root) if root is not None else default_root()) / sanitize_name(name)

    def once():
        dir_fd = _open_folder(folder, name)
        try:
            return _meta_at(dir_fd, folder, name)
        finally:
            os.close(dir_fd)

    return _retrying(once)


def _finite(t: torch.Tensor) -> bool:
    if not t.is_floating_point():
        return True
    # numpy, not torch.isfinite: no intra-op thread pool to wait for when the CPUs are busy.
    return bool(np.isfinite((t.float() if t.dtype == torch.bfloat16 else t).numpy()).all())


def load(name: str, root: str | Path | None = None, device: str = "cpu") -> tuple[Autoencoder, dict]:
    """(model in eval mode, meta). Raises CheckpointError for anything wrong with the checkpoint."""
    folder = (Path(root) if root is not None else default_root()) / sanitize_name(name)
    return _retrying(_load_once, name, folder, device)


def _load_once(name: str, folder: Path, device: str) -> tuple[Autoencoder, dict]:
    from safetensors import SafetensorError
    from safetensors.torch import load as load_bytes

    dir_fd = _open_folder(folder, name)
    try:
        meta = _meta_at(dir_fd, folder, name)
        kind = meta["kind"]
        try:
            config = make_config(kind, **meta["config"])
        except ConfigError as e:
            raise CheckpointError(f"{name}: {e}") from None
        except TypeError as e:
            raise CheckpointError(f"{name}: bad config ({e}).") from None
        blob = _read_file(dir_fd, WEIGHTS, MAX_WEIGHT_BYTES, name, f"{name}: {WEIGHTS} is missing.")
    finally:
        os.close(dir_fd)
    expected = meta.get("sha256")
    if expected and hashlib.sha256(blob).hexdigest() != expected:
        raise CheckpointError(f"{name}: {WEIGHTS} does not match the sha256 in config.json (truncated or replaced).")
    try:
        state = load_bytes(blob)
    except (SafetensorError, ValueError, RuntimeError, OSError, OverflowError) as e:
        raise CheckpointError(f"{name}: {WEIGHTS} is not a valid safetensors file ({e}).") from None
    bad = [k for k, t in state.items() if not _finite(t)]
    if bad:
        raise CheckpointError(f"{name}: {WEIGHTS} holds NaN or infinite weights ({', '.join(bad[:3])}); "
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
    for state, name, _ in _work_dirs(root):
        # A save that died between moving the old version aside and moving the new one in; or one
        # in that instant right now, which has moved the new version in by the time we look again.
        if state in ("old", "tmp") and name not in names and (_restore(root, name) or (root / name).is_dir()):
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
    for state, n, p in _work_dirs(root):
        if state == "old" and n == name:
            _discard(p)
    _discard(root / name)
