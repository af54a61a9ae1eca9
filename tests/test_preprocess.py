"""The upload path for photos and scans (ae_core.images.preprocess) and the photographed-digit generator
(ae_core.data.photographed): every failure mode has a test and a message.

Decoding's own refusals (formats, truncation, bombs) are covered in test_images.py; here the refusals
are checked once more through prepare_upload, the path the pages take.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ae_core import denoise, images
from ae_core.data import photographed as P


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([1234, seed])


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


@pytest.fixture(scope="module")
def photos() -> P.PhotoSet:
    return P.make_set(40, seed=3)


# ---------------------------------------------------------------- the generator


def test_generator_is_seeded_and_labelled(photos):
    again = P.make_set(3, seed=3)
    assert again.files == photos.files[:3]  # photo i does not depend on how many are made
    assert P.make_set(2, seed=4).files != photos.files[:2]
    assert photos.labels.shape == (40,) and set(photos.labels) <= set(range(10))
    assert photos.sources.shape == (40, 1, 28, 28)
    assert set(photos.kinds) == {"mnist", "font"}
    assert (photos.sources[photos.has_source].max(axis=(1, 2, 3)) > 0.5).all()
    assert not photos.sources[~photos.has_source].any()
    for f in photos.files:
        assert images.decode_image(f).ndim == 2


def test_generator_works_with_only_pillows_own_font():
    ink = P.font_ink(7, P.DEFAULT_FONT, size=80)
    assert ink.ndim == 2 and ink.max() > 0.9 and min(ink.shape) > 10
    s = P.make_set(4, seed=0, fonts=[P.DEFAULT_FONT], font_fraction=1.0)
    assert s.kinds == ["font"] * 4 and s.fonts == [P.DEFAULT_FONT]


def test_photographed_digits_come_out_mnist_sized(photos):
    spans = []
    for f in photos.files:
        prep = images.prepare_upload(f)
        assert prep.ok, prep.message
        assert prep.steps.path == "photo"
        spans.append(images.ink_span(prep.x))
    # The goal on the benchmark's 500 is 95 %; the old method manages about half of these.
    assert np.mean(np.asarray(spans) >= images.MNIST_SIZED) >= 0.95, spans
    old = [images.ink_span(images.ink_levels_mnist(images.decode_image(f))) for f in photos.files]
    assert np.mean(np.asarray(old) >= images.MNIST_SIZED) < np.mean(np.asarray(spans) >= images.MNIST_SIZED)


def test_steps_are_images_a_person_can_look_at(photos):
    prep = images.prepare_upload(photos.files[0])
    s = prep.steps
    assert s.original.ndim == 2 and max(s.original.shape) <= images.preprocess.WORK_SIDE
    assert s.cleaned.shape == s.original.shape and s.cleaned.max() <= 1 and s.cleaned.min() >= 0
    assert s.cropped.ndim == 2 and s.cropped.shape[0] <= s.original.shape[0]
    assert s.digit.shape == (28, 28) and prep.x.shape == (1, 28, 28) and prep.x.dtype == np.float32
    assert s.message.startswith("Found one digit")
    r, c = np.nonzero(s.digit > 0.1)
    w = s.digit[r, c]
    assert abs((r * w).sum() / w.sum() - 13.5) <= 1.5 and abs((c * w).sum() / w.sum() - 13.5) <= 1.5


# ---------------------------------------------------------------- polarity, rotation


@pytest.mark.parametrize("seed", [0, 1])
def test_light_on_dark_and_dark_on_light_give_the_same_digit(seed):
    ink = P.font_ink(4, P.DEFAULT_FONT, 120, bold=3)
    dark_ink, _ = P.photograph(ink, _rng(seed), invert=False, exif=False, fmt="PNG")
    light_ink, _ = P.photograph(ink, _rng(seed), invert=True, exif=False, fmt="PNG")
    a, b = images.prepare_upload(dark_ink), images.prepare_upload(light_ink)
    assert a.ok and b.ok
    assert a.steps.inverted and not b.steps.inverted
    assert "dark ink on light paper" in a.message and "light ink on a dark background" in b.message
    assert _corr(a.x, b.x) > 0.85


def test_exif_rotation_is_honoured():
    ink = P.font_ink(7, P.DEFAULT_FONT, 120, bold=2)
    upright, _ = P.photograph(ink, _rng(5), invert=False, exif=False, fmt="PNG", rotation=0.0)
    tagged, params = P.photograph(ink, _rng(5), invert=False, exif=True, fmt="PNG", rotation=0.0)
    assert params["exif"]
    stored = Image.open(io.BytesIO(tagged))
    assert stored.getexif()[P.ORIENTATION_TAG] == 6
    # Without the tag the pixels are on their side: that is what honouring it must undo.
    stripped = io.BytesIO()
    stored.save(stripped, format="PNG")
    a = images.prepare_upload(upright).x
    b = images.prepare_upload(tagged).x
    sideways = images.prepare_upload(stripped.getvalue()).x
    assert np.abs(a - b).mean() < 0.01
    assert _corr(a, b) > 0.98 and _corr(a, sideways) < 0.6


# ---------------------------------------------------------------- several digits, none, no contrast


def test_several_digits_the_largest_is_taken_and_named():
    thin_one = P.font_ink(1, P.DEFAULT_FONT, 120, bold=0)
    bold_eight = P.font_ink(8, P.DEFAULT_FONT, 120, bold=6)
    row = P.several_digits([thin_one, bold_eight])
    data, _ = P.photograph(row, _rng(2), invert=False, exif=False, fmt="PNG", height=0.3, rotation=0.0,
                           canvas=(300, 420))
    prep = images.prepare_upload(data)
    assert prep.ok and prep.steps.candidates == 2
    assert prep.message.startswith("Found 2 digit-sized marks; used the largest, the rightmost")
    assert "Crop the picture to one digit" in prep.message
    alone = images.prepare_upload(P.photograph(bold_eight, _rng(2), invert=False, exif=False, fmt="PNG",
                                               height=0.3, rotation=0.0, canvas=(300, 420))[0])
    assert alone.steps.candidates == 1 and _corr(prep.x, alone.x) > 0.8


def test_three_digits_the_middle_one_is_named():
    inks = [P.font_ink(d, P.DEFAULT_FONT, 120, bold=b) for d, b in ((2, 1), (0, 7), (5, 1))]
    data, _ = P.photograph(P.several_digits(inks), _rng(8), invert=True, exif=False, fmt="PNG", height=0.25,
                           rotation=0.0, canvas=(300, 560))
    prep = images.prepare_upload(data)
    assert prep.steps.candidates == 3 and "the 2nd from the left" in prep.message, prep.message


@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paper_without_a_digit_says_none_was_found(seed, invert):
    prep = images.prepare_upload(P.blank_photo(_rng(seed), invert=invert))
    assert not prep.ok and prep.x is None and prep.steps.digit is None
    assert prep.message.startswith("No digit found:"), prep.message
    assert prep.steps.cleaned is not None  # the cleaned step shows the user there was nothing there


@pytest.mark.parametrize("colour", [0, 128, 255])
def test_flat_picture_has_no_contrast(colour):
    prep = images.prepare_upload(_png(np.full((90, 120), colour, np.uint8)))
    assert not prep.ok
    assert prep.message.startswith("No digit found: the picture has no contrast")
    assert not images.preprocess_mnist(np.full((90, 120), colour / 255, np.float32)).any()


def test_a_digit_too_faint_for_the_noise_is_refused_with_the_reason():
    paper = np.full((160, 160), 0.8, np.float32)
    paper[40:120, 75:85] -= 0.03  # a stroke 0.03 darker than the paper...
    noisy = np.clip(paper + _rng(0).normal(0, 0.05, paper.shape), 0, 1)  # ...under noise of 0.05
    steps = images.find_digit(noisy)
    assert not steps.ok
    assert steps.message.startswith("No digit found: nothing stands out from the paper's grain and noise")
    with pytest.raises(images.ImageError, match="No digit found"):
        denoise.prepare_upload(_png((noisy * 255).astype(np.uint8)), (1, 28, 28), mode="mnist")


def test_specks_are_dropped_and_said_so():
    paper = np.full((200, 200), 0.9, np.float32)
    paper[40:160, 95:108] = 0.1  # a "1"
    for r, c in ((10, 10), (185, 30), (20, 180), (170, 170)):
        paper[r:r + 3, c:c + 3] = 0.1  # dust
    steps = images.find_digit(paper)
    assert steps.ok and steps.candidates == 1
    assert "ignored 4 small marks" in steps.message
    assert images.ink_span(steps.digit) == 20
    # The dust neither widened the crop nor moved the digit off centre.
    cols = np.flatnonzero(steps.digit.max(0) > 0.1)
    assert 10 <= cols.mean() <= 17


def test_uneven_light_and_a_shadow_do_not_widen_the_crop():
    yy, xx = np.mgrid[0:240, 0:240] / 240.0
    paper = 0.95 - 0.4 * xx  # light falling off to the right
    paper = np.where(yy + 0.3 * xx > 0.8, paper * 0.6, paper)  # a hard shadow across a corner
    paper[70:170, 110:124] *= 0.15  # a "1" across the light
    steps = images.find_digit(paper.astype(np.float32))
    assert steps.ok and steps.candidates == 1, steps.message
    assert images.ink_span(steps.digit) == 20
    assert steps.cropped.shape[0] > 3 * steps.cropped.shape[1]  # the crop is the stroke, not the paper


# ---------------------------------------------------------------- the as-is path and refusals


def test_a_28x28_digit_keeps_the_as_is_path(mnist5k):
    noisy = np.clip(mnist5k.x_test[0, 0] + _rng(0).normal(0, 0.2, (28, 28)), 0, 1)
    data = _png((noisy * 255).astype(np.uint8))
    prep = images.prepare_upload(data)
    assert prep.steps.path == "as-is" and prep.steps.cleaned is None and prep.steps.cropped is None
    np.testing.assert_array_equal(prep.x[0], images.decode_image(data))
    inv = images.prepare_upload(_png(((1 - noisy) * 255).astype(np.uint8)))
    assert inv.steps.inverted and "inverted" in inv.message
    np.testing.assert_allclose(inv.x, prep.x, atol=1 / 255 + 1e-6)
    # Asked for, the photo path still runs on it.
    assert images.prepare_upload(data, mode="mnist").steps.path == "photo"


def test_unreadable_and_huge_files_are_refused_with_a_sentence():
    with pytest.raises(images.ImageError, match="not an image"):
        images.prepare_upload(b"hello, this is text")
    with pytest.raises(images.ImageError, match="empty"):
        images.prepare_upload(b"")
    buf = io.BytesIO()
    Image.new("1", (6000, 5000)).save(buf, format="PNG")  # 30 megapixels, a few kB of zeros
    with pytest.raises(images.ImageError, match="6000×5000 pixels; the limit is 25 megapixels"):
        images.prepare_upload(buf.getvalue())
    with pytest.raises(images.ImageError, match="larger than 10 MB"):
        images.prepare_upload(b"\x89PNG" + bytes(10_000_001))


def test_colour_models_and_bad_modes():
    data = _png(np.full((40, 40), 255, np.uint8))
    with pytest.raises(images.ImageError, match="3-channel"):
        images.prepare_upload(data, (3, 32, 32))
    with pytest.raises(ValueError):
        images.prepare_upload(data, mode="sharpen")


def test_other_dataset_shapes(photos):
    prep = images.prepare_upload(photos.files[1], (1, 8, 8))
    assert prep.ok and prep.x.shape == (1, 8, 8) and prep.steps.digit.shape == (28, 28)


def test_stroke_width_is_brought_to_mnists():
    for bold in (0, 8):
        ink = P.font_ink(0, P.DEFAULT_FONT, 160, bold=bold)
        digit = images.fit_and_centre(images.preprocess.normalise_stroke(ink))
        # The ink of a ring of width ~2.5 spanning 20 pixels: about 2.5 x its perimeter's share.
        share = float((digit > 0.5).mean())
        assert 0.08 < share < 0.2, (bold, share)


def test_threshold_of_a_nearly_flat_float32_image_does_not_raise():
    # Found by the fuzz test of uploads: values spanning ~2e-6 around 0.5 in float32 made Otsu's 256-bin
    # histogram fail ("Too many bins for data range") and the upload raise instead of giving a message.
    from ae_core.images import preprocess

    s = np.full((30, 30), 0.5, np.float32)
    s[10:20, 10:20] += np.float32(2e-6)
    t = preprocess._threshold(s, 0.4)
    assert 0.5 <= t <= 0.5 + 2e-6
