"""The model card: the README.md written beside each checkpoint, from its config.json's contents."""
from __future__ import annotations

import json

from ..models import KINDS


def model_card(meta: dict) -> str:
    m = meta.get("metrics", {})
    test, pca = m.get("test", {}), m.get("pca", {})
    ds = meta.get("dataset", {})
    lines = [
        f"# {meta['name']}",
        "",
        f"A `{meta['kind']}` autoencoder ({KINDS[meta['kind']].summary}) with a {meta['config']['latent_dim']}-D latent, "
        f"trained on `{ds.get('name', '?')}` ({ds.get('split', {}).get('n_train', '?')} training images, "
        f"split seed {ds.get('split', {}).get('seed', '?')}).",
        "",
    ]
    origin = ds.get("origin")
    if isinstance(origin, dict) and origin:
        # A user's own upload (ae_core.data.user): where the data came from, so the model can be traced to it.
        lines += [f"Data: uploaded file `{origin.get('file', '?')}` ({origin.get('format', '?')}, "
                  f"{origin.get('bytes', '?')} bytes, sha256 `{origin.get('sha256', '?')}`): "
                  f"{origin.get('n_images', '?')} images in {origin.get('n_classes', '?')} classes, "
                  f"{origin.get('n_train', '?')} train / {origin.get('n_test', '?')} test"
                  + (f", resized to {origin['resized_to']}×{origin['resized_to']}" if origin.get("resized_to") else "")
                  + ".", ""]
    if test:
        lines += [
            f"Held-out test split ({ds.get('split', {}).get('n_test', '?')} images):",
            "",
            "| | squared error / image | MSE / pixel | PSNR (dB) |",
            "|---|---|---|---|",
            f"| this model | {test['sse']:.2f} | {test['mse']:.5f} | {test['psnr']:.2f} |",
        ]
        if pca:
            lines.append(f"| PCA, {meta['config']['latent_dim']} components | {pca['sse']:.2f} | {pca['mse']:.5f} | {pca['psnr']:.2f} |")
        lines += ["", "Both reconstructions clipped to [0, 1] before measuring (PCA's back-projection leaves that "
                  "range; unclipped PCA figures: `python -m benchmarks.papers`)."]
        lines.append("")
    lines += ["Config:", "", "```json", json.dumps(meta["config"], indent=2, sort_keys=True), "```", "",
              f"Weights sha256 `{meta['sha256']}`. Load with `ae_core.store.load({meta['name']!r})`.", ""]
    return "\n".join(lines)
