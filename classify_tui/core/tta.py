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
from .errors import Cancelled
from .imageload import batched_arrays

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

    The same preprocessing as ``train.infer`` (and so the export): squish to ``size`` with
    bilinear resampling, ``data_cfg``'s mean/std; channels_last, mixed precision on CUDA.
    ``flip`` is False for sources whose training never flipped (digits, MNIST).
    """
    import numpy as np
    import torch

    v = n_views(flip)
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    per_batch = batch_size or (16 if dev.type == "cpu" and size >= 128 else 64)  # images x views per pass
    images_per_batch = max(1, per_batch // v)
    mean = torch.tensor(data_cfg.mean, device=dev).view(1, 3, 1, 1)
    std = torch.tensor(data_cfg.std, device=dev).view(1, 3, 1, 1)
    model = model.to(dev).eval()
    if dev.type != "mps":
        model = model.to(memory_format=torch.channels_last)
    out = []
    load = partial(load_views, flip=flip)
    try:
        with torch.inference_mode(), torch.autocast("cuda", enabled=cuda):
            for arr in batched_arrays(paths, size, images_per_batch, workers, load=load):
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                b = arr.shape[0]
                x = torch.from_numpy(arr.reshape(b * v, size, size, 3)).to(dev, non_blocking=True)
                x = x.permute(0, 3, 1, 2).float().div_(255)
                x = ((x - mean) / std).contiguous(memory_format=torch.channels_last)
                p = torch.softmax(model(x).float(), dim=1).cpu().numpy()
                out.append(combine(p.reshape(b, v, -1)))
    finally:
        model.to(memory_format=torch.contiguous_format)
    if not out:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(out).astype(np.float32)
