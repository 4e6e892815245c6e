"""An image box that sizes its image explicitly to fit while keeping the aspect ratio.

textual-image stretches to whatever width and height it is given, and an unsized one collapses;
so the box measures itself and gives the image exact cell dimensions. The inner widget exists
from construction, so an image set at any time (before mounting too) is the one drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from textual.containers import Container

MAX_SIDE = 2048  # a path is decoded once to at most this: enough for any terminal, cheap to redraw


def cell_aspect() -> float:
    """Height / width of a terminal cell (about 2); exact when the terminal reports pixel sizes."""
    try:
        from textual_image._terminal import get_cell_size

        size = get_cell_size()
        if size.width > 0 and size.height > 0:
            return size.height / size.width
    except Exception:  # noqa: BLE001 - no terminal (tests, pipes): assume the usual 1:2 cell
        pass
    return 2.0


def fit_cells(img_w: int, img_h: int, box_w: int, box_h: int, aspect: float = 2.0) -> tuple[int, int]:
    """(columns, rows) for an img_w x img_h image in a box, keeping its shape on screen."""
    if min(img_w, img_h, box_w, box_h) <= 0:
        return max(box_w, 1), max(box_h, 1)
    rows = min(float(box_h), box_w * img_h / (aspect * img_w))
    cols = aspect * rows * img_w / img_h
    return max(1, min(box_w, round(cols))), max(1, min(box_h, round(rows)))


def load_image(path: str | Path, max_side: int = MAX_SIDE) -> Image.Image | None:
    """An upright RGB copy of the file, at most ``max_side`` pixels; None if it cannot be read."""
    try:
        with Image.open(path) as im:
            im.draft("RGB", (max_side, max_side))  # JPEGs decode at reduced scale
            im = ImageOps.exif_transpose(im)
            im.thumbnail((max_side, max_side))
            return im.convert("RGB")
    except Exception:  # noqa: BLE001 - unreadable: show nothing rather than crash
        return None


class FitImage(Container):
    def __init__(self, image_cls: type, image: Any = None, **kwargs: Any) -> None:
        self.image_cls = image_cls
        self.inner = image_cls()
        super().__init__(self.inner, **kwargs)
        self._image: Any = None
        self._pixels = (0, 0)
        self._fitted = (0, 0)
        self.image = image

    @property
    def image(self) -> Any:
        return self._image

    @image.setter
    def image(self, value: Any) -> None:
        """A PIL image, a path (decoded here, once) or None."""
        if isinstance(value, (str, Path)):
            value = load_image(value)
        self._image = value
        self._pixels = value.size if isinstance(value, Image.Image) else (0, 0)
        self.inner.image = value
        self.fit()

    def fit(self) -> None:
        if not self.size.area:  # not laid out yet: on_resize fits it
            return
        w, h = fit_cells(*self._pixels, self.size.width, self.size.height, cell_aspect())
        if self._fitted != (w, h):
            self._fitted = (w, h)
            self.inner.styles.width, self.inner.styles.height = w, h

    def on_resize(self) -> None:
        self.fit()
