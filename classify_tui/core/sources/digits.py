"""scikit-learn's bundled 8x8 handwritten digits, written as 32 px RGB PNGs. Fully offline."""

from __future__ import annotations

import io
from collections.abc import Iterator

from . import Candidate

SIDE = 32


def digit_image(pixels):
    """Dark ink on white, upscaled smoothly so a pretrained backbone sees strokes, not blocks:
    an 8x8 grid of 0..16 (scikit-learn's values) as a SIDE x SIDE RGB PIL image."""
    import numpy as np
    from PIL import Image

    arr = (255 - np.asarray(pixels, dtype=np.float32).reshape(8, 8) * (255 / 16)).clip(0, 255)
    return Image.fromarray(arr.astype(np.uint8), "L").resize((SIDE, SIDE), Image.BICUBIC).convert("RGB")


def digit_png(pixels) -> bytes:
    """digit_image as PNG bytes: what the digits source writes for every image."""
    buf = io.BytesIO()
    digit_image(pixels).save(buf, "PNG")
    return buf.getvalue()


def digit_candidates(labels: list[str]) -> Iterator[Candidate]:
    from sklearn.datasets import load_digits

    data = load_digits()
    wanted = set(labels) if labels else None
    for i, (pixels, target) in enumerate(zip(data.data, data.target)):
        label = str(int(target))
        if wanted is not None and label not in wanted:
            continue
        yield Candidate(label=label, source=f"sklearn-digits:{i}", query="digits", data=digit_png(pixels), guard=False)
