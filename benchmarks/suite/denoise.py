"""3. Denoising: PSNR / SSIM on the test split under each corruption, of the noisy input, the median
filter, non-local means, and an AE, a DAE and an SDAE.

Through ae_core.denoise, the Denoise page's functions: `NLMeans` (h picked from its grid by PSNR on
validation images of the training split, `validation_images`), `compare` (corrupt with a seed,
median filter and NL-means with the sizes given, each model's reconstruction, scored per image by
ae_core.metrics.psnr / ssim). The NL-means and median settings are passed explicitly and recorded.
"""
from __future__ import annotations

import time

from ae_core import data as data_mod
from ae_core import denoise

from .common import history_summary, train_standard
from .settings import Log, Settings, goal

NETS = (("ae", "AE"), ("dae", "DAE"), ("sdae", "SDAE"))
REFERENCE = ("Vincent et al. (2010): stacked denoising AEs with masking noise; their claim is about the features "
             "(a classifier on the codes), measured by benchmarks/features.py, not about PSNR.")
NOISY, NLM = "noisy input", "NL-means"


def measure(ds: data_mod.Dataset, s: Settings, cache: dict, log: Log) -> tuple[dict, list]:
    if not ds.is_image:
        return {"skipped": f"{ds.name} is not an image dataset"}, []
    L = s.denoise_latent
    nets = {label: train_standard(kind, L, ds, s, cache, log) for kind, label in NETS}
    median = f"median {s.median_size}x{s.median_size}"
    val = denoise.validation_images(ds.x_train, s.nlm_val_n, seed=s.seed)
    results, tuning = {}, {}

    def make_nlm() -> denoise.NLMeans:
        return denoise.NLMeans(s.nlm_h_grid, patch_size=s.nlm_patch_size, patch_distance=s.nlm_patch_distance)

    for j, spec in enumerate(s.noises):
        t0 = time.perf_counter()
        nlm = make_nlm().fit(val, spec, seed=s.seed + 200 + j)
        tuning[spec] = {"val_psnr_by_h": {f"{h:g}": v for h, v in nlm.val_psnr_.items()}, "best_h": nlm.h_}
        c = denoise.compare({label: res.model for label, res in nets.items()}, ds.x_test, spec, seed=s.seed + 100 + j,
                            nlm=nlm, median=True, median_size=s.median_size)
        names = {"noisy": NOISY, median: median, f"NL-means (h={nlm.h_:g})": NLM}
        means = {names.get(k, k): {"psnr": float(c.psnr[k].mean()), "ssim": float(c.ssim[k].mean())} for k in c.outputs}
        order = [NOISY, median, NLM, *nets]
        results[spec] = {m: means[m] for m in order}
        log(f"denoise: {spec:16s} " + "  ".join(f"{m} {r['psnr']:.2f}dB/{r['ssim']:.3f}" for m, r in results[spec].items())
            + f"  (NL-means h={nlm.h_:g}; {time.perf_counter() - t0:.1f}s)")
    goals = []
    classical = (median, NLM)
    for spec in ("gaussian:0.5", "masking:0.5"):
        if spec in results:
            r = results[spec]
            best = max(classical, key=lambda m: r[m]["psnr"])
            goals.append(goal("denoise", f"DAE minus best classical filter PSNR at {spec}",
                              r["DAE"]["psnr"] - r[best]["psnr"], ">=", 3.0,
                              f"DAE >= 3 dB above the best classical filter at {spec}",
                              f"DAE {r['DAE']['psnr']:.2f} dB, {best} {r[best]['psnr']:.2f} dB"))
    for spec in s.noises:
        if spec.startswith("masking"):
            r = results[spec]
            goals.append(goal("denoise", f"SDAE minus DAE PSNR at {spec}", r["SDAE"]["psnr"] - r["DAE"]["psnr"], ">=", 0.0,
                              f"SDAE PSNR >= DAE PSNR under {spec} (a PSNR comparison; Vincent et al.'s claim is "
                              "about features: benchmarks/features.py)",
                              f"SDAE {r['SDAE']['psnr']:.2f} dB, DAE {r['DAE']['psnr']:.2f} dB"))
    models_info = {label: {"kind": res.model.kind, "noise_trained_on": getattr(res.model.config, "noise", "none"),
                           **history_summary(res)} for label, res in nets.items()}
    # What the NL-means objects ran with (the h chosen per noise is in nlm_tuning), beside the app's defaults.
    nlm_settings = {**make_nlm().settings(), "val_n": len(val),
                    "app_defaults": {"patch_size": denoise.NLM_PATCH_SIZE, "patch_distance": denoise.NLM_PATCH_DISTANCE,
                                     "h_grid": list(denoise.NLM_H_GRID)}}
    note = (f"All three networks: latent {L}, standard_config of their kind, same training images, seed and epoch budget; "
            "'AE' has no input noise, 'DAE' is kind dae with its default mixed noise (one model for all noise types), "
            "'SDAE' is kind sdae (greedy stages with masking noise, then fine-tuned). ae_core.denoise.compare, the "
            "Denoise page's function: test images corrupted with fixed seeds; "
            f"median filter {s.median_size}x{s.median_size}; NL-means (skimage, patch {s.nlm_patch_size}, distance "
            f"{s.nlm_patch_distance}, fast mode: the page's settings) uses the h of the grid {list(s.nlm_h_grid)} with "
            f"the best PSNR on {len(val)} validation images of the training split (denoise.validation_images), tuned "
            "per noise. PSNR / SSIM: ae_core.metrics, per image, means over the test split.")
    return {"results": results, "nlm_tuning": tuning, "nlm": nlm_settings, "median_size": s.median_size,
            "models": models_info, "noises": list(s.noises), "latent": L, "note": note, "reference": REFERENCE}, goals
