"""A user's own dataset from an upload: a ZIP of class sub-folders of images, or an `.npz`; and the
private file that carries it to a training worker.

`load_upload(data, file_name)` returns a `Dataset` named `<file stem>-<first 8 hex of its sha256>` whose
`origin` records where it came from (file name, sha256, counts); the saved model's card keeps that
record. The ZIP is read by `ae_core.archives` (sizes, ZIP bombs, traversal, links, nested archives)
and each image is decoded by `ae_core.images.decode_image` (untrusted decoding, pixel limit from the
header). The layout rule, stated on the Train page from `RULES`: one sub-folder per class (at least
two classes, none empty), optionally inside one top folder; images only (PNG, JPEG, WebP, BMP, GIF),
read as greyscale; all of one size, at most `MAX_SIDE` x `MAX_SIDE` pixels, unless `resize` is given,
when each is resized to `resize` x `resize` by area averaging. `.npz` files go through
`data.load_npz` (never unpickled; sizes checked from the headers). Every refusal is a `DatasetError`
whose message names the file at fault.

`save_private(ds)` / `load_private(path)`: the validated arrays, split and origin as a plain `.npz`
(no object arrays; read with allow_pickle=False) in a folder only this user may read, so a training
worker process receives a path, never a pickled object.
"""
from __future__ import annotations

import collections
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path, PurePosixPath

import numpy as np

from .. import archives
from . import MAX_USER_IMAGES, Dataset, DatasetError, load_npz, stratified_split

MAX_SIDE = 64  # images kept at their size: at most 64 x 64 pixels (the models' MAX_USER_PIXELS for greyscale)
MAX_PIXELS = MAX_SIDE * MAX_SIDE
MAX_ZIP_IMAGES = 20_000
MAX_RESIZE_PIXELS = 1_000_000  # per image when resizing: a megapixel photo is fine, a 25-megapixel one is not
MAX_DECODED_PIXELS = 400_000_000  # all images together when resizing (about a minute of decoding on one core)
RESIZE_SIDES = (28, 32, 64)
MIN_IMAGES = 10
NPZ_MAX_BYTES = archives.DATASET_LIMITS.max_bytes
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
TEST_FRACTION = 0.2
PRIVATE_MAX_AGE = 24 * 3600  # private files older than this are removed by later saves

RULES = (f"a ZIP with one sub-folder per class (at least two, none empty; they may sit in one top folder) "
         f"holding only images ({', '.join(s[1:].upper() for s in IMAGE_SUFFIXES if s != '.jpeg')}), read as "
         f"greyscale, all of one size up to {MAX_SIDE}×{MAX_SIDE} pixels (or resized to one size on request, "
         f"each image at most {MAX_RESIZE_PIXELS / 1e6:g} megapixels); at most {MAX_ZIP_IMAGES:,} images, "
         f"{archives.DATASET_LIMITS.describe()}. Or an .npz with X (images: (N, H, W), (N, H*W), "
         f"(N, C, H, W) or (N, H, W, C), at most {MAX_USER_IMAGES:,}) and optionally y (integer labels), "
         f"at most {NPZ_MAX_BYTES / 1e6:g} MB. {int(TEST_FRACTION * 100)} % of each class is held out as the "
         "test split.")


def _stem(file_name: str) -> str:
    stem = PurePosixPath(str(file_name).replace("\\", "/")).name
    for suffix in (".zip", ".npz"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    clean = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem).strip("-_")[:40]
    return clean or "upload"


def dataset_name(file_name: str, sha256: str) -> str:
    """The dataset's name: the file's stem and the first 8 hex digits of its sha256 (unique per content)."""
    return f"{_stem(file_name)}-{sha256[:8]}"


def _split(name: str, x: np.ndarray, y: np.ndarray, classes: tuple[str, ...], description: str,
           origin: dict) -> Dataset:
    # Classes with a single image cannot be split in proportion; then the split ignores the classes.
    y_strat = y if np.bincount(y).min(initial=len(y)) >= 2 else np.zeros_like(y)
    tr, te = stratified_split(y_strat, TEST_FRACTION)
    origin = {**origin, "n_images": int(len(x)), "n_train": int(len(tr)), "n_test": int(len(te)),
              "n_classes": len(classes), "image_shape": [int(s) for s in x.shape[1:]]}
    return Dataset(name, np.ascontiguousarray(x[tr], np.float32), y[tr].astype(np.int64),
                   np.ascontiguousarray(x[te], np.float32), y[te].astype(np.int64), tuple(classes), description,
                   origin=origin)


def _few(names, n: int = 3) -> str:
    names = list(names)
    shown = ", ".join(repr(s) for s in names[:n])
    return shown + (f" and {len(names) - n:,} more" if len(names) > n else "")


def load_zip(data: bytes, file_name: str = "upload.zip", resize: int | None = None) -> Dataset:
    """A ZIP of class sub-folders of images (see the module docstring for the rule). Raises DatasetError."""
    from ..images import ImageError, decode_image, resize_to

    source = _stem(file_name) + ".zip" if not str(file_name).lower().endswith(".zip") else str(file_name)
    try:
        arc = archives.read_zip(data, archives.DATASET_LIMITS, source)
    except archives.ArchiveError as e:
        raise DatasetError(str(e)) from None
    files = [m for m in arc.members]
    folders = {f for f in arc.folders if not f.split("/")[0] == "__MACOSX"}
    if not files:
        raise DatasetError(f"{source} holds no files; put each class's images in a sub-folder of its own.")
    # One common top folder (a zipped folder) is taken off: classes are the folders below it.
    top = {m.parts[0] for m in files} | {f.split("/")[0] for f in folders}
    prefix = 0
    if len(top) == 1 and all(len(m.parts) >= 3 for m in files):
        prefix = 1
    loose = [m.name for m in files if len(m.parts) - prefix < 2]
    if loose:
        raise DatasetError(f"{source}: {_few(loose)} {'is' if len(loose) == 1 else 'are'} not in a class folder; "
                           "put each class's images in a sub-folder of its own (e.g. cats/1.png, dogs/2.png).")
    deep = [m.name for m in files if len(m.parts) - prefix > 2]
    if deep:
        raise DatasetError(f"{source}: {_few(deep)} {'is' if len(deep) == 1 else 'are'} in a folder inside a class "
                           "folder; each class is one folder of images, with no folders inside it.")
    not_images = [m.name for m in files if not m.name.lower().endswith(IMAGE_SUFFIXES)]
    if not_images:
        raise DatasetError(f"{source}: {_few(not_images)} {'is' if len(not_images) == 1 else 'are'} not an image "
                           f"(by the name); the ZIP must hold only images ({', '.join(IMAGE_SUFFIXES)}).")
    by_class: dict[str, list] = collections.defaultdict(list)
    for m in files:
        by_class[m.parts[prefix]].append(m)
    all_folders = set(by_class) | {f.split("/")[prefix] for f in folders if len(f.split("/")) > prefix}
    empty = sorted(all_folders - set(by_class))
    if empty:
        raise DatasetError(f"{source}: the class folder{'s' if len(empty) > 1 else ''} {_few(empty)} "
                           f"{'are' if len(empty) > 1 else 'is'} empty; remove {'them' if len(empty) > 1 else 'it'} "
                           "or add images.")
    classes = tuple(sorted(by_class))
    if len(classes) < 2:
        raise DatasetError(f"{source} has a single class folder ({classes[0]!r}); a dataset needs at least two "
                           "classes, one sub-folder each.")
    if len(files) > MAX_ZIP_IMAGES:
        raise DatasetError(f"{source} holds {len(files):,} images; at most {MAX_ZIP_IMAGES:,} are supported.")
    if len(files) < MIN_IMAGES:
        raise DatasetError(f"{source} holds {len(files)} images; at least {MIN_IMAGES} are needed.")
    if resize is not None and int(resize) not in RESIZE_SIDES:
        raise ValueError(f"resize must be one of {RESIZE_SIDES} or None, not {resize!r}")
    max_pixels = MAX_PIXELS if resize is None else MAX_RESIZE_PIXELS
    xs, ys, sizes = [], [], collections.defaultdict(list)
    decoded = 0
    for ci, c in enumerate(classes):
        for m in by_class[c]:
            try:
                grey = decode_image(m.data, max_pixels=max_pixels)
            except ImageError as e:
                hint = (" Tick 'Resize every image' to use larger images." if resize is None and "limit is" in str(e)
                        else "")
                raise DatasetError(f"{source}: {m.name!r}: {e}{hint}") from None
            decoded += grey.size
            if decoded > MAX_DECODED_PIXELS:
                raise DatasetError(f"{source}: its images hold more than {MAX_DECODED_PIXELS / 1e6:g} megapixels in "
                                   "all; resize them before zipping, or upload fewer.")
            sizes[grey.shape].append(m.name)
            if resize is None:
                if len(sizes) > 1:
                    (s1, n1), (s2, n2) = list(sizes.items())[:2]
                    raise DatasetError(
                        f"{source}: images of mixed sizes: {n1[0]!r} is {s1[1]}×{s1[0]} pixels but {n2[0]!r} is "
                        f"{s2[1]}×{s2[0]}. All images must have one size, or tick 'Resize every image'.")
            else:
                grey = resize_to(grey, (int(resize), int(resize)))
            xs.append(grey[None])
            ys.append(ci)
    x, y = np.stack(xs).astype(np.float32), np.asarray(ys, np.int64)
    counts = ", ".join(f"{c} {len(by_class[c])}" for c in classes)
    size_note = (f"{x.shape[3]}×{x.shape[2]} pixels" if resize is None
                 else f"resized to {resize}×{resize} from {len(sizes)} size{'s' if len(sizes) > 1 else ''}")
    desc = f"Your images from {source}: {len(x):,} in {len(classes)} classes ({counts}); greyscale, {size_note}."
    origin = {"source": "upload", "format": "zip", "file": str(file_name), "sha256": arc.sha256, "bytes": arc.size,
              "resized_to": None if resize is None else int(resize), "skipped": len(arc.skipped),
              "class_counts": {c: len(by_class[c]) for c in classes}}
    return _split(dataset_name(file_name, arc.sha256), x, y, classes, desc, origin)


def load_user_npz(data: bytes, file_name: str = "upload.npz") -> Dataset:
    """An uploaded .npz with X (and optionally y), read by data.load_npz, named and with its origin."""
    if len(data) > NPZ_MAX_BYTES:
        raise DatasetError(f"{file_name} is {len(data) / 1e6:.1f} MB; the limit is {NPZ_MAX_BYTES / 1e6:g} MB.")
    sha = hashlib.sha256(data).hexdigest()
    ds = load_npz(bytes(data), name=_stem(file_name))
    x = np.concatenate([ds.x_train, ds.x_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    counts = np.bincount(y, minlength=len(ds.class_names))
    desc = (f"Your arrays from {file_name}: {len(x):,} images of {x.shape[2]}×{x.shape[3]}"
            f"{'' if x.shape[1] == 1 else ' in colour'}, {len(ds.class_names)} class{'es' if len(ds.class_names) > 1 else ''}.")
    origin = {"source": "upload", "format": "npz", "file": str(file_name), "sha256": sha, "bytes": len(data),
              "class_counts": {c: int(n) for c, n in zip(ds.class_names, counts)}}
    # load_npz split X in proportion already: keep its split (train first) rather than splitting again.
    n_tr = len(ds.x_train)
    origin = {**origin, "n_images": int(len(x)), "n_train": n_tr, "n_test": int(len(ds.x_test)),
              "n_classes": len(ds.class_names), "image_shape": [int(s) for s in x.shape[1:]]}
    return Dataset(dataset_name(file_name, sha), ds.x_train, ds.y_train, ds.x_test, ds.y_test, ds.class_names,
                   desc, origin=origin)


def load_upload(data: bytes, file_name: str, resize: int | None = None) -> Dataset:
    """An uploaded dataset file by its name's suffix: .zip (class folders of images) or .npz."""
    lower = str(file_name).lower()
    if lower.endswith(".npz"):
        return load_user_npz(data, file_name)
    if lower.endswith(".zip"):
        return load_zip(data, file_name, resize)
    raise DatasetError(f"{file_name}: upload a .zip of class folders of images or an .npz with X (and y).")


# ---------------------------------------------------------------- the private file for a worker


def private_dir() -> Path:
    """This user's folder for uploaded datasets (mode 0700), under the system's temporary folder."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    d = Path(tempfile.gettempdir()) / f"manifold-lab-uploads-{uid}"
    d.mkdir(mode=0o700, exist_ok=True)
    st = d.lstat()
    # Someone else's folder (or a link) planted under this name would see or swap the data: refuse it.
    if not d.is_dir() or d.is_symlink() or (hasattr(os, "getuid") and st.st_uid != os.getuid()) or st.st_mode & 0o077:
        raise DatasetError(f"{d} is not a private folder of this user; remove it and try again.")
    return d


def save_private(ds: Dataset, folder: str | Path | None = None) -> Path:
    """Write ds (arrays, split, class names, origin) as a plain .npz only this user can read; returns its path."""
    folder = Path(folder) if folder is not None else private_dir()
    path = folder / f"{ds.name}.npz"
    if path.is_file():
        return path  # the name holds the content's hash: the same data is there already
    _sweep(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, x_train=ds.x_train, y_train=ds.y_train, x_test=ds.x_test, y_test=ds.y_test,
                     class_names=np.array(ds.class_names, dtype=str),
                     meta=np.array(json.dumps({"name": ds.name, "description": ds.description,
                                               "origin": ds.origin or {}})))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _sweep(folder: Path) -> None:
    now = time.time()
    for p in folder.glob("*.npz"):
        try:
            if now - p.stat().st_mtime > PRIVATE_MAX_AGE:
                p.unlink()
        except OSError:
            continue


def load_private(path: str | Path) -> Dataset:
    """The Dataset save_private wrote (never unpickled: allow_pickle=False; shapes checked)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test", "class_names", "meta")}
    except (OSError, ValueError, KeyError, EOFError) as e:
        raise DatasetError(f"The uploaded dataset's file {path} cannot be read ({e}); upload it again.") from None
    try:
        meta = json.loads(str(arrays["meta"]))
        name, description, origin = str(meta["name"]), str(meta["description"]), dict(meta["origin"])
    except (ValueError, KeyError, TypeError) as e:
        raise DatasetError(f"The uploaded dataset's file {path} has no readable description ({e}).") from None
    xtr, xte, ytr, yte = arrays["x_train"], arrays["x_test"], arrays["y_train"], arrays["y_test"]
    ok = (xtr.ndim == 4 and xte.ndim == 4 and xtr.shape[1:] == xte.shape[1:] and xtr.dtype == np.float32
          and xte.dtype == np.float32 and ytr.shape == (len(xtr),) and yte.shape == (len(xte),)
          and ytr.dtype.kind == "i" and yte.dtype.kind == "i")
    if not ok:
        raise DatasetError(f"The uploaded dataset's file {path} does not hold a dataset's arrays.")
    return Dataset(name, xtr, ytr, xte, yte, tuple(str(c) for c in arrays["class_names"]), description,
                   origin=origin)
