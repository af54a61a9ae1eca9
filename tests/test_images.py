"""Tests for ae_core.images: decoding untrusted uploads, MNIST preprocessing, PNG output.

Every input is built in memory with Pillow (or by hand, for headers Pillow
would refuse to write), so the repository needs no fixture files.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFile

from ae_core.images import (
    ImageError,
    decode_image,
    fit_to_shape,
    grid,
    load_upload,
    preprocess_mnist,
    resize_to,
    to_png,
    upscale,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
CENTRE = 13.5


# ---------------------------------------------------------------- helpers


def encode(im: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def draw_seven(size=(120, 160), ink="black", paper="white", mode="RGB", width=14):
    """A "7": lopsided on purpose, so centring by mass differs from by box."""
    im = Image.new(mode, size, paper)
    w, h = size
    ImageDraw.Draw(im).line(
        [(w * 0.15, h * 0.12), (w * 0.85, h * 0.12), (w * 0.4, h * 0.9)],
        fill=ink,
        width=width,
    )
    return im


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    total = img.sum()
    rows = (img.sum(axis=1) * np.arange(img.shape[0])).sum() / total
    cols = (img.sum(axis=0) * np.arange(img.shape[1])).sum() / total
    return float(rows), float(cols)


def ink_bbox(img: np.ndarray, level: float = 0.0) -> tuple[int, int]:
    ys, xs = np.nonzero(img > level)
    return int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)


def assert_model_ready(out: np.ndarray, size: int = 28) -> None:
    assert out.shape == (1, size, size)
    assert out.dtype == np.float32
    assert np.all(np.isfinite(out))
    assert out.min() >= 0.0 and out.max() <= 1.0


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def huge_bilevel_png(width: int, height: int) -> bytes:
    """A complete, valid 1-bit all-black PNG, built without allocating its pixels.

    Pillow would need width*height bytes of RAM to create one, which is what
    the code under test must never do either.
    """
    row = bytes(1 + (width + 7) // 8)  # filter byte 0 + packed bits
    comp = zlib.compressobj(9)
    block_rows = 1000
    parts = []
    for start in range(0, height, block_rows):
        parts.append(comp.compress(row * min(block_rows, height - start)))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", b"".join(parts))
        + png_chunk(b"IEND", b"")
    )


@pytest.fixture
def no_pixel_decoding(monkeypatch):
    """Make any attempt to decode pixel data fail loudly (not as ImageError)."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("pixels were decoded before the size check")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(Image.Image, "load", refuse)


# ---------------------------------------------------------------- preprocessing


def test_dark_on_light_digit_is_inverted_centred_and_boxed():
    out = load_upload(encode(draw_seven()))
    assert_model_ready(out)
    digit = out[0]
    # White ink on black, as in MNIST.
    assert digit.max() == pytest.approx(1.0)
    assert np.all(digit[0, :] == 0) and np.all(digit[:, 0] == 0)
    assert np.all(digit[-1, :] == 0) and np.all(digit[:, -1] == 0)
    assert digit.mean() < 0.3
    r, c = centre_of_mass(digit)
    assert abs(r - CENTRE) <= 1.0 and abs(c - CENTRE) <= 1.0
    assert max(ink_bbox(digit)) in (19, 20)


def test_light_on_dark_keeps_polarity_and_matches_inverted_input():
    dark_on_light = decode_image(encode(draw_seven()))
    light_on_dark = decode_image(encode(draw_seven(ink="white", paper="black")))
    np.testing.assert_allclose(light_on_dark, 1.0 - dark_on_light, atol=1e-6)
    a = preprocess_mnist(dark_on_light)
    b = preprocess_mnist(light_on_dark)
    assert b.max() == pytest.approx(1.0)
    assert b[0, 0] == 0.0
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_mnist_like_input_round_trips():
    digit = load_upload(encode(draw_seven()))[0]
    again = preprocess_mnist(digit)
    assert max(ink_bbox(again)) in (19, 20)
    r, c = centre_of_mass(again)
    assert abs(r - CENTRE) <= 1.0 and abs(c - CENTRE) <= 1.0
    assert np.abs(again - digit).mean() < 0.05


def test_flat_grey_background_is_removed():
    im = draw_seven(ink=(60, 60, 60), paper=(170, 170, 170))
    digit = load_upload(encode(im))[0]
    assert digit[0, 0] == 0.0
    assert digit.max() == pytest.approx(1.0)
    assert max(ink_bbox(digit)) in (19, 20)


@pytest.mark.parametrize("colour", ["white", "black", (128, 128, 128)])
def test_blank_image_gives_zeros(colour):
    out = load_upload(encode(Image.new("RGB", (64, 48), colour)))
    assert_model_ready(out)
    assert not out.any()


def test_faint_noise_is_treated_as_blank():
    rng = np.random.default_rng(0)
    noisy = np.clip(0.9 + rng.normal(0, 0.005, (64, 64)), 0, 1).astype(np.float32)
    assert not preprocess_mnist(noisy).any()


@pytest.mark.parametrize(
    "im",
    [
        Image.new("L", (1, 1), 0),
        Image.new("L", (1, 1), 255),
        Image.new("RGB", (2, 1), (255, 0, 0)),
        draw_seven(size=(500, 300), ink=(200, 30, 30), paper=(240, 240, 255)),
        draw_seven(size=(300, 500), width=40),
        draw_seven(size=(7, 5), width=1),
        Image.new("RGB", (400, 3), "white"),
    ],
    ids=["1x1-black", "1x1-white", "2x1-red", "500x300-colour", "300x500", "7x5", "400x3"],
)
def test_any_size_gives_28x28(im):
    assert_model_ready(load_upload(encode(im)))


def test_thin_line_and_single_dot():
    line = np.zeros((10, 300), np.float32)
    line[5, 10:290] = 1.0
    out = preprocess_mnist(line)
    assert out.shape == (28, 28) and out.max() == pytest.approx(1.0)
    assert ink_bbox(out)[1] == 20
    dot = np.zeros((50, 50), np.float32)
    dot[20, 30] = 1.0
    out = preprocess_mnist(dot)
    assert out.max() == pytest.approx(1.0)
    r, c = centre_of_mass(out)
    assert abs(r - CENTRE) <= 1.0 and abs(c - CENTRE) <= 1.0


def test_preprocess_other_sizes_and_bad_arguments():
    grey = decode_image(encode(draw_seven()))
    out = preprocess_mnist(grey, size=16, box=12)
    assert out.shape == (16, 16) and out.dtype == np.float32
    assert max(ink_bbox(out)) in (11, 12)
    assert load_upload(encode(draw_seven()), size=16).shape == (1, 16, 16)
    with pytest.raises(ValueError):
        preprocess_mnist(grey, size=10, box=20)
    with pytest.raises(ValueError):
        preprocess_mnist(np.zeros((3, 4, 5)))


def test_preprocess_tolerates_out_of_range_and_nan():
    grey = decode_image(encode(draw_seven()))
    grey = grey * 3 - 1
    grey[0, 0] = np.nan
    out = preprocess_mnist(grey)
    assert np.all(np.isfinite(out)) and out.min() >= 0 and out.max() <= 1


# ---------------------------------------------------------------- decoding: modes and formats


def test_decode_returns_float32_grey_in_unit_range():
    grey = decode_image(encode(draw_seven(size=(120, 160))))
    assert grey.shape == (160, 120)
    assert grey.dtype == np.float32
    assert grey.min() == 0.0 and grey.max() == 1.0


def test_sixteen_bit_png_is_scaled_by_its_own_range():
    ramp = np.linspace(0, 65535, 64 * 32).reshape(32, 64).astype(np.uint16)
    im = Image.fromarray(ramp)
    data = encode(im)
    assert Image.open(io.BytesIO(data)).mode in ("I;16", "I")
    grey = decode_image(data)
    np.testing.assert_allclose(grey, ramp / 65535.0, atol=1e-6)


def test_palette_png():
    im = draw_seven(ink=(20, 20, 200), paper=(250, 250, 210)).convert("P")
    data = encode(im)
    assert Image.open(io.BytesIO(data)).mode == "P"
    grey = decode_image(data)
    expected = np.asarray(im.convert("RGB").convert("L"), np.float32) / 255
    np.testing.assert_allclose(grey, expected, atol=1 / 255 + 1e-6)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_transparent_background_black_digit(mode):
    fill = (0, 0, 0, 255) if mode == "RGBA" else (0, 255)
    clear = (0, 0, 0, 0) if mode == "RGBA" else (0, 0)
    im = draw_seven(ink=fill, paper=clear, mode=mode)
    grey = decode_image(encode(im))
    assert grey[2, 2] == pytest.approx(1.0)  # transparent -> white paper
    assert grey[20, 60] == pytest.approx(0.0)  # opaque black stroke
    on_white = load_upload(encode(draw_seven()))
    np.testing.assert_allclose(load_upload(encode(im)), on_white, atol=1e-5)


def test_palette_with_transparency():
    im = draw_seven(ink=(0, 0, 0, 255), paper=(0, 0, 0, 0), mode="RGBA")
    data = encode(im.convert("P"))
    opened = Image.open(io.BytesIO(data))
    assert opened.mode in ("P", "PA")
    grey = decode_image(data)
    assert grey[2, 2] == pytest.approx(1.0)
    assert grey[20, 60] == pytest.approx(0.0)


def test_cmyk_jpeg():
    im = draw_seven().convert("CMYK")
    data = encode(im, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    grey = decode_image(data)
    assert grey[2, 2] > 0.9
    assert grey[20, 60] < 0.1
    assert_model_ready(load_upload(data))


@pytest.mark.parametrize(
    "orientation, shape, dark_corner",
    [
        (1, (40, 60), (0, 0)),  # as stored: top-left
        (6, (60, 40), (0, -1)),  # display rotated 90 degrees clockwise: top-right
        (8, (60, 40), (-1, 0)),  # display rotated 90 degrees anticlockwise: bottom-left
        (3, (40, 60), (-1, -1)),  # 180 degrees: bottom-right
    ],
)
def test_exif_orientation_is_applied(orientation, shape, dark_corner):
    im = Image.new("L", (60, 40), 255)
    im.paste(0, (0, 0, 12, 12))  # dark square in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    grey = decode_image(encode(im, "JPEG", quality=95, exif=exif.tobytes()))
    assert grey.shape == shape
    r, c = dark_corner
    assert grey[r * 5 if r else 5, c * 5 if c else 5] < 0.1  # 5 px into that corner
    corners = [grey[5, 5], grey[5, -5], grey[-5, 5], grey[-5, -5]]
    assert sum(v < 0.1 for v in corners) == 1


def test_animated_gif_uses_first_frame():
    first = Image.new("L", (40, 40), 255)
    first.paste(0, (0, 0, 10, 10))
    second = Image.new("L", (40, 40), 255)
    second.paste(0, (30, 30, 40, 40))
    data = encode(first, "GIF", save_all=True, append_images=[second], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    grey = decode_image(data)
    assert grey[5, 5] < 0.1 and grey[35, 35] > 0.9


@pytest.mark.parametrize("fmt", ["BMP", "WEBP", "GIF", "JPEG"])
def test_other_formats(fmt):
    im = draw_seven()
    kwargs = {"lossless": True} if fmt == "WEBP" else {}
    assert_model_ready(load_upload(encode(im, fmt, **kwargs)))


# ---------------------------------------------------------------- decoding: refusals


def test_non_image_file_renamed_png():
    with pytest.raises(ImageError, match="not an image"):
        decode_image(b"%PDF-1.7\nthis is really a PDF that someone renamed to .png\n")


def test_unsupported_format_is_refused():
    # TIFF is a real image, but outside the formats the app accepts.
    with pytest.raises(ImageError, match="not an image"):
        decode_image(encode(draw_seven(), "TIFF"))


def test_empty_file():
    with pytest.raises(ImageError, match="empty"):
        decode_image(b"")


def test_too_many_bytes():
    data = encode(draw_seven())
    with pytest.raises(ImageError, match="larger than"):
        decode_image(data, max_bytes=len(data) - 1)
    assert decode_image(data, max_bytes=len(data)).shape == (160, 120)
    with pytest.raises(ImageError, match="larger than 10 MB"):
        decode_image(b"\0" * 10_000_001)


def test_not_bytes_is_a_type_error():
    with pytest.raises(TypeError):
        decode_image("image.png")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_is_refused(fmt):
    rng = np.random.default_rng(1)
    noise = Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8))
    data = encode(noise, fmt)
    assert decode_image(data).shape == (200, 200)
    with pytest.raises(ImageError, match="damaged or incomplete"):
        decode_image(data[: len(data) // 2])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_huge_dimensions_refused_from_header_fast(no_pixel_decoding):
    # 400 megapixels: past even Pillow's own hard limit, so this exercises the
    # DecompressionBombError path, which must still name the dimensions.
    data = huge_bilevel_png(20000, 20000)
    assert len(data) < 100_000
    start = time.perf_counter()
    with pytest.raises(ImageError, match="20000×20000 pixels; the limit is 25 megapixels"):
        decode_image(data)
    assert time.perf_counter() - start < 1.0


def test_dimensions_in_pillows_warning_band_refused(no_pixel_decoding):
    # 100 megapixels: Pillow only *warns* here; we must refuse, without the
    # warning escaping or the global filter being changed.
    filters_before = list(warnings.filters)
    limit_before = Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageError, match="10000×10000 pixels"):
            decode_image(huge_bilevel_png(10000, 10000))
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]
    assert warnings.filters == filters_before
    assert Image.MAX_IMAGE_PIXELS == limit_before


def test_dimensions_over_our_limit_refused(no_pixel_decoding):
    # 30 megapixels: Pillow is happy, our own header check must catch it.
    with pytest.raises(ImageError, match="6000×5000 pixels; the limit is 25 megapixels"):
        decode_image(huge_bilevel_png(6000, 5000))


def test_max_pixels_is_configurable():
    data = encode(Image.new("L", (100, 60), 255))
    with pytest.raises(ImageError, match="100×60 pixels; the limit is 0.005 megapixels"):
        decode_image(data, max_pixels=5_000)
    assert decode_image(data, max_pixels=6_000).shape == (60, 100)


def test_image_error_is_a_value_error_with_a_sentence():
    with pytest.raises(ValueError) as info:
        decode_image(b"\x89PNG\r\n\x1a\nnonsense")
    assert isinstance(info.value, ImageError)
    message = str(info.value)
    assert message[0].isupper() and message.endswith(".")


# ---------------------------------------------------------------- output helpers


def test_to_png_round_trip_with_scale():
    digit = load_upload(encode(draw_seven()))
    for arr in (digit, digit[0]):
        data = to_png(arr, scale=8)
        assert data.startswith(b"\x89PNG")
        back = Image.open(io.BytesIO(data))
        assert back.size == (224, 224) and back.mode == "L"
        np.testing.assert_array_equal(np.asarray(back), upscale(digit, 8))
    small = Image.open(io.BytesIO(to_png(digit)))
    assert small.size == (28, 28)
    np.testing.assert_allclose(np.asarray(small) / 255.0, digit[0], atol=0.5 / 255 + 1e-6)


def test_to_uint8_is_the_one_float_to_byte_conversion():
    from ae_core.images import to_uint8

    rgb = np.random.default_rng(0).uniform(-0.2, 1.2, (5, 7, 3)).astype(np.float32)  # as a photo is made
    np.testing.assert_array_equal(to_uint8(rgb), np.rint(np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    assert to_uint8(rgb).shape == (5, 7, 3) and to_uint8(rgb).dtype == np.uint8
    np.testing.assert_array_equal(to_uint8(np.array([np.nan, np.inf, -np.inf, 0.2 / 255, 0.7 / 255])), [0, 255, 0, 0, 1])
    u8 = np.arange(6, dtype=np.uint8)
    assert to_uint8(u8) is u8


def test_to_png_clips_and_rejects_bad_scale():
    wild = np.array([[-1.0, 0.5], [2.0, np.nan]])
    px = np.asarray(Image.open(io.BytesIO(to_png(wild))))
    np.testing.assert_array_equal(px, [[0, 128], [255, 0]])
    for bad in (0, -2, 1.5):
        with pytest.raises(ValueError):
            to_png(wild, scale=bad)  # type: ignore[arg-type]


def test_upscale_is_nearest_neighbour():
    img = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    big = upscale(img, 3)
    assert big.shape == (6, 6) and big.dtype == np.uint8
    np.testing.assert_array_equal(big[:3, :3], 0)
    np.testing.assert_array_equal(big[:3, 3:], 255)
    np.testing.assert_array_equal(upscale(img[None], 1), [[0, 255], [255, 0]])


@pytest.mark.parametrize(
    "shape, ncols, pad, expected",
    [
        ((10, 28, 28), 4, 1, (3 * 28 + 4, 4 * 28 + 5)),
        ((10, 1, 28, 28), 4, 1, (3 * 28 + 4, 4 * 28 + 5)),
        ((3, 8, 8), 5, 2, (8 + 4, 3 * 8 + 8)),
        ((6, 5, 7), 3, 0, (10, 21)),
    ],
)
def test_grid_shape(shape, ncols, pad, expected):
    out = grid(np.zeros(shape, np.float32), ncols, pad=pad)
    assert out.shape == expected and out.dtype == np.float32


def test_grid_layout_and_padding():
    imgs = np.stack([np.full((2, 3), v, np.float32) for v in (0.1, 0.2, 0.3)])
    out = grid(imgs, 2, pad=1, pad_value=0.9)
    assert out.shape == (7, 9)
    assert out[1, 1] == pytest.approx(0.1)
    assert out[1, 5] == pytest.approx(0.2)
    assert out[4, 1] == pytest.approx(0.3)
    assert out[4, 5] == pytest.approx(0.9)  # empty cell
    assert out[0, 0] == pytest.approx(0.9)
    with pytest.raises(ValueError):
        grid(np.zeros((0, 2, 2)), 3)


def test_fit_to_shape_area_averages():
    img = np.zeros((28, 28), np.float32)
    img[:14, :14] = 1.0
    half = fit_to_shape(img, (14, 14))
    np.testing.assert_allclose(half[:7, :7], 1.0, atol=1e-6)
    np.testing.assert_allclose(half[7:, :], 0.0, atol=1e-6)
    digit = load_upload(encode(draw_seven()))
    small = fit_to_shape(digit, (8, 8))
    assert small.shape == (1, 8, 8) and small.dtype == np.float32
    assert small.mean() == pytest.approx(digit.mean(), abs=0.01)
    assert resize_to(digit[0], (8, 8)).shape == (8, 8)
    np.testing.assert_array_equal(fit_to_shape(digit, (28, 28)), digit)
    with pytest.raises(ValueError):
        fit_to_shape(np.zeros((2, 28, 28)), (8, 8))


# ---------------------------------------------------------------- hygiene


def test_module_does_not_import_streamlit():
    code = "import sys, ae_core.images; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, timeout=60)


# ---------------------------------------------------------------- property tests


def _check_upload(data: bytes) -> None:
    try:
        out = load_upload(data)
    except ImageError:
        return
    assert_model_ready(out)


def _sample_files() -> list[bytes]:
    base = draw_seven(size=(24, 32), width=4)
    rgba = draw_seven(size=(20, 20), ink=(0, 0, 0, 255), paper=(0, 0, 0, 0), mode="RGBA", width=3)
    ramp = Image.fromarray(np.arange(16 * 16, dtype=np.uint16).reshape(16, 16) * 200)
    exif = Image.Exif()
    exif[0x0112] = 6
    return [
        encode(base),
        encode(base.convert("L")),
        encode(base.convert("P")),
        encode(rgba),
        encode(ramp),
        encode(base.convert("1")),
        encode(base, "PNG", optimize=True),
        encode(base, "JPEG", quality=80, exif=exif.tobytes()),
        encode(base.convert("CMYK"), "JPEG"),
        encode(base, "JPEG", progressive=True),
        encode(base, "GIF"),
        encode(base, "BMP"),
        encode(base.convert("L"), "BMP"),
        encode(base, "WEBP", lossless=True),
        encode(base, "WEBP", quality=50),
    ]


SAMPLES = _sample_files()
PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _fix_png_crcs(data: bytes) -> bytes:
    """Recompute chunk CRCs so mutations reach the decoder, not just the CRC check."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    out = bytearray(data[:8])
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        end = pos + 8 + length
        if end + 4 > len(data):
            break
        kind_and_payload = data[pos + 4 : end]
        out += data[pos : end] + struct.pack(">I", zlib.crc32(kind_and_payload) & 0xFFFFFFFF)
        pos = end + 4
    out += data[pos:]
    return bytes(out)


@st.composite
def mutated_images(draw):
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    edits = draw(
        st.lists(
            st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)),
            min_size=1,
            max_size=8,
        )
    )
    # Headers live at the start; aim half the edits there so dimensions, bit
    # depths and colour types get corrupted, not just compressed payload.
    header_edits = draw(
        st.lists(st.tuples(st.integers(0, min(64, len(data) - 1)), st.integers(0, 255)), max_size=4)
    )
    for pos, value in edits + header_edits:
        data[pos] = value
    cut = draw(st.one_of(st.none(), st.integers(1, len(data))))
    if cut is not None:
        del data[cut:]
    result = bytes(data)
    if draw(st.booleans()):
        result = _fix_png_crcs(result)
    return result


@PROPERTY_SETTINGS
@given(st.binary(max_size=4096))
def test_any_bytes_give_a_digit_or_image_error(data):
    _check_upload(data)


@PROPERTY_SETTINGS
@given(
    st.sampled_from([s[:16] for s in SAMPLES]),  # real magic numbers
    st.binary(max_size=2048),
)
def test_real_magic_with_random_body_gives_a_digit_or_image_error(magic, body):
    _check_upload(magic + body)


# Cheap (well under a second), so afford more examples where bugs are likeliest.
@settings(PROPERTY_SETTINGS, max_examples=500)
@given(mutated_images())
def test_mutated_real_images_give_a_digit_or_image_error(data):
    _check_upload(data)


@pytest.mark.parametrize("index", range(len(SAMPLES)))
def test_every_sample_decodes(index):
    assert_model_ready(load_upload(SAMPLES[index]))
