"""Image input and output for Manifold Lab: everything between "a user dropped some bytes on the page"
and "a float32 array a model can eat", and back again. One idea a module:

* ``decode``: untrusted upload bytes -> a greyscale array (``decode_image``), refusing anything
  malformed, truncated or too large with ``ImageError`` (its message is a sentence for the user);
* ``preprocess``: the one upload path every page takes (``prepare_upload``), finding the digit in a
  photo or scan and making it an MNIST digit in visible steps (``find_digit``), the array shortcuts
  (``preprocess_mnist``, ``load_upload``) and resizing to other dataset shapes (``resize_to``,
  ``fit_to_shape``);
* ``render``: arrays back into pictures for display (``to_png``, ``upscale``, ``grid``) and the one
  float -> uint8 conversion (``to_uint8``).

Every public name is importable from ``ae_core.images``. Depends on numpy, scipy, scikit-image and
Pillow; never imports streamlit.
"""

from __future__ import annotations

from .decode import MAX_BYTES, MAX_PIXELS, ImageError, decode_image
from .preprocess import (
    INK_THRESHOLD,
    MIN_CONTRAST,
    MNIST_SIZED,
    MODES,
    Prepared,
    Steps,
    find_digit,
    fit_and_centre,
    fit_to_shape,
    ink_levels_mnist,
    ink_span,
    load_upload,
    prepare_upload,
    preprocess_mnist,
    resize_to,
)
from .render import grid, to_png, to_uint8, upscale

__all__ = [
    "ImageError",
    "MAX_BYTES",
    "MAX_PIXELS",
    "MIN_CONTRAST",
    "INK_THRESHOLD",
    "MNIST_SIZED",
    "MODES",
    "Prepared",
    "Steps",
    "decode_image",
    "find_digit",
    "fit_and_centre",
    "ink_levels_mnist",
    "ink_span",
    "preprocess_mnist",
    "prepare_upload",
    "load_upload",
    "resize_to",
    "fit_to_shape",
    "to_png",
    "to_uint8",
    "upscale",
    "grid",
]
