"""5. Compression: the autoencoder as an image codec against JPEG and WebP at equal bytes, through
ae_core.compress (the Compression page's functions): `rate_distortion` rows and `crossover`, where
JPEG or WebP overtakes the best AE in PSNR. The codec settings are passed explicitly and recorded."""
from __future__ import annotations

import time

from ae_core import compress
from ae_core import data as data_mod

from .common import train_standard
from .settings import Log, Settings

AGAINST = ("JPEG", "WebP")


def measure(ds: data_mod.Dataset, s: Settings, cache: dict, log: Log) -> tuple[dict, list]:
    if not ds.is_image or ds.x_test.shape[1] != 1:
        return {"skipped": f"{ds.name}: rate_distortion needs greyscale images"}, []
    dims = sorted({d for d in s.dims if d > 2} or set(s.dims))
    nets = {f"AE-{d}": train_standard("ae", d, ds, s, cache, log).model for d in dims}
    codecs = {"ae_bits": list(compress.AE_BITS), "jpeg_qualities": list(compress.JPEG_QUALITIES),
              "webp_qualities": [*compress.WEBP_QUALITIES, "lossless"]}
    t0 = time.perf_counter()
    rows = compress.rate_distortion(nets, ds.x_test, ds.x_train, bits=codecs["ae_bits"],
                                    jpeg_qualities=codecs["jpeg_qualities"], webp_qualities=codecs["webp_qualities"])
    cross = {other: compress.crossover(rows, against=other) for other in AGAINST}
    secs = time.perf_counter() - t0
    log(f"compress: {len(rows)} codec settings on {len(ds.x_test)} test images in {secs:.1f}s")
    for other, c in cross.items():
        log(f"compress: {other}: {c.get('text', c)}")
    return {"rows": rows, "crossover": cross, "models": list(nets), "codecs": codecs, "seconds": round(secs, 2),
            "note": "ae_core.compress.rate_distortion(models, x_test, x_train) with the Compression page's codec "
                    "settings; AE codes quantised per coordinate with ranges from the training codes; bytes and "
                    "scores (ae_core.metrics.psnr / ssim) are means over the test images; crossover: "
                    "compress.crossover in PSNR at equal file bytes."}, []
