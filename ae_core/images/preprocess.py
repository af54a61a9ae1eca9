"""MNIST-style preprocessing: from a greyscale picture (a photo, a scan, a drawing) to a 28x28 digit.

Owns the one path every page's uploads take (``prepare_upload``) and its steps:

1. **background**: the paper's level is estimated *per region* (a coarse median, then a second pass that
   ignores the ink found by the first) and subtracted, which removes uneven light, shadows, colour casts
   and paper texture; the polarity (dark ink on light paper, or light on dark) is whichever side of the
   background holds the ink's tail;
2. **ink**: a data-driven threshold (Otsu's, scikit-image, never below a multiple of the measured noise)
   and a contrast check against that noise, so grain or JPEG blocks never pass for a digit;
3. **digit**: connected components; specks are dropped, the pieces of one digit are grouped, and when
   several digit-sized groups remain the largest is taken and the message says which;
4. **MNIST's own normalisation**: the digit's ink is cropped to its bounding box, its strokes brought to
   MNIST's width (measured: it helps; deskewing was measured and does not, so it is not done), scaled
   to fit a 20x20 box keeping its aspect ratio, and centred by centre of mass in 28x28.

``find_digit`` returns every step as an image (``Steps``) plus a sentence for the user; a picture with no
digit, or no contrast, gets ``digit=None`` and a sentence saying why. ``preprocess_mnist`` and
``load_upload`` are the array-only shortcuts (a blank picture gives an all-zero canvas there).
``ink_levels_mnist`` is the pre-photo method (border median, a levels cut, crop to any ink), kept as the
benchmark's "before" figure. ``resize_to`` / ``fit_to_shape`` take a digit to another dataset's shape.

Depends on numpy, scipy, scikit-image and Pillow; never imports streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from .decode import ImageError, decode_image

# Below this contrast (on a 0..1 scale) between the ink and the background the
# picture is treated as blank: rescaling it to full range would only amplify
# sensor or JPEG noise into a fake digit.
MIN_CONTRAST = 0.05
# Ink fainter than this fraction of the strongest stroke is treated as
# background noise (the old levels method, and the soft edge of the new crop).
INK_THRESHOLD = 0.1
# Photos are analysed at most this many pixels a side: the digit ends up 20 pixels tall, and the
# analysis costs stay small even for a 25-megapixel upload.
WORK_SIDE = 320
# The ink must stand this many noise standard deviations above the paper to count: the largest of
# ~100,000 smoothed noise pixels is about 4.5 sigma, a real stroke dozens.
MIN_SNR = 7.0
# A connected component with less ink than this share of the largest is a speck (grain, dust, a JPEG
# block); a group with at least DIGIT_SHARE of the largest group's ink is a digit of its own, and so is
# one with 2.5 x SPECK_SHARE of it that is nearly as big (a thin 1 beside a bold 8).
SPECK_SHARE = 0.04
DIGIT_SHARE = 0.35
# Pieces closer than this share of the main piece's size belong to the same digit (a 5's detached top
# bar, a broken pencil stroke).
JOIN_GAP = 0.22
# MNIST's median stroke width at 28x28 (its 20-pixel box): twice the median distance from the skeleton
# to the edge of the ink above 0.5, measured on mnist-5k's training digits (2.5; 10th-90th percentile
# 1.8-3.4). Photographed and printed digits are brought to it (``normalise_stroke``): measured on the
# photographed set, +4 to +8 points of 5-NN label accuracy for every shipped model. Moment-based
# deskewing was measured too and lost 1-3 points (MNIST's digits are not deskewed), so it is not done.
STROKE_WIDTH = 2.5
# What the benchmark and the tests call "MNIST-sized": ink spanning at least this many of 28 pixels.
MNIST_SIZED = 16


@dataclass
class Steps:
    """What preprocessing did, as images a person can look at.

    original: the picture as analysed (greyscale, at most WORK_SIDE a side). cleaned: the ink after
    background removal, white on black, same size (None on the as-is path). cropped: the digit's ink cut
    to its bounding box (None when no digit). digit: (size, size) float32, the MNIST-style result (None when
    no digit was found). message: a sentence for the user. inverted: whether dark ink was turned white.
    candidates: how many digit-sized marks were found. path: "photo" or "as-is".
    """

    original: np.ndarray
    cleaned: np.ndarray | None
    cropped: np.ndarray | None
    digit: np.ndarray | None
    message: str
    inverted: bool = False
    candidates: int = 0
    path: str = "photo"

    @property
    def ok(self) -> bool:
        return self.digit is not None


@dataclass
class Prepared:
    """An upload made ready for a model: ``x`` (C, H, W) float32, or None with ``steps.message`` saying why."""

    x: np.ndarray | None
    steps: Steps

    @property
    def ok(self) -> bool:
        return self.x is not None

    @property
    def message(self) -> str:
        return self.steps.message


# ---------------------------------------------------------------- small helpers


def _border(img: np.ndarray) -> np.ndarray:
    return np.concatenate([img[0, :], img[-1, :], img[:, 0], img[:, -1]])


def _border_level(img: np.ndarray) -> tuple[float, bool]:
    """(the median of the outermost pixels, whether it is light): the paper's level where a picture has a
    margin, and so whether its ink is dark on light and the picture must be inverted to MNIST's white ink."""
    level = float(np.median(_border(img)))
    return level, level > 0.5


def _resize_float(img: np.ndarray, shape: tuple[int, int], resample) -> np.ndarray:
    h, w = shape
    pil = Image.fromarray(np.ascontiguousarray(img, dtype=np.float32))
    return np.asarray(pil.resize((w, h), resample), dtype=np.float32)


def _check_grey(grey: np.ndarray, name: str = "grey") -> np.ndarray:
    arr = np.asarray(grey)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {arr.shape}")
    # Exactly one private copy, then everything in place: at 25 megapixels
    # each float32 temporary costs 100 MB.
    arr = np.nan_to_num(arr.astype(np.float32), copy=False, nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(arr, 0.0, 1.0, out=arr)


def _check_canvas(size: int, box: int) -> None:
    if not (isinstance(size, (int, np.integer)) and isinstance(box, (int, np.integer))):
        raise TypeError("size and box must be integers")
    if size < 1 or not 1 <= box <= size:
        raise ValueError(f"need 1 <= box <= size, got box={box}, size={size}")


def _box_for(size: int) -> int:
    return max(1, round(size * 20 / 28))


def _shrink(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape
    f = side / max(h, w)
    if f >= 1.0:
        return img
    # BOX = exact area averaging: no aliasing of paper grain into fake strokes.
    return np.clip(_resize_float(img, (max(1, round(h * f)), max(1, round(w * f))), Image.Resampling.BOX), 0, 1)


def fit_and_centre(ink: np.ndarray, size: int = 28, box: int = 20) -> np.ndarray:
    """MNIST's normalisation of a digit's ink (white on black, cropped to it): scale so the longer side
    is ``box`` (aspect kept, antialiased), bring the strongest stroke to 1, and place it on a
    ``size`` x ``size`` canvas with its centre of mass at the centre (limited so no ink leaves it)."""
    canvas = np.zeros((size, size), dtype=np.float32)
    ch, cw = ink.shape
    scale = box / max(ch, cw)
    new_h = min(box, max(1, round(ch * scale)))
    new_w = min(box, max(1, round(cw * scale)))
    patch = np.clip(_resize_float(ink, (new_h, new_w), Image.Resampling.LANCZOS), 0.0, 1.0)
    # Shrinking a thin pen stroke by 100x averages it down to a faint smear;
    # MNIST strokes are saturated, so restore full intensity.
    patch_peak = float(patch.max())
    if patch_peak <= 0.0:
        return canvas
    patch /= patch_peak
    total = float(patch.sum())
    com_r = float((patch.sum(axis=1) * np.arange(new_h)).sum()) / total
    com_c = float((patch.sum(axis=0) * np.arange(new_w)).sum()) / total
    centre = (size - 1) / 2.0
    top = int(np.clip(np.floor(centre - com_r + 0.5), 0, size - new_h))
    left = int(np.clip(np.floor(centre - com_c + 0.5), 0, size - new_w))
    canvas[top: top + new_h, left: left + new_w] = patch
    return canvas


def normalise_stroke(ink: np.ndarray, box: int = 20, width: float = STROKE_WIDTH) -> np.ndarray:
    """Thicken or thin a digit's ink (white on black, cropped to it) so that, once its longer side is
    scaled to ``box`` pixels, its strokes are ``width`` pixels wide, as MNIST's are.

    Works at 4x the box: the ink above 0.5 is the digit; its stroke width is twice the median distance
    from its skeleton to its edge; the signed distance to the edge, shifted by half the difference,
    gives the new ink with a one-pixel antialiased rim. A blob with no skeleton is returned as it is.
    """
    from skimage.morphology import skeletonize

    up = 4 * box / max(ink.shape)
    a = np.clip(_resize_float(ink, (max(1, round(ink.shape[0] * up)), max(1, round(ink.shape[1] * up))),
                              Image.Resampling.BILINEAR), 0, 1)
    pad = int(2 * width * 4) + 2  # room for the strokes to grow
    b = np.pad(a, pad) > 0.5
    skeleton = skeletonize(b)
    if skeleton.sum() < 2:
        return ink
    inside = ndimage.distance_transform_edt(b)
    outside = ndimage.distance_transform_edt(~b)
    now = 2.0 * float(np.median(inside[skeleton]))
    shift = (now - 4 * width) / 2.0
    out = np.clip(inside - outside - shift + 0.5, 0, 1).astype(np.float32)
    rows, cols = np.flatnonzero(out.any(1)), np.flatnonzero(out.any(0))
    if not len(rows):
        return ink
    return np.ascontiguousarray(out[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1])


def ink_span(digit: np.ndarray, level: float = 0.1) -> int:
    """The longer side, in pixels, of the box around a digit's ink (values above `level`): MNIST's ~20."""
    a = np.asarray(digit)
    a = a.reshape(a.shape[-2:])
    rows, cols = np.flatnonzero((a > level).any(1)), np.flatnonzero((a > level).any(0))
    if not len(rows):
        return 0
    return int(max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))


# ---------------------------------------------------------------- the old method, kept for comparison


def ink_levels_mnist(grey: np.ndarray, *, size: int = 28, box: int = 20) -> np.ndarray:
    """The pre-photo method: invert if the border is light, subtract the border median, a levels cut at
    INK_THRESHOLD of the strongest stroke, crop to any ink left, then ``fit_and_centre``. Good on clean
    drawings; on photos, grain and shading survive the cut and widen the crop. Kept as the benchmark's
    "before" figure."""
    _check_canvas(size, box)
    img = _check_grey(grey)
    background, light = _border_level(img)
    if light:
        np.subtract(1.0, img, out=img)
        background = 1.0 - background
    ink = img
    ink -= background
    np.maximum(ink, 0.0, out=ink)
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        return np.zeros((size, size), np.float32)
    ink *= 1.0 / (peak * (1.0 - INK_THRESHOLD))
    ink -= INK_THRESHOLD / (1.0 - INK_THRESHOLD)
    np.clip(ink, 0.0, 1.0, out=ink)
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    return fit_and_centre(ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1], size, box)


# ---------------------------------------------------------------- finding the digit


def _background(img: np.ndarray, ink_mask: np.ndarray | None, dark: bool | None = None) -> np.ndarray:
    """The paper's level at every pixel of `img`, smooth over a fraction of the picture.

    Without an ink mask, on a coarse copy (48 pixels a side, which also averages the grain away): with
    `dark` None a median over a window of ~45 % of the picture, blind to the ink's polarity as long as
    strokes cover under half of each window; with the polarity known, a grey closing (dark ink) or
    opening (light ink) over the same window, which lifts the paper's level out from under strokes
    of any width up to that window (the rolling-ball idea). With an ink mask: a Gaussian average of the
    pixels *not* in the mask, normalised by how many there are (normalised convolution), coarse to fine,
    which follows gradients and shadows far more tightly.
    """
    h, w = img.shape
    if ink_mask is None:
        coarse = _shrink(img, 48)
        ch, cw = coarse.shape
        win = max(3, int(round(0.45 * max(ch, cw))) | 1)
        if dark is None:
            est = ndimage.median_filter(coarse, size=win, mode="reflect")
        elif dark:
            est = ndimage.grey_closing(coarse, size=win, mode="reflect")
        else:
            est = ndimage.grey_opening(coarse, size=win, mode="reflect")
        est = ndimage.gaussian_filter(est, max(1.0, win / 6), mode="nearest")
        return np.clip(_resize_float(est, (h, w), Image.Resampling.BILINEAR), 0, 1)
    keep = (~ink_mask).astype(np.float32)
    if keep.sum() < 1:
        return _background(img, None)
    out = np.full((h, w), float(np.median(img[~ink_mask])), np.float32)
    # Coarse to fine: each scale fills in where it has enough paper to go on, so the middle of a big
    # bold digit gets the paper level from around it rather than from its own ink.
    for frac in (0.3, 0.15, 0.07):
        sigma = max(1.5, frac * max(h, w))
        num = ndimage.gaussian_filter(img * keep, sigma, mode="nearest")
        den = ndimage.gaussian_filter(keep, sigma, mode="nearest")
        wgt = np.clip(den / 0.25, 0, 1)
        out = np.where(den > 1e-4, num / np.maximum(den, 1e-6), out) * wgt + out * (1 - wgt)
    return out.astype(np.float32)


def _noise_sigma(r: np.ndarray) -> float:
    """Robust noise level of a residual: 1.4826 x the median absolute deviation (ink is the minority)."""
    return float(1.4826 * np.median(np.abs(r - np.median(r))))


def _polarity(r: np.ndarray, sigma: float) -> bool:
    """True when the ink is darker than the paper: the residual's dark tail holds more mass than its light
    one beyond 3 noise sigmas. Symmetric: inverting a picture flips the answer exactly."""
    t = 3.0 * sigma
    dark = float(np.maximum(-r - t, 0).sum())
    light = float(np.maximum(r - t, 0).sum())
    return dark > light


def _threshold(s: np.ndarray, floor: float) -> float:
    from skimage.filters import threshold_otsu

    # float64: Otsu's 256-bin histogram of a float32 image whose values span only ~1e-5 has bins narrower
    # than float32 can tell apart, and numpy refuses it ("Too many bins for data range").
    cand = s[s > floor].astype(np.float64)
    if cand.size < 2 or float(cand.max() - cand.min()) <= 1e-6:
        return floor
    return max(float(threshold_otsu(cand)), floor)


def _hysteresis(s: np.ndarray, low: float, high: float) -> np.ndarray:
    """Pixels above `low` in a connected region that reaches above `high`."""
    weak = s > low
    labels, n = ndimage.label(weak, structure=np.ones((3, 3)))
    if n == 0:
        return weak
    strong = np.zeros(n + 1, bool)
    strong[np.unique(labels[s > high])] = True
    strong[0] = False
    return strong[labels]


def _groups(labels: np.ndarray, n: int, mass: np.ndarray, boxes: list) -> list[list[int]]:
    """Components (1..n) joined into digits: pieces whose boxes, grown by JOIN_GAP of the main piece's
    size, overlap. Returns lists of component labels, the heaviest group first."""
    order = [int(i) for i in np.argsort(-mass[1:]) + 1]
    keep = [i for i in order if mass[i] >= SPECK_SHARE * mass[order[0]]]
    groups: list[list[int]] = []
    gboxes: list[list[float]] = []
    for i in keep:  # heaviest first: each piece joins the first group it touches
        r0, c0, r1, c1 = boxes[i]
        placed = False
        for g, (gr0, gc0, gr1, gc1) in enumerate(gboxes):
            pad = JOIN_GAP * max(gr1 - gr0, gc1 - gc0)
            if r0 < gr1 + pad and r1 > gr0 - pad and c0 < gc1 + pad and c1 > gc0 - pad:
                groups[g].append(i)
                gboxes[g] = [min(gr0, r0), min(gc0, c0), max(gr1, r1), max(gc1, c1)]
                placed = True
                break
        if not placed:
            groups.append([i])
            gboxes.append([r0, c0, r1, c1])
    gm = [float(mass[g].sum()) for g in groups]
    ordered = sorted(range(len(groups)), key=lambda g: -gm[g])
    return [groups[g] for g in ordered]


def _where(centre_c: float, centres: list[float]) -> str:
    rank = sorted(centres).index(centre_c) + 1
    nth = {1: "1st", 2: "2nd", 3: "3rd"}.get(rank, f"{rank}th")
    return "the leftmost" if rank == 1 else ("the rightmost" if rank == len(centres) else f"the {nth} from the left")


def find_digit(grey: np.ndarray, *, size: int = 28, box: int | None = None, stroke: bool = True) -> Steps:
    """Find the digit in a greyscale picture and make it an MNIST digit, keeping every step.

    ``grey``: (H, W) float in [0, 1] (0 = black; clipped, NaN -> 0), dark-on-light or light-on-dark.
    Returns ``Steps``: ``digit`` is float32 (size, size) in [0, 1], white ink on black, or None with a
    ``message`` saying why (no contrast; nothing but specks). When several digits are found the largest
    is taken and the message says which. ``stroke``: bring the strokes to MNIST's width
    (``normalise_stroke``); ``cropped`` shows the ink before that.
    """
    box = _box_for(size) if box is None else box
    _check_canvas(size, box)
    img = _shrink(_check_grey(grey), WORK_SIDE)
    h, w = img.shape
    original = img.copy()
    if min(h, w) < 8:
        # Too small for regions: one background level, the old way, is all there is.
        digit = ink_levels_mnist(img, size=size, box=box)
        if not digit.any():
            return Steps(original, None, None, None, "No digit found: the picture has no contrast "
                         "(it is one flat colour).")
        _, inv = _border_level(img)
        return Steps(original, 1.0 - img if inv else img, None, digit, "A tiny picture: used all of its ink.",
                     inverted=inv, candidates=1)

    bg = _background(img, None)
    r = img - bg
    # Fine-scale noise (the residual minus its own blur): blind to the light field and to the inside
    # of strokes, so a big bold digit covering half the picture does not pass for noise.
    fine = max(_noise_sigma(r - ndimage.gaussian_filter(r, 2.0)), 1e-4)
    dark = _polarity(r, fine)
    r = img - _background(img, None, dark)
    ink = np.maximum(-r if dark else r, 0)
    # Second pass: the background again, now ignoring the ink the first pass found (Otsu's split of
    # the ink, so its share of the picture does not matter).
    mask = ndimage.gaussian_filter(ink, 1.0) > _threshold(ink, max(4 * fine, 1e-3))
    paper = np.ones_like(mask)
    for _ in range(2):  # twice: the second mask is found against a background its ink no longer biases
        if not mask.any():
            break
        # Holes filled: a loop's inside is paper, but a bold stroke whose edges alone were found is not.
        grown = ndimage.binary_fill_holes(ndimage.binary_dilation(mask, iterations=max(1, round(0.01 * max(h, w)))))
        bg = _background(img, grown)
        r = img - bg
        ink = np.maximum(-r if dark else r, 0)
        # The noise is measured on the paper only: a big bold digit covers so much of the picture that
        # its strokes would inflate a median absolute deviation taken over every pixel.
        paper = ~grown if (~grown).sum() >= 100 else np.ones_like(mask)
        mask = ndimage.gaussian_filter(ink, 1.0) > _threshold(ink, max(4 * fine, 1e-3))

    # Thresholded on a lightly smoothed copy: grain and sensor noise average out, strokes do not.
    smooth_sigma = max(0.6, 0.004 * max(h, w))
    s = ndimage.gaussian_filter(ink, smooth_sigma)
    s_sigma = max(_noise_sigma(ndimage.gaussian_filter(r, smooth_sigma)[paper]), 1e-4)
    peak = float(np.percentile(s, 99.9)) if s.size > 2000 else float(s.max())
    cleaned = np.clip(ink / max(peak, 1e-6), 0, 1).astype(np.float32)
    if peak < MIN_CONTRAST or peak < MIN_SNR * s_sigma:
        why = (f"the picture has no contrast: its darkest and lightest marks differ from the paper by "
               f"{peak:.2f} at most" if peak < MIN_CONTRAST else
               f"nothing stands out from the paper's grain and noise (the strongest mark is {peak / s_sigma:.1f}x "
               f"the noise level; a stroke is at least {MIN_SNR:g}x)")
        return Steps(original, cleaned, None, None, f"No digit found: {why}.", inverted=dark)
    thr = _threshold(s, max(4.0 * s_sigma, 0.15 * peak))
    # Hysteresis: a faint stretch of stroke (a light pencil, a blurred join) is kept when it is
    # connected to a clearly dark one, never on its own.
    mask = _hysteresis(s, max(0.5 * thr, 3.0 * s_sigma), thr)
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    mass = np.asarray(ndimage.sum_labels(s, labels, index=np.arange(n + 1)), np.float64)
    mass[0] = 0.0
    boxes = [None] + [(sl[0].start, sl[1].start, sl[0].stop, sl[1].stop) for sl in ndimage.find_objects(labels)]
    groups = _groups(labels, n, mass, boxes)
    gmass = [float(mass[g].sum()) for g in groups]
    def extent(g):
        m = np.isin(labels, g)
        return max(np.ptp(np.flatnonzero(m.any(1))), np.ptp(np.flatnonzero(m.any(0)))) + 1

    # Digit-sized: nearly as tall or wide as the main one, with a fair share of its ink (a thin 1
    # beside a bold 8 is a digit; a smudge the same size but faint is not).
    main = extent(groups[0])
    digits = [g for g, m in zip(groups, gmass) if m >= DIGIT_SHARE * gmass[0] or
              (m >= SPECK_SHARE * 2.5 * gmass[0] and extent(g) >= 0.6 * main)]
    chosen = groups[0]
    sel = np.isin(labels, chosen)
    rows, cols = np.flatnonzero(sel.any(1)), np.flatnonzero(sel.any(0))
    if max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 < 3:
        return Steps(original, cleaned, None, None, "No digit found: only specks stand out from the paper "
                     "(dust, grain or noise), nothing the size of a stroke.", inverted=dark)

    # The digit's soft ink: its own pixels and a rim around them (antialiased edges), nothing else.
    rim = ndimage.binary_dilation(sel, iterations=max(1, round(smooth_sigma * 2)))
    soft = np.where(rim, ink, 0.0)
    r0, r1 = max(0, rows[0] - 1), min(h, rows[-1] + 2)
    c0, c1 = max(0, cols[0] - 1), min(w, cols[-1] + 2)
    crop = soft[r0:r1, c0:c1]
    top = float(np.percentile(ink[sel], 90))
    lo = 0.5 * thr * float(ink[sel].mean()) / max(float(s[sel].mean()), 1e-6)
    crop = np.clip((crop - lo) / max(top - lo, 1e-6), 0, 1).astype(np.float32)
    rows_c, cols_c = np.flatnonzero((crop > 0).any(1)), np.flatnonzero((crop > 0).any(0))
    crop = np.ascontiguousarray(crop[rows_c[0]: rows_c[-1] + 1, cols_c[0]: cols_c[-1] + 1])
    digit = fit_and_centre(normalise_stroke(crop, box) if stroke else crop, size, box)

    polarity = "dark ink on light paper" if dark else "light ink on a dark background"
    if len(digits) > 1:
        centres = []
        for g in digits:
            m = np.isin(labels, g)
            centres.append(float(np.flatnonzero(m.any(0)).mean()))
        where = _where(centres[0], centres)
        message = (f"Found {len(digits)} digit-sized marks; used the largest, {where} "
                   f"({polarity}). Crop the picture to one digit to choose another.")
    else:
        dropped = n - len(chosen)  # every mark not part of the digit: specks and smudges alike
        message = (f"Found one digit ({polarity})" +
                   (f"; ignored {dropped} small mark{'s' if dropped != 1 else ''}" if dropped else "") + ".")
    return Steps(original, cleaned, crop, digit, message, inverted=dark, candidates=len(digits))


def preprocess_mnist(grey: np.ndarray, *, size: int = 28, box: int = 20) -> np.ndarray:
    """Turn a greyscale picture of a digit into an MNIST-style digit: ``find_digit``'s result, or an
    all-zero canvas when there is no digit (an empty drawing is a legitimate input, and zeros are what
    MNIST's blank area is).

    ``grey``: (H, W) float array, values in [0, 1] (0 = black); values outside are clipped and NaNs
    treated as 0. Returns float32 (size, size) in [0, 1], white ink on black.
    """
    steps = find_digit(grey, size=size, box=box)
    return steps.digit if steps.ok else np.zeros((size, size), np.float32)


def load_upload(data: bytes, *, size: int = 28) -> np.ndarray:
    """Decode uploaded bytes into a model-ready MNIST-style digit.

    ``decode_image`` followed by ``preprocess_mnist`` (with the digit box scaled as MNIST's 20-in-28).
    Returns float32 of shape (1, size, size) in [0, 1]: add a batch axis for a model taking
    (N, 1, size, size). Raises ``ImageError`` for anything ``decode_image`` refuses.
    """
    box = _box_for(size)
    _check_canvas(size, box)
    return preprocess_mnist(decode_image(data), size=size, box=box)[np.newaxis]


# ---------------------------------------------------------------- the one upload path


MODES = ("auto", "as-is", "mnist")


def prepare_upload(data: bytes, shape: Sequence[int] = (1, 28, 28), mode: str = "auto") -> Prepared:
    """Bytes of an uploaded picture -> what a model taking ``shape`` = (C, H, W) needs, with the steps.

    mode "mnist": ``find_digit`` (background removed, the digit found, cropped, boxed and centred as
    MNIST's were), then resized to (H, W): for a photo, scan or drawing of a digit.
    mode "as-is": only inverted if its border is light, then resized by area averaging: for a picture
    that already is a digit image of this kind (e.g. a noisy 28x28 one), whose noise would be mistaken
    for ink.
    mode "auto": "as-is" when the picture already has the dataset's height and width, else "mnist".

    Returns ``Prepared``: ``x`` float32 (C, H, W) or None when no digit was found, and ``steps`` (the
    images and the message). Raises ``ImageError`` (a sentence for the user) for anything that is not
    a usable image, including a model that takes colour images.
    """
    c, h, w = (int(s) for s in shape)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if c != 1:
        raise ImageError(f"This model takes {c}-channel images; uploads are made greyscale.")
    grey = decode_image(data)
    if mode == "auto":
        mode = "as-is" if grey.shape == (h, w) else "mnist"
    if mode == "as-is":
        _, inverted = _border_level(grey)
        shown = 1.0 - grey if inverted else grey
        x = fit_to_shape(shown, (h, w))[np.newaxis].astype(np.float32)
        note = "; inverted to white ink on black" if inverted else ""
        size_note = "it already has the model's size" if grey.shape == (h, w) else f"resized to {h}x{w}"
        steps = Steps(_shrink(grey, WORK_SIDE), None, None, x[0], f"Used as it is ({size_note}{note}).",
                      inverted=inverted, candidates=1, path="as-is")
        return Prepared(x, steps)
    steps = find_digit(grey, size=28)
    if not steps.ok:
        return Prepared(None, steps)
    x = (steps.digit if (h, w) == (28, 28) else fit_to_shape(steps.digit, (h, w)))[np.newaxis]
    return Prepared(np.ascontiguousarray(x, np.float32), steps)


# ---------------------------------------------------------------- other shapes


def _check_shape(shape: Sequence[int]) -> tuple[int, int]:
    if len(shape) != 2:
        raise ValueError(f"shape must be (height, width), got {shape!r}")
    h, w = int(shape[0]), int(shape[1])
    if h < 1 or w < 1:
        raise ValueError(f"shape must be positive, got {shape!r}")
    return h, w


def resize_to(grey: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Resize a (H, W) image in [0, 1] to ``shape`` = (h, w) by area averaging.

    For pictures that are already digit-like (white ink on black, roughly
    centred), e.g. a 28x28 MNIST-style array going to an 8x8 dataset.
    No cropping, inversion or centring. Returns float32 (h, w) in [0, 1].
    """
    h, w = _check_shape(shape)
    img = _check_grey(grey)
    if img.shape == (h, w):
        return img.astype(np.float32, copy=True)
    # BOX is Pillow's exact area-average filter: each output pixel is the
    # mean of the input area it covers, so no ringing and no lost strokes.
    out = _resize_float(img, (h, w), Image.Resampling.BOX)
    return np.clip(out, 0.0, 1.0)


def fit_to_shape(img: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Resize a preprocessed image to a dataset's image shape (area averaging).

    ``img`` is (H, W) or (1, H, W); the result keeps that rank, with the
    spatial size replaced by ``shape`` = (h, w). Used when a dataset's images
    are not 28x28 (e.g. 8x8 digits). Returns float32 in [0, 1].
    """
    arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[0] == 1:
        return resize_to(arr[0], shape)[np.newaxis]
    if arr.ndim == 2:
        return resize_to(arr, shape)
    raise ValueError(f"img must have shape (H, W) or (1, H, W), got {arr.shape}")
