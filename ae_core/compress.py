"""An autoencoder as an image codec, measured against JPEG and WebP on held-out images.

Owns the rate-distortion comparison behind the Compression page:
* `Quantiser`: a uniform b-bit quantiser per latent coordinate whose ranges (min / max of each
  coordinate over the TRAINING codes) belong to the shared decoder, like the decoder's weights, and
  are not counted per image. `pack` / `unpack` turn the integer codes into real bytes, so an image
  costs exactly `ae_bytes(latent_dim, bits)` = ceil(latent_dim * bits / 8) bytes.
* `jpeg` / `webp`: Pillow round trips of greyscale images (JPEG 'L' with optimize=True, WebP lossy
  at a quality or lossless) returning the decoded images and the encoded files.
* `header_bytes`: the bytes every file of one codec setting shares, estimated as the longest common
  prefix of the encoded files of that setting together with the encoding of a blank image (a blank
  image guarantees at least two different files). WebP files start with RIFF / VP8 length fields that
  differ per file only because they state a length; those fields are masked before comparing.
  Payload bytes = file bytes - header bytes.
* `rate_distortion(models, x_test, x_train)` -> rows (codec, setting, bytes_file, bytes_payload, psnr,
  ssim), means over the images; `crossover(rows)`: where JPEG (or WebP) overtakes the AE in PSNR at
  equal bytes; `matched_examples`: one image through each codec at about the same size.

PSNR and SSIM are always computed against the original float image in [0, 1]. Never imports streamlit.
"""
from __future__ import annotations

import io
import math
from typing import Mapping, Sequence

import numpy as np
from PIL import Image

from . import evaluate, images, metrics

AE_BITS: tuple[int, ...] = (4, 8, 16)
JPEG_QUALITIES: tuple[int, ...] = (5, 10, 20, 30, 50, 70, 85, 95)
WEBP_QUALITIES: tuple[int, ...] = (5, 10, 20, 30, 50, 70, 85, 95)
# Qualities tried when matching a JPEG / WebP file to the AE's size ("about N bytes", not exactly).
MATCH_QUALITIES: tuple[int, ...] = (1, 2, 3, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 95, 100)


# ---------------------------------------------------------------- the AE codec


def ae_bytes(latent_dim: int, bits: int) -> int:
    """Bytes per image of a latent of `latent_dim` coordinates at `bits` bits each, packed tightly."""
    return math.ceil(int(latent_dim) * int(bits) / 8)


class Quantiser:
    """Uniform scalar quantiser, one range per latent coordinate (scikit-learn estimator contract).

    fit(z_train) stores lo_ and hi_, the per-coordinate min and max of the training codes. A code is
    mapped to one of 2**bits levels evenly spaced from lo_ to hi_ (values outside are clipped).
    """

    def __init__(self, bits: int = 8):
        self.bits = bits

    def fit(self, z_train: np.ndarray) -> "Quantiser":
        if not 1 <= int(self.bits) <= 32:
            raise ValueError(f"bits must be between 1 and 32, got {self.bits}")
        z = np.asarray(z_train, dtype=np.float64)
        self.lo_, self.hi_ = z.min(0), z.max(0)
        return self

    @property
    def levels(self) -> int:
        return 2 ** int(self.bits)

    def quantise(self, z: np.ndarray) -> np.ndarray:
        """(N, d) float -> (N, d) integers in [0, 2**bits - 1] (uint64)."""
        span = np.maximum(self.hi_ - self.lo_, 1e-12)
        t = (np.asarray(z, dtype=np.float64) - self.lo_) / span
        return np.rint(np.clip(t, 0.0, 1.0) * (self.levels - 1)).astype(np.uint64)

    def dequantise(self, q: np.ndarray) -> np.ndarray:
        step = (self.hi_ - self.lo_) / (self.levels - 1)
        return (self.lo_ + np.asarray(q, dtype=np.float64) * step).astype(np.float32)

    def pack(self, q: np.ndarray) -> list[bytes]:
        """Each row of integer codes as ceil(d * bits / 8) bytes (big-endian bit stream)."""
        q = np.asarray(q, dtype=np.uint64)
        shifts = np.arange(int(self.bits) - 1, -1, -1, dtype=np.uint64)
        bits = ((q[..., None] >> shifts) & np.uint64(1)).astype(np.uint8).reshape(len(q), -1)
        return [np.packbits(row).tobytes() for row in bits]

    def unpack(self, blobs: Sequence[bytes], latent_dim: int) -> np.ndarray:
        b = int(self.bits)
        rows = []
        for blob in blobs:
            bits = np.unpackbits(np.frombuffer(blob, dtype=np.uint8))[: latent_dim * b].reshape(latent_dim, b)
            weights = (np.uint64(1) << np.arange(b - 1, -1, -1, dtype=np.uint64))
            rows.append((bits.astype(np.uint64) * weights).sum(1))
        return np.asarray(rows, dtype=np.uint64)


def ae_codec(model, x: np.ndarray, quantiser: Quantiser, z: np.ndarray | None = None) -> tuple[np.ndarray, list[bytes]]:
    """Encode -> quantise -> pack (the bytes a sender would transmit) -> unpack -> decode.

    `z`: the codes of x when already computed. Returns (decoded images clipped to [0, 1], the packed
    bytes of each image).
    """
    blobs = quantiser.pack(quantiser.quantise(evaluate.encode(model, x) if z is None else z))
    z_hat = quantiser.dequantise(quantiser.unpack(blobs, model.latent_dim))
    return np.clip(evaluate.decode(model, z_hat), 0.0, 1.0), blobs


# ---------------------------------------------------------------- Pillow codecs


def _to_pil(img: np.ndarray) -> Image.Image:
    a = np.asarray(img)
    a = a[0] if a.ndim == 3 else a
    return Image.fromarray(images.to_uint8(a), mode="L")


def _from_bytes(blob: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(blob)) as im:
        return (np.asarray(im.convert("L"), dtype=np.float32) / 255.0)[None]


def encode_pil(img: np.ndarray, codec: str, setting: int | str) -> bytes:
    """One (1, H, W) or (H, W) image as a JPEG or WebP file. setting: a quality 1..100, or "lossless" (WebP)."""
    buf = io.BytesIO()
    im = _to_pil(img)
    if codec == "JPEG":
        im.save(buf, format="JPEG", quality=int(setting), optimize=True)
    elif codec == "WebP":
        if setting == "lossless":
            im.save(buf, format="WEBP", lossless=True, quality=100)
        else:
            im.save(buf, format="WEBP", quality=int(setting))
    else:
        raise ValueError(f"unknown codec {codec!r}")
    return buf.getvalue()


def pil_codec(x: np.ndarray, codec: str, setting: int | str) -> tuple[np.ndarray, list[bytes]]:
    """Round trip of every image: (decoded (N, 1, H, W) float32, the encoded files)."""
    blobs = [encode_pil(img, codec, setting) for img in x]
    return np.stack([_from_bytes(b) for b in blobs]), blobs


def _masked(blob: bytes) -> bytes:
    """A WebP file with its length fields zeroed: 'RIFF' size (bytes 4-7), the first chunk's size
    (16-19) and, for a lossy 'VP8 ' chunk, the frame tag holding the first partition's size (20-22)."""
    if blob[:4] != b"RIFF" or blob[8:12] != b"WEBP":
        return blob
    b = bytearray(blob)
    b[4:8] = b"\0" * 4
    b[16:20] = b"\0" * 4
    if blob[12:16] == b"VP8 ":
        b[20:23] = b"\0" * 3
    return bytes(b)


def header_bytes(blobs: Sequence[bytes]) -> int:
    """Longest prefix shared by all the files (WebP length fields masked): the per-setting header estimate."""
    if not blobs:
        return 0
    m = [_masked(b) for b in blobs]
    n = min(len(b) for b in m)
    arr = np.stack([np.frombuffer(b[:n], dtype=np.uint8) for b in m])
    same = (arr == arr[0]).all(0)
    diff = np.flatnonzero(~same)
    return int(diff[0]) if len(diff) else n


# ---------------------------------------------------------------- the comparison


def _row(codec: str, setting: str, bytes_file: np.ndarray, bytes_payload: np.ndarray,
         x: np.ndarray, x_hat: np.ndarray, model: str = "") -> dict:
    return {
        "codec": codec, "setting": setting, "model": model,
        "bytes_file": float(np.mean(bytes_file)), "bytes_payload": float(np.mean(bytes_payload)),
        "psnr": float(metrics.psnr(x, x_hat).mean()), "ssim": float(metrics.ssim(x, x_hat).mean()),
    }


def ae_rows(models_: Mapping[str, object], x_test: np.ndarray, x_train: np.ndarray,
            bits: Sequence[int] = AE_BITS) -> list[dict]:
    """Rate-distortion points of each model's codec at each bit depth (ranges fitted on x_train's codes)."""
    rows = []
    for name, model in models_.items():
        z_train = evaluate.encode(model, x_train)
        z_test = evaluate.encode(model, x_test)
        for b in bits:
            q = Quantiser(b).fit(z_train)
            x_hat, blobs = ae_codec(model, x_test, q, z=z_test)
            n = np.array([len(s) for s in blobs])
            rows.append(_row(f"AE {name}", f"{b} bit", n, n, x_test, x_hat, model=name))
            rows[-1].update(latent_dim=model.latent_dim, bits=int(b))
    return rows


def pil_rows(x_test: np.ndarray, codec: str, settings: Sequence[int | str]) -> list[dict]:
    rows = []
    blank = np.zeros_like(np.asarray(x_test[0]))
    for s in settings:
        x_hat, blobs = pil_codec(x_test, codec, s)
        head = header_bytes(blobs + [encode_pil(blank, codec, s)])
        n = np.array([len(b) for b in blobs])
        label = s if isinstance(s, str) else f"q={s}"
        rows.append(_row(codec, label, n, n - head, x_test, x_hat))
        rows[-1].update(header=head, quality=s)
    return rows


def rate_distortion(models_: Mapping[str, object], x_test: np.ndarray, x_train: np.ndarray,
                    bits: Sequence[int] = AE_BITS, jpeg_qualities: Sequence[int] = JPEG_QUALITIES,
                    webp_qualities: Sequence[int | str] = (*WEBP_QUALITIES, "lossless")) -> list[dict]:
    """Every codec's (codec, setting, bytes_file, bytes_payload, psnr, ssim) on the held-out images x_test.

    Bytes and scores are means over the images. For the AE rows bytes_file == bytes_payload ==
    ceil(latent_dim * bits / 8); the quantiser ranges come from the codes of x_train.
    """
    x_test = np.asarray(x_test, dtype=np.float32)
    if x_test.ndim != 4 or x_test.shape[1] != 1:
        raise ValueError("rate_distortion needs greyscale images (N, 1, H, W)")
    return [*ae_rows(models_, x_test, x_train, bits),
            *pil_rows(x_test, "JPEG", jpeg_qualities),
            *pil_rows(x_test, "WebP", webp_qualities)]


def _interp_log(bytes_: np.ndarray, vals: np.ndarray, at: float) -> float:
    return float(np.interp(np.log(at), np.log(bytes_), vals))


def crossover(rows: Sequence[dict], against: str = "JPEG", metric: str = "psnr",
              bytes_key: str = "bytes_file") -> dict:
    """Where `against` (JPEG or WebP) overtakes the best autoencoder at equal bytes.

    The AE side is the envelope of every AE row: at a budget of B bytes, the best metric of any AE
    setting costing at most B bytes. The `against` curve is its quality settings sorted by bytes and
    interpolated linearly in log-bytes. Walking that curve upwards, the crossover is the first budget at
    which it reaches the AE envelope. Returns a dict with "found", "bytes", the metric value there,
    the AE setting it beats and a sentence "text"; "found" is False when it never catches up (or is
    better already at its smallest file, "text" says which).
    """
    ae = sorted((r for r in rows if r["codec"].startswith("AE ")), key=lambda r: r[bytes_key])
    other = sorted((r for r in rows if r["codec"] == against and r["setting"] != "lossless"),
                   key=lambda r: r[bytes_key])
    if not ae or not other:
        return {"found": False, "text": f"Need both AE and {against} rows."}

    def ae_best(b: float) -> dict | None:
        ok = [r for r in ae if r[bytes_key] <= b + 1e-9]
        return max(ok, key=lambda r: r[metric]) if ok else None

    ob = np.array([r[bytes_key] for r in other], dtype=float)
    ov = np.array([r[metric] for r in other], dtype=float)
    if ob.min() <= 0:
        return {"found": False, "text": f"{against} has a zero-byte point; cannot compare on {bytes_key}."}
    # Candidate budgets: the other codec's points and every AE byte count inside its range.
    cands = np.unique(np.concatenate([ob, [r[bytes_key] for r in ae if ob.min() <= r[bytes_key] <= ob.max()]]))
    prev = None
    for b in cands:
        best = ae_best(b)
        v = _interp_log(ob, ov, b)
        if best is None or v >= best[metric]:
            if prev is None:
                what = ("no AE setting fits" if best is None else
                        f"it already beats the best autoencoder that fits, {best['codec']} {best['setting']} "
                        f"({best[bytes_key]:.0f} bytes, {metric.upper()} {best[metric]:.2f})")
                return {"found": False, "bytes": float(b), metric: v, "setting": other[0]["setting"],
                        "text": (f"{against} wins wherever it exists: at its smallest size ({b:.0f} bytes, "
                                 f"{metric.upper()} {v:.2f}) {what}. Below {b:.0f} bytes only the autoencoder "
                                 "can go at all.")}
            # Refine between the previous candidate and this one: the AE envelope is flat there.
            target = ae_best(prev)[metric] if best is not None else v
            lo, hi = prev, b
            for _ in range(40):
                mid = math.sqrt(lo * hi)
                if _interp_log(ob, ov, mid) >= target:
                    hi = mid
                else:
                    lo = mid
            beaten = ae_best(hi) or best
            return {"found": True, "bytes": float(hi), metric: float(_interp_log(ob, ov, hi)),
                    "ae": f"{beaten['codec']} {beaten['setting']}", "ae_bytes": beaten[bytes_key],
                    "text": (f"{against} overtakes the best autoencoder at about {hi:.0f} bytes per image "
                             f"({metric.upper()} {_interp_log(ob, ov, hi):.2f}), where the best AE is "
                             f"{beaten['codec']} at {beaten['setting']} ({beaten[bytes_key]:.0f} bytes, "
                             f"{metric.upper()} {beaten[metric]:.2f}). Below that budget the AE is better.")}
        prev = b
    top = ae_best(ob.max())
    return {"found": False, "bytes": None,
            "text": (f"{against} never catches up within its tested range (up to {ob.max():.0f} bytes): the best "
                     f"AE ({top['codec']} {top['setting']}) stays ahead.")}


def matched_examples(model, x: np.ndarray, x_train: np.ndarray, bits: int = 8, match_on: str = "file") -> dict:
    """Images through the AE codec at `bits` bits, and through JPEG and WebP at the quality whose mean
    size over these images (file bytes, or payload bytes with match_on="payload") is closest to the AE's.

    Returns {"ae": (images, bytes, setting), "JPEG": (images, mean bytes, setting), "WebP": (...),
    "original": x}. JPEG and WebP files cannot shrink below their headers, so "closest" may still be
    much larger than the AE's bytes; the byte counts are returned so the page can say so.
    """
    if match_on not in ("file", "payload"):
        raise ValueError("match_on must be 'file' or 'payload'")
    x = np.asarray(x, dtype=np.float32)
    q = Quantiser(bits).fit(evaluate.encode(model, x_train))
    ae_img, blobs = ae_codec(model, x, q)
    target = len(blobs[0])
    out = {"ae": (ae_img, target, f"{bits} bit"), "original": x}
    blank = np.zeros_like(x[0])
    for codec in ("JPEG", "WebP"):
        best = None
        for s in MATCH_QUALITIES:
            imgs, bl = pil_codec(x, codec, s)
            head = header_bytes(bl + [encode_pil(blank, codec, s)]) if match_on == "payload" else 0
            size = float(np.mean([len(b) for b in bl])) - head
            if best is None or abs(size - target) < abs(best[1] - target):
                best = (imgs, size, f"q={s}")
        out[codec] = best
    return out
