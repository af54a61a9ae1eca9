"""Photographed digits: a seeded set of synthetic "phone photos" of digits, with their labels.

Owns the generator the tests and ``benchmarks/photos.py`` measure upload preprocessing on. Each photo
starts from a real digit, either a held-out MNIST digit (a test-split digit of ``mnist-5k`` by default,
so never one the shipped models were trained on; its 28x28 original is kept as the source to score a
denoiser against) or a digit rendered from a font, and is then "photographed": placed on generated paper
(grain, blotches, a lighting gradient, sometimes a shadow, a colour cast), scaled, rotated, shifted,
blurred, given sensor noise, optionally inverted (light ink on dark paper, like chalk on a board),
JPEG-compressed (some PNG), and sometimes stored sideways with an EXIF orientation tag, as phones do.

Fonts: any TrueType font found in the usual system folders (only if present), otherwise Pillow's own
built-in scalable font (``ImageFont.load_default(size=...)``), so the set can be made on a fresh machine
with only the pip requirements. The font list is part of what a seed reproduces, so the benchmark
records it.

Everything is drawn from ``numpy.random.default_rng([seed, i])`` per photo: photo ``i`` of a set does
not depend on how many photos are made.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from ..images.render import to_uint8

__all__ = ["PhotoSet", "Photo", "find_fonts", "font_ink", "digit_ink", "photograph", "blank_photo",
           "several_digits", "make_set"]

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "C:/Windows/Fonts")
# Families whose digits are ordinary digit shapes (symbol and dingbat fonts would mislabel the set).
FONT_FAMILIES = ("DejaVuSans", "DejaVuSerif", "DejaVuSansMono", "LiberationSans", "LiberationSerif",
                 "LiberationMono", "FreeSans", "FreeSerif", "FreeMono", "NotoSans-", "NotoSerif-", "Ubuntu")
DEFAULT_FONT = "pillow-default"
ORIENTATION_TAG = 0x0112


@dataclass
class Photo:
    """One photographed digit: the encoded file, its label, the 28x28 source (None for a font digit)."""

    data: bytes
    label: int
    source: np.ndarray | None
    params: dict = field(default_factory=dict)


@dataclass
class PhotoSet:
    """A generated set: files (encoded bytes), labels (N,), sources (N, 1, 28, 28) float32 with
    has_source (N,) saying which are real (font digits have none: their source is zeros), kinds
    ("mnist" or "font") and each photo's drawn parameters."""

    files: list[bytes]
    labels: np.ndarray
    sources: np.ndarray
    has_source: np.ndarray
    kinds: list[str]
    params: list[dict]
    fonts: list[str]

    def __len__(self) -> int:
        return len(self.files)


# ---------------------------------------------------------------- the digit as ink


def find_fonts(dirs=FONT_DIRS) -> list[str]:
    """TrueType fonts of ordinary families found on this machine (sorted), then Pillow's built-in one."""
    found = []
    for d in dirs:
        p = Path(d)
        if p.is_dir():
            found += [str(f) for f in p.rglob("*.ttf") if f.name.startswith(FONT_FAMILIES)]
    return sorted(set(found)) + [DEFAULT_FONT]


def _font(name: str, size: int):
    if name == DEFAULT_FONT:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(name, size)


def font_ink(label: int, font: str = DEFAULT_FONT, size: int = 160, bold: int = 0) -> np.ndarray:
    """The digit `label` drawn in `font` as ink coverage, float32 (h, w) in [0, 1], cropped to its ink."""
    f = _font(font, size)
    pad = size // 2 + bold
    im = Image.new("L", (2 * size + 2 * pad, 2 * size + 2 * pad), 0)
    ImageDraw.Draw(im).text((pad, pad), str(int(label)), fill=255, font=f, stroke_width=bold, stroke_fill=255)
    a = np.asarray(im, np.float32) / 255.0
    return _crop_to_ink(a)


def digit_ink(digit: np.ndarray) -> np.ndarray:
    """A 28x28 MNIST digit (white ink on black, [0, 1]) as ink coverage cropped to its ink."""
    a = np.asarray(digit, np.float32).reshape(digit.shape[-2:])
    return _crop_to_ink(np.clip(a, 0, 1))


def _crop_to_ink(a: np.ndarray, level: float = 0.05) -> np.ndarray:
    rows, cols = np.flatnonzero((a > level).any(1)), np.flatnonzero((a > level).any(0))
    if not len(rows):
        return a
    return np.ascontiguousarray(a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])


def _resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    return np.asarray(Image.fromarray(a.astype(np.float32)).resize((max(1, w), max(1, h)), Image.Resampling.BICUBIC),
                      np.float32)


def _rotate(a: np.ndarray, degrees: float) -> np.ndarray:
    return np.asarray(Image.fromarray(a.astype(np.float32)).rotate(degrees, Image.Resampling.BICUBIC, expand=True),
                      np.float32)


# ---------------------------------------------------------------- paper, light and camera


def _smooth_noise(rng, h: int, w: int, cell: int) -> np.ndarray:
    """Zero-mean noise varying over about `cell` pixels: blotches on the paper, uneven light."""
    gh, gw = max(2, h // cell + 2), max(2, w // cell + 2)
    g = rng.normal(0, 1, (gh, gw)).astype(np.float32)
    return _resize(g, h, w)


def _paper(rng, h: int, w: int, dark: bool) -> tuple[np.ndarray, dict]:
    """Paper colour (h, w, 3): a tinted base, fine grain and blotches."""
    if dark:  # a board or dark card: chalk-like light ink goes on it
        base = rng.uniform(0.05, 0.32)
        cast = rng.normal(0, 0.04, 3)
    else:
        base = rng.uniform(0.72, 0.97)
        cast = rng.normal(0, 0.035, 3)
    grain = rng.uniform(0.01, 0.05)
    blotch = rng.uniform(0.0, 0.05)
    fine = ndimage.gaussian_filter(rng.normal(0, 1, (h, w)).astype(np.float32), 0.8) * (grain * 2.0)
    spots = _smooth_noise(rng, h, w, int(rng.integers(6, 30))) * blotch
    paper = base + cast[None, None, :] + (fine + spots)[..., None]
    return paper.astype(np.float32), {"paper": round(float(base), 3), "grain": round(float(grain), 3),
                                      "blotch": round(float(blotch), 3)}


def _lighting(rng, h: int, w: int) -> tuple[np.ndarray, dict]:
    """A multiplicative light field (h, w): a linear gradient, a vignette and perhaps a soft shadow."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy, xx = yy / max(h - 1, 1) - 0.5, xx / max(w - 1, 1) - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xx + np.sin(angle) * yy  # -0.7 .. 0.7
    gradient = rng.uniform(0.0, 0.45)
    light = 1.0 - gradient * (ramp + 0.7) / 1.4
    vignette = rng.uniform(0.0, 0.25)
    light *= 1.0 - vignette * (xx ** 2 + yy ** 2) * 2
    params = {"gradient": round(float(gradient), 3), "vignette": round(float(vignette), 3), "shadow": 0.0}
    if rng.random() < 0.4:  # a hand's or a phone's shadow: a half-plane with a soft edge
        a2 = rng.uniform(0, 2 * np.pi)
        offset = rng.uniform(-0.45, 0.1)
        soft = rng.uniform(0.02, 0.2)
        d = np.cos(a2) * xx + np.sin(a2) * yy - offset
        depth = rng.uniform(0.2, 0.5)
        light *= 1.0 - depth / (1.0 + np.exp(-d / soft))
        params["shadow"] = round(float(depth), 3)
    return light.astype(np.float32), params


def photograph(ink: np.ndarray, rng: np.random.Generator, *, invert: bool | None = None,
               canvas: tuple[int, int] | None = None, height: float | None = None,
               rotation: float | None = None, fmt: str | None = None, exif: bool | None = None) -> tuple[bytes, dict]:
    """"Photograph" ink coverage (h, w) in [0, 1]: returns (encoded image bytes, the parameters drawn).

    Any parameter left None is drawn from `rng`: invert (light ink on dark paper, 25 %), canvas (H, W)
    (200-560 pixels a side), height (the digit's height over the canvas's shorter side, 0.35-0.8),
    rotation (degrees, +-15), fmt ("JPEG" 85 %, else "PNG"), exif (stored sideways with an EXIF
    orientation tag, 15 %). Blur, sensor noise and JPEG quality are always drawn.
    """
    invert = bool(rng.random() < 0.25) if invert is None else invert
    if canvas is None:
        side = int(rng.integers(200, 561))
        aspect = rng.uniform(0.75, 1.33)
        canvas = (side, int(np.clip(side * aspect, 160, 700)))
    H, W = canvas
    height = rng.uniform(0.35, 0.8) if height is None else height
    rotation = rng.uniform(-15, 15) if rotation is None else rotation
    params = {"invert": invert, "canvas": [H, W], "height": round(float(height), 3),
              "rotation": round(float(rotation), 2)}

    # The digit: scaled to its height, rotated, placed at a random spot that keeps it in the frame.
    ih, iw = ink.shape
    th = max(4, int(round(height * min(H, W))))
    tw = max(2, int(round(iw * th / ih)))
    a = np.clip(_rotate(_resize(ink, th, tw), rotation), 0, 1)
    if a.shape[0] > H - 4 or a.shape[1] > W - 4:  # a wide, rotated digit on a narrow canvas
        f = min((H - 4) / a.shape[0], (W - 4) / a.shape[1])
        a = np.clip(_resize(a, int(a.shape[0] * f), int(a.shape[1] * f)), 0, 1)
    top = int(rng.integers(0, H - a.shape[0] + 1))
    left = int(rng.integers(0, W - a.shape[1] + 1))
    alpha = np.zeros((H, W), np.float32)
    alpha[top:top + a.shape[0], left:left + a.shape[1]] = a
    params["box"] = [top, left, int(a.shape[0]), int(a.shape[1])]

    paper, p_params = _paper(rng, H, W, dark=invert)
    params.update(p_params)
    if invert:
        ink_rgb = rng.uniform(0.75, 1.0) + rng.normal(0, 0.03, 3)
    elif rng.random() < 0.3:  # a blue ballpoint
        ink_rgb = np.array([0.1, 0.15, 0.45]) + rng.normal(0, 0.04, 3)
    else:  # black pen, pencil or print
        ink_rgb = np.full(3, rng.uniform(0.02, 0.35)) + rng.normal(0, 0.02, 3)
    opacity = rng.uniform(0.75, 1.0)
    params["ink"] = [round(float(v), 3) for v in ink_rgb]
    alpha *= opacity
    img = paper * (1 - alpha[..., None]) + ink_rgb[None, None, :] * alpha[..., None]

    light, l_params = _lighting(rng, H, W)
    params.update(l_params)
    img *= light[..., None]
    blur = rng.uniform(0.0, 0.01) * min(H, W)
    if blur > 0.3:
        img = ndimage.gaussian_filter(img, (blur, blur, 0))
    sensor = rng.uniform(0.005, 0.04)
    img += rng.normal(0, sensor, img.shape).astype(np.float32)
    params.update(blur=round(float(blur), 2), sensor=round(float(sensor), 4))

    pil = Image.fromarray(to_uint8(img), "RGB")
    exif = bool(rng.random() < 0.15) if exif is None else exif
    fmt = ("JPEG" if rng.random() < 0.85 else "PNG") if fmt is None else fmt
    quality = int(rng.integers(35, 96))
    save = {}
    if exif:
        # Stored as the sensor saw it (rotated), with the tag that tells viewers to turn it back:
        # orientation 6 = "rotate 90 degrees clockwise to display".
        pil = pil.transpose(Image.Transpose.ROTATE_90)
        tags = Image.Exif()
        tags[ORIENTATION_TAG] = 6
        save["exif"] = tags.tobytes()
    if fmt == "JPEG":
        save["quality"] = quality
    buf = io.BytesIO()
    pil.save(buf, format=fmt, **save)
    params.update(fmt=fmt, quality=quality if fmt == "JPEG" else None, exif=exif)
    return buf.getvalue(), params


def blank_photo(rng: np.random.Generator, invert: bool = False) -> bytes:
    """A photo of the paper alone (grain, light, shadow, noise, JPEG) with no digit on it."""
    return photograph(np.zeros((10, 10), np.float32), rng, invert=invert, exif=False)[0]


def several_digits(inks: list[np.ndarray], gap: float = 0.6) -> np.ndarray:
    """Ink coverages side by side on one line (each scaled to the tallest), `gap` x their height apart."""
    h = max(i.shape[0] for i in inks)
    parts = [_resize(i, h, int(round(i.shape[1] * h / i.shape[0]))) for i in inks]
    space = np.zeros((h, int(gap * h)), np.float32)
    row = [parts[0]]
    for p in parts[1:]:
        row += [space, p]
    return np.clip(np.concatenate(row, axis=1), 0, 1)


# ---------------------------------------------------------------- the set


def make_set(n: int = 500, seed: int = 0, *, dataset: str = "mnist-5k", font_fraction: float = 0.3,
             fonts: list[str] | None = None) -> PhotoSet:
    """`n` photographed digits: (1 - font_fraction) of them held-out digits of `dataset`'s test split
    (never its training digits), the rest font digits. Seeded; labels kept."""
    from . import load_dataset

    ds = load_dataset(dataset)
    fonts = find_fonts() if fonts is None else list(fonts)
    files, labels, sources, has, kinds, params = [], [], [], [], [], []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        if rng.random() >= font_fraction:
            j = int(rng.integers(len(ds.x_test)))
            src = ds.x_test[j].astype(np.float32)
            label = int(ds.y_test[j])
            ink = digit_ink(src)
            p = {"kind": "mnist", "index": j}
        else:
            label = int(rng.integers(10))
            font = fonts[int(rng.integers(len(fonts)))]
            bold = int(rng.integers(0, 9))
            ink = font_ink(label, font, 160, bold)
            src = np.zeros((1, 28, 28), np.float32)
            p = {"kind": "font", "font": Path(font).name, "bold": bold}
        data, drawn = photograph(ink, rng)
        p.update(drawn)
        files.append(data)
        labels.append(label)
        sources.append(src.reshape(1, 28, 28))
        has.append(p["kind"] == "mnist")
        kinds.append(p["kind"])
        params.append(p)
    return PhotoSet(files=files, labels=np.asarray(labels, np.int64), sources=np.stack(sources).astype(np.float32),
                    has_source=np.asarray(has, bool), kinds=kinds, params=params,
                    fonts=[Path(f).name for f in fonts])
