"""The checkpoint store, in three parts along its seams:

* `atomic`: folder transactions under a root (write whole, rename into place, restore after a crash,
  read one version by descriptor) and safe folder names;
* `checkpoint`: the format (safetensors weights + config.json), save / load / read_meta, the listing;
* `card`: the README.md model card written beside each checkpoint.

The public names are re-exported here, so `from ae_core import store; store.load(...)` is the API.
"""
from .atomic import CONFIG, MAX_NAME, WEIGHTS, CheckpointError, sanitize_name
from .card import model_card
from .checkpoint import (CARD, FORMAT, MAX_CONFIG_BYTES, MAX_WEIGHT_BYTES, ModelInfo, default_root, delete,
                         list_models, load, read_meta, save, stored_models, versions)

__all__ = ["CARD", "CONFIG", "FORMAT", "MAX_CONFIG_BYTES", "MAX_NAME", "MAX_WEIGHT_BYTES", "WEIGHTS",
           "CheckpointError", "ModelInfo", "default_root", "delete", "list_models", "load", "model_card", "read_meta",
           "sanitize_name", "save", "stored_models", "versions"]
