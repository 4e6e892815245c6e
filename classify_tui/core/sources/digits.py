"""scikit-learn's bundled 8x8 handwritten digits, written as 32 px RGB PNGs. Fully offline."""

from __future__ import annotations

import io
from collections.abc import Iterator

from . import Candidate

SIDE = 32


def digit_png(pixels) -> bytes:
    """Dark ink on white, upscaled smoothly so a pretrained backbone sees strokes, not blocks."""
    import numpy as np
    from PIL import Image

    arr = (255 - np.asarray(pixels, dtype=np.float32).reshape(8, 8) * (255 / 16)).clip(0, 255)
    img = Image.fromarray(arr.astype(np.uint8), "L").resize((SIDE, SIDE), Image.BICUBIC).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "PNG")
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
