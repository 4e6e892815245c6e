"""Test-time augmentation: the plain view averaged with cropped and flipped views.

Like fastai's ``learn.tta``: the augmented views' probabilities are averaged, and the result is
``lerp(augmented, plain, BETA)``, i.e. ``(1 - BETA) * augmented + BETA * plain``. The views are
fixed (not random), so a prediction is reproducible:

- three crops of 90% of each side (centre, top-left, bottom-right), squished back to the size,
  the zoom that training's ``aug_transforms`` applies;
- when the source allows flips (not digits or MNIST, whose training never flipped), the plain
  view and the centre crop mirrored left to right.

Every view goes through the export's preprocessing: RGB, squish to ``size x size`` (bilinear),
``/255``, ``(x - mean) / std``. The plain view is exactly what ``imageload.load_squished`` and
the export's timm transform produce.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any

from .backbone import DataConfig

CROP = 0.9  # side of a cropped view, as a fraction of the image's side
BETA = 0.25  # fastai's learn.tta default: weight of the plain view against the augmented mean

_INTERPOLATION = {"bilinear": 2, "bicubic": 3, "nearest": 0, "lanczos": 1, "box": 4, "hamming": 5}  # PIL codes


def view_specs(flip: bool) -> list[tuple[str, bool]]:
    """(crop, mirrored) for every view, the plain view first."""
    views = [("full", False), ("center", False), ("top_left", False), ("bottom_right", False)]
    if flip:
        views += [("full", True), ("center", True)]
    return views


def n_views(flip: bool) -> int:
    return len(view_specs(flip))


def _box(kind: str, w: int, h: int) -> tuple[float, float, float, float] | None:
    cw, ch = w * CROP, h * CROP
    return {
        "full": None,
        "center": ((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2),
        "top_left": (0.0, 0.0, cw, ch),
        "bottom_right": (w - cw, h - ch, float(w), float(h)),
    }[kind]


def squished_views(im: Any, size: int, flip: bool, tta: bool = True, interpolation: str = "bilinear"):
    """(V, size, size, 3) uint8: the views of an RGB PIL image (only the plain one if not ``tta``)."""
    import numpy as np
    from PIL import Image

    resample = _INTERPOLATION.get(interpolation, Image.BILINEAR)
    out = []
    for kind, mirrored in view_specs(flip) if tta else [("full", False)]:
        box = _box(kind, *im.size)
        if box is None and im.size == (size, size):
            v = im
        else:
            v = im.resize((size, size), resample, box=box)
        if mirrored:
            v = v.transpose(Image.FLIP_LEFT_RIGHT)
        out.append(np.asarray(v, dtype=np.uint8))
    return np.stack(out)


def load_views(path: Path | str, size: int, flip: bool = True, tta: bool = True, draft: bool = True):
    """The views of an image file; JPEGs decode at a reduced scale like ``load_squished``."""
    from PIL import Image

    with Image.open(path) as im:
        if draft and im.format == "JPEG":
            im.draft("RGB", (size, size))
        rgb = im.convert("RGB")
    return squished_views(rgb, size, flip, tta)


def normalize(arr, mean, std):
    """uint8 (..., H, W, 3) -> float32 (..., 3, H, W), ``(x/255 - mean) / std`` as timm's transform."""
    import numpy as np

    x = np.asarray(arr, dtype=np.float32) / np.float32(255)
    x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(np.moveaxis(x, -1, -3))


def combine(view_probs):
    """(N, V, C) probabilities, plain view first -> (N, C), fastai's lerp(augmented, plain, BETA)."""
    if view_probs.shape[1] == 1:
        return view_probs[:, 0]
    return (1 - BETA) * view_probs[:, 1:].mean(axis=1) + BETA * view_probs[:, 0]


def tta_probs(model: Any, paths: list[Path], size: int, data_cfg: DataConfig, device: str, flip: bool,
              cancel: threading.Event | None = None, batch_size: int = 0, workers: int = 2):
    """(N, C) float32 test-time-augmented softmax probabilities, in the order of ``paths``.

    ``train.infer`` over every view (the same preprocessing as the export: squish to ``size``
    with bilinear resampling, ``data_cfg``'s mean/std; channels_last, mixed precision on CUDA),
    combined per image. ``batch_size`` counts images x views per pass. ``flip`` is False for
    sources whose training never flipped (digits, MNIST).
    """
    import numpy as np

    from .train import infer

    v = n_views(flip)
    probs = infer(model, paths, size, data_cfg, device, max(1, batch_size // v) if batch_size else 0, cancel,
                  workers=workers, load=partial(load_views, flip=flip), views=v).probs
    if not len(probs):
        return np.zeros((0, 0), dtype=np.float32)
    return combine(probs.reshape(len(paths), v, -1)).astype(np.float32)
