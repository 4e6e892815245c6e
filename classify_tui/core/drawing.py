"""Strokes drawn on a canvas, turned into the image a model was trained on (no UI here).

A drawing is a list of strokes; a stroke is a list of points ``(x, y)`` normalised to the
canvas's square side (0..1 each), drawn with a round brush ``brush`` wide (also a fraction of
the side). The app's canvas keeps them; this module rasterises them for display and renders
them the way the workspace's source renders its training images:

- **digits** (scikit-learn's 8x8 digits): as in the UCI set they come from, the drawing is
  scaled until its ink spans the 32x32 bitmap's longer side (every sklearn digit fills rows 0-7;
  columns are centred by the bounding box, not the centre of mass: the classes' mean column
  centres of mass range over 3.3-3.8 while every bounding box is centred), the pen is made as wide
  as gives the data set's mean amount of ink (312.6 of the 8x8 values' sum: thin pens on long
  strokes, a wide one on a 1, as in the data), each 4x4 block's ink is counted into 0..16, and
  the 8x8 grid is rendered by the source's own ``digit_image`` (dark ink on white, bicubic to 32 px).
- **mnist**: LeCun's recipe: the ink fitted in a 20x20 box (anti-aliased), the box placed in
  28x28 with its centre of mass at the centre, white on black, the pen matched to MNIST's mean
  ink (0.1307 of the pixels' full scale).
- anything else (photos): black strokes on white at the export's input size, where they are.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Point = tuple[float, float]
Stroke = Sequence[Point]

BRUSH = 0.08  # the canvas's brush, as a fraction of its side
DIGITS_INK = 312.6  # mean sum of scikit-learn's 8x8 digit values (0..16 each), over all 1797 images
MNIST_INK = 0.1307 * 28 * 28  # MNIST's mean pixel value (0..1) times its 784 pixels
SUPER = 4  # supersampling factor for the anti-aliased renders


@dataclass(frozen=True)
class Look:
    """How a source's images look: the renderer, and the colours the canvas shows."""

    kind: str  # "digits", "mnist" or "plain"
    ink: tuple[int, int, int]
    paper: tuple[int, int, int]


DIGITS = Look("digits", (0, 0, 0), (255, 255, 255))
MNIST = Look("mnist", (255, 255, 255), (0, 0, 0))
PLAIN = Look("plain", (0, 0, 0), (255, 255, 255))


def look_for(source: str) -> Look:
    """The look of a workspace whose recipe's source is ``source`` (``digits``, ``folder:PATH``...)."""
    kind = source.partition(":")[0]
    return {"digits": DIGITS, "mnist": MNIST}.get(kind, PLAIN)


def is_empty(strokes: Sequence[Stroke]) -> bool:
    return not any(len(s) for s in strokes)


def _paint(draw: Any, strokes: Sequence[Stroke], to_px, width: float, fill: int) -> None:
    """Round-brush strokes: segments ``width`` px wide with a disc at every point."""
    r = width / 2
    for stroke in strokes:
        pts = [to_px(p) for p in stroke]
        if len(pts) > 1:
            draw.line(pts, fill=fill, width=max(1, round(width)))
        for x, y in pts:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)


def raster(strokes: Sequence[Stroke], n: int, brush: float = BRUSH):
    """(n, n) bool: which pixels of an n x n canvas are ink (at least half covered)."""
    import numpy as np
    from PIL import Image, ImageDraw

    big = n * SUPER
    img = Image.new("L", (big, big), 0)
    _paint(ImageDraw.Draw(img), strokes, lambda p: (p[0] * big, p[1] * big), brush * big, 255)
    return np.asarray(img.resize((n, n), Image.BOX)) >= 128


def _bbox(strokes: Sequence[Stroke]) -> tuple[float, float, float, float]:
    xs = [p[0] for s in strokes for p in s]
    ys = [p[1] for s in strokes for p in s]
    return min(xs), min(ys), max(xs), max(ys)


def _fitted(strokes: Sequence[Stroke], side: float, pen: float, center: tuple[float, float], scale_px: int):
    """Render at ``scale_px`` x ``scale_px`` (grey 0..255): the strokes' skeleton scaled so that
    with a ``pen`` px pen (in ``side`` units) its bounding box's longer side inks exactly ``side``
    px, centred on ``center`` (in ``side`` units). ``scale_px / side`` is the supersampling."""
    import numpy as np
    from PIL import Image, ImageDraw

    x0, y0, x1, y1 = _bbox(strokes)
    extent = max(x1 - x0, y1 - y0)
    s = (side - pen) / extent if extent > 1e-9 else 0.0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    k = scale_px / side

    def to_px(p: Point) -> tuple[float, float]:
        return (((p[0] - cx) * s + center[0]) * k, ((p[1] - cy) * s + center[1]) * k)

    img = Image.new("L", (scale_px, scale_px), 0)
    _paint(ImageDraw.Draw(img), strokes, to_px, pen * k, 255)
    return np.asarray(img, dtype=np.float64) / 255


def _pen_for_ink(render, ink: float, lo: float, hi: float) -> float:
    """The pen width in [lo, hi] whose render(pen).sum() is closest to ``ink`` (more pen, more ink)."""
    if render(lo).sum() >= ink:
        return lo
    if render(hi).sum() <= ink:
        return hi
    for _ in range(14):
        mid = (lo + hi) / 2
        if render(mid).sum() < ink:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def digit_pixels(strokes: Sequence[Stroke]):
    """(8, 8) float array of integers 0..16: the drawing as scikit-learn's digits encode one."""
    import numpy as np

    if is_empty(strokes):
        return np.zeros((8, 8))
    side, grid = 32, 8

    def counts(pen: float):
        cover = _fitted(strokes, side, pen, (side / 2, side / 2), side * SUPER)
        block = side * SUPER // grid  # one 4x4 block of the 32x32 bitmap, supersampled
        return cover.reshape(grid, block, grid, block).mean(axis=(1, 3)) * 16

    pen = _pen_for_ink(counts, DIGITS_INK, 2.0, 12.0)
    return np.rint(counts(pen))


def mnist_pixels(strokes: Sequence[Stroke]):
    """(28, 28) uint8: the drawing as MNIST's preprocessing would have left it (white on black)."""
    import numpy as np
    from PIL import Image

    if is_empty(strokes):
        return np.zeros((28, 28), dtype=np.uint8)
    box = 20

    def cover(pen: float):
        big = _fitted(strokes, box, pen, (box / 2, box / 2), box * SUPER)
        small = Image.fromarray((big * 255).astype(np.uint8), "L").resize((box, box), Image.BOX)
        return np.asarray(small, dtype=np.float64) / 255

    digit = cover(_pen_for_ink(cover, MNIST_INK, 1.0, 6.0))
    ys, xs = np.mgrid[:box, :box]
    total = digit.sum()
    cy, cx = (ys * digit).sum() / total, (xs * digit).sum() / total
    out = Image.new("L", (28, 28), 0)
    # paste so that the centre of mass lands on the centre of 28x28 (pixel centres at i + 0.5)
    out.paste(Image.fromarray((digit * 255).round().astype(np.uint8), "L"),
              (round(14 - (cx + 0.5)), round(14 - (cy + 0.5))))
    return np.asarray(out)


def drawing_image(strokes: Sequence[Stroke], look: Look, size: int = 224, brush: float = BRUSH):
    """The drawing as the source would have written it: a PIL image (RGB, or L for MNIST).
    ``size`` is the export's input size, used by the plain look only."""
    import numpy as np
    from PIL import Image, ImageDraw

    if look.kind == "digits":
        from .sources.digits import digit_image

        return digit_image(digit_pixels(strokes))
    if look.kind == "mnist":
        return Image.fromarray(mnist_pixels(strokes), "L")
    big = Image.new("L", (size * SUPER, size * SUPER), 0)
    n = size * SUPER
    _paint(ImageDraw.Draw(big), strokes, lambda p: (p[0] * n, p[1] * n), brush * n, 255)
    ink = np.asarray(big.resize((size, size), Image.BOX), dtype=np.float64)[..., None] / 255
    paper, pen = np.array(look.paper, dtype=np.float64), np.array(look.ink, dtype=np.float64)
    return Image.fromarray((paper * (1 - ink) + pen * ink).round().astype(np.uint8), "RGB")


def drawing_png(strokes: Sequence[Stroke], look: Look, size: int = 224, brush: float = BRUSH) -> bytes:
    """drawing_image as PNG bytes: what saving the drawing writes, and what prediction decodes."""
    buf = io.BytesIO()
    drawing_image(strokes, look, size, brush).save(buf, "PNG")
    return buf.getvalue()
