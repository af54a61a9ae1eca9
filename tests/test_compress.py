"""ae_core.compress: the AE codec's byte count is real, JPEG / WebP numbers are consistent, and the
crossover is found where the curves actually cross."""
import io
import math

import numpy as np
import pytest
from PIL import Image

from ae_core import compress, evaluate, metrics, models


@pytest.fixture(scope="module")
def tiny_model():
    return models.build("ae", seed=0, latent_dim=5, hidden=(16,))


@pytest.mark.parametrize("d, b", [(2, 4), (16, 8), (30, 4), (30, 16), (5, 3), (1, 1)])
def test_ae_bytes_is_ceil_of_bits_over_8_and_pack_produces_exactly_that(d, b):
    assert compress.ae_bytes(d, b) == math.ceil(d * b / 8)
    rng = np.random.default_rng(0)
    q = compress.Quantiser(b).fit(rng.standard_normal((50, d)))
    codes = q.quantise(rng.standard_normal((7, d)))
    blobs = q.pack(codes)
    assert all(len(x) == compress.ae_bytes(d, b) for x in blobs)
    np.testing.assert_array_equal(q.unpack(blobs, d), codes)


def test_quantiser_ranges_come_from_the_training_codes_and_clip_outside():
    z_train = np.array([[0.0, -2.0], [1.0, 2.0], [0.5, 0.0]])
    q = compress.Quantiser(4).fit(z_train)
    np.testing.assert_array_equal(q.lo_, [0.0, -2.0])
    np.testing.assert_array_equal(q.hi_, [1.0, 2.0])
    codes = q.quantise(np.array([[0.0, -2.0], [1.0, 2.0], [5.0, -9.0]]))
    np.testing.assert_array_equal(codes, [[0, 0], [15, 15], [15, 0]])
    # Error of a uniform quantiser: at most half a step per coordinate inside the range.
    z = np.random.default_rng(1).uniform([0, -2], [1, 2], size=(200, 2))
    err = np.abs(q.dequantise(q.quantise(z)) - z)
    assert (err <= (q.hi_ - q.lo_) / 15 / 2 + 1e-6).all()


def test_more_bits_never_hurt_the_ae_codec(mnist5k, tiny_model):
    x = mnist5k.x_test[:30]
    # Ranges that cover the test codes too, so only quantisation (not clipping) separates the rows.
    x_train = np.concatenate([mnist5k.x_train[:500], x])
    rows = compress.ae_rows({"tiny": tiny_model}, x, x_train, bits=(2, 4, 8, 16))
    assert [r["bytes_file"] for r in rows] == [compress.ae_bytes(5, b) for b in (2, 4, 8, 16)]
    assert all(r["bytes_payload"] == r["bytes_file"] for r in rows)
    unquantised = metrics.psnr(x, evaluate.reconstruct(tiny_model, x)).mean()
    assert rows[-1]["psnr"] == pytest.approx(unquantised, abs=0.01)
    assert rows[0]["psnr"] <= rows[-1]["psnr"] + 1e-6


def test_jpeg_bytes_grow_with_quality_and_psnr_is_against_the_original(mnist5k):
    x = mnist5k.x_test[:25]
    rows = compress.pil_rows(x, "JPEG", (5, 30, 60, 95))
    sizes = [r["bytes_file"] for r in rows]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert [r["psnr"] for r in rows] == sorted(r["psnr"] for r in rows)
    # Recompute one row's PSNR from scratch against the original float images.
    decoded = []
    for img in x:
        buf = io.BytesIO()
        Image.fromarray(np.rint(img[0] * 255).astype(np.uint8), "L").save(buf, "JPEG", quality=30, optimize=True)
        decoded.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())), np.float32)[None] / 255)
    assert rows[1]["psnr"] == pytest.approx(metrics.psnr(x, np.stack(decoded)).mean(), abs=1e-9)
    for r in rows:
        assert 0 < r["bytes_payload"] <= r["bytes_file"]
        assert r["header"] > 0 and r["bytes_file"] - r["bytes_payload"] == pytest.approx(r["header"])


def test_webp_payload_is_at_most_the_file_and_lossless_is_exact(mnist5k):
    x = mnist5k.x_test[:20]
    rows = compress.pil_rows(x, "WebP", (10, 80, "lossless"))
    for r in rows:
        assert 0 < r["bytes_payload"] <= r["bytes_file"]
    assert rows[0]["bytes_file"] < rows[1]["bytes_file"]
    lossless = rows[-1]
    assert lossless["ssim"] == pytest.approx(1.0) and lossless["psnr"] >= 99


def test_header_bytes_is_the_shared_prefix_with_webp_lengths_masked():
    assert compress.header_bytes([b"HEADabc", b"HEADxyz1", b"HEADq"]) == 4
    a = b"RIFF\x10\x00\x00\x00WEBPVP8L\x04\x00\x00\x00/\x1b\xc0"
    b = b"RIFF\x20\x00\x00\x00WEBPVP8L\x14\x00\x00\x00/\x1b\xc0zz"
    assert compress.header_bytes([a, b]) == len(a)
    blank = np.zeros((1, 28, 28), np.float32)
    digit = np.zeros((1, 28, 28), np.float32)
    digit[0, 5:20, 12:15] = 1
    files = [compress.encode_pil(im, "JPEG", 50) for im in (blank, digit)]
    head = compress.header_bytes(files)
    assert files[0][:head] == files[1][:head] and 0 < head < min(map(len, files))


def _rows(ae, jpeg):
    out = [{"codec": "AE m", "setting": f"{b} bit", "bytes_file": b, "bytes_payload": b, "psnr": p, "ssim": 0}
           for b, p in ae]
    out += [{"codec": "JPEG", "setting": f"q={i}", "bytes_file": b, "bytes_payload": b, "psnr": p, "ssim": 0}
            for i, (b, p) in enumerate(jpeg)]
    return out


def test_crossover_is_where_jpeg_reaches_the_best_ae():
    rows = _rows(ae=[(10, 18.0), (20, 20.0)], jpeg=[(100, 15.0), (200, 25.0)])
    cx = compress.crossover(rows)
    assert cx["found"]
    # JPEG is linear in log-bytes between its points: 20 dB is reached half way, at sqrt(100 * 200).
    assert cx["bytes"] == pytest.approx(math.sqrt(100 * 200), rel=1e-3)
    assert cx["psnr"] == pytest.approx(20.0, abs=1e-3)
    assert cx["ae"] == "AE m 20 bit" and "141 bytes" in cx["text"]


def test_crossover_reports_when_jpeg_always_or_never_wins():
    always = compress.crossover(_rows(ae=[(10, 12.0)], jpeg=[(100, 20.0), (200, 25.0)]))
    assert not always["found"] and "wherever it exists" in always["text"]
    never = compress.crossover(_rows(ae=[(10, 30.0)], jpeg=[(100, 20.0), (200, 25.0)]))
    assert not never["found"] and "never" in never["text"]


@pytest.mark.slow
def test_rate_distortion_on_held_out_digits_with_a_shipped_model(mnist5k):
    from ae_core import store

    model, _ = store.load("ae-16d")
    x = mnist5k.x_test[:40]
    rows = compress.rate_distortion({"ae-16d": model}, x, mnist5k.x_train, jpeg_qualities=(5, 50, 95),
                                    webp_qualities=(10, "lossless"))
    assert {r["codec"] for r in rows} == {"AE ae-16d", "JPEG", "WebP"}
    assert {r["bytes_file"] for r in rows if r["codec"] == "AE ae-16d"} == {8, 16, 32}
    for r in rows:
        assert set(r) >= {"codec", "setting", "bytes_file", "bytes_payload", "psnr", "ssim"}
        assert 0 < r["bytes_payload"] <= r["bytes_file"]
    cx = compress.crossover(rows)
    assert isinstance(cx["text"], str) and cx["text"]


def test_matched_examples_pick_the_closest_quality(mnist5k, tiny_model):
    ex = compress.matched_examples(tiny_model, mnist5k.x_test[:2], mnist5k.x_train[:200], bits=8)
    imgs, size, setting = ex["JPEG"]
    assert imgs.shape == (2, 1, 28, 28) and setting.startswith("q=")
    assert ex["ae"][1] == compress.ae_bytes(5, 8)
    # No other tried quality gets closer to the AE's bytes.
    target = ex["ae"][1]
    for q in compress.MATCH_QUALITIES:
        _, blobs = compress.pil_codec(mnist5k.x_test[:2], "JPEG", q)
        assert abs(np.mean([len(b) for b in blobs]) - target) >= abs(size - target) - 1e-9
