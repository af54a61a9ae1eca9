"""The benchmark suite's sections, one module each, every figure measured by ae_core's own functions
(the ones the app, the CLI and the tests call), never by copies of them:

    settings  Settings (every size and grid of a run), Log, goal (a goal judged from its measurement)
    common    the data subset, the standard models (trained once per run, shared), the machine
    recon     1. reconstruction: ae_core.evaluate / metrics
    embed     2. 2-D embeddings: ae_core.embeddings (PCA, Isomap, LLE, t-SNE, the 2-D AEs), ae_core.metrics
    denoise   3. denoising: ae_core.denoise (median, NL-means, compare), ae_core.metrics
    speed     4. speed: ae_core.training.train, evaluate, latent; memory via benchmarks/memprobe.py
    compress  5. compression: ae_core.compress
    report    results as JSON and Markdown (reporting apart from measuring)

Each section module has `measure(ds, settings, cache, log) -> (body, goals)`; benchmarks/run.py is
the entry point that runs them.
"""
from . import compress, denoise, embed, recon, speed

SECTIONS = {"recon": recon.measure, "embed": embed.measure, "denoise": denoise.measure, "speed": speed.measure,
            "compress": compress.measure}
