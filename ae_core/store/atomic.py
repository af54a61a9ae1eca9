"""Atomic folder transactions under a store root: a folder is written whole under a hidden name and
renamed into place, so a crash mid-save never leaves a half-written folder under a listed name.

Replacing a folder swaps it atomically where Linux can (renameat2 RENAME_EXCHANGE); elsewhere the old
folder is moved aside (`.old-<name>-*`) for an instant, and if the process dies right then `restore`
(called by every reader) moves it back, so a crash never loses the last complete version either.
Hidden `.tmp-*`, `.old-*` and `.del-*` folders are leftovers of crashes: never listed, swept by later
saves once stale. Readers open the folder once and read its files by that descriptor, so they always
read one version even while a concurrent save renames folders (`open_folder`, `read_file`, `retrying`).

Knows nothing of models: what goes into a folder is checkpoint.py's.
"""
from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import stat
import time
import uuid
from pathlib import Path
from typing import Callable

# The two files whose presence makes a folder a complete version (checkpoint.save writes them).
WEIGHTS, CONFIG = "model.safetensors", "config.json"
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


def work_dirs(root: Path) -> list[tuple[str, str, Path]]:
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


def restore(root: Path, name: str) -> bool:
    """Move the newest complete `.old-<name>-*` back to `name` if nothing is there (a save died mid-swap)."""
    if (root / name).exists():
        return False
    olds = []
    for state, n, p in work_dirs(root):
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


def discard(path: Path) -> None:
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


def sweep(root: Path, max_age: float | None = None) -> None:
    """Remove crash leftovers older than max_age (default STALE_SECONDS): temp and half-deleted folders,
    and moved-aside old versions whose name holds a model again. A fresh one may belong to a save
    running right now."""
    max_age = STALE_SECONDS if max_age is None else max_age
    now = time.time()
    for state, name, p in work_dirs(root):
        try:
            st = p.stat()
        except OSError:
            continue
        # A rename updates ctime, not mtime: the later of the two is when the folder was last touched.
        if now - max(st.st_mtime, st.st_ctime) < max_age:
            continue
        if state == "old" and not (root / name).exists():
            restore(root, name)
        else:
            shutil.rmtree(p, ignore_errors=True)


def write_folder(root: Path, name: str, fill: Callable[[Path], None], overwrite: bool = True) -> Path:
    """Run `fill(tmp)` on a fresh hidden folder, fsync its files and move it into place as root/name,
    replacing any old version atomically; returns the folder. Raises CheckpointError (also for a full or
    read-only disk); on failure the old version stays (or is restorable)."""
    final = root / name
    if final.exists() and not overwrite:
        raise CheckpointError(f"A model named {name!r} already exists.")
    tmp = root / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
    moved_aside: list[Path] = []
    done = False
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        fill(tmp)
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
                discard(p)
            sweep(root)
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


class Vanished(CheckpointError):
    """A file or the folder was not there: also what a concurrent save or delete looks like mid-read."""


def open_folder(folder: Path, name: str) -> int:
    """A descriptor of the model's folder. Files are read relative to it, so config.json and the
    weights always come from the same folder even if a concurrent save renames folders meanwhile."""
    for attempt in range(2):
        try:
            return os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            if attempt == 0 and restore(folder.parent, folder.name):
                continue
            raise Vanished(f"No model named {name!r} in {folder.parent}.") from None
        except OSError as e:
            raise CheckpointError(f"{name}: cannot open its folder ({e.strerror or e}).") from None
    raise AssertionError("unreachable")


def read_file(dir_fd: int, fname: str, limit: int, name: str, missing: str) -> bytes:
    try:
        # O_NONBLOCK: a FIFO planted in place of a file would otherwise block the open forever.
        fd = os.open(fname, os.O_RDONLY | os.O_NONBLOCK, dir_fd=dir_fd)
    except FileNotFoundError:
        raise Vanished(missing) from None
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


def retrying(fn, *args):
    # A file that vanished mid-read is what a concurrent save or delete looks like: read again.
    # Saves that follow each other closely can swap a folder away from a reader several times
    # in a row on a busy machine, so retry generously (at most ~0.5 s in all).
    attempts = 20
    for attempt in range(attempts):
        try:
            return fn(*args)
        except Vanished as e:
            if attempt == attempts - 1:
                raise CheckpointError(str(e)) from None
            time.sleep(min(0.05, 0.002 * (attempt + 1)))
    raise AssertionError("unreachable")
