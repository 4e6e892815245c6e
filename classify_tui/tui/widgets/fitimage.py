"""An image box that sizes its image explicitly to fit while keeping the aspect ratio.

textual-image stretches to whatever width and height it is given, and an unsized one collapses;
so the box measures itself and gives the image exact cell dimensions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image
from textual.app import ComposeResult
from textual.containers import Container


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


class FitImage(Container):
    def __init__(self, image_cls: type, image: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.image_cls = image_cls
        self._image = image
        self._pixels = (0, 0)

    def compose(self) -> ComposeResult:
        yield self.image_cls()

    def on_mount(self) -> None:
        self.image = self._image

    @property
    def image(self) -> Any:
        return self._image

    @image.setter
    def image(self, value: Any) -> None:
        self._image = value
        self._pixels = (0, 0)
        if isinstance(value, Image.Image):
            self._pixels = value.size
        elif isinstance(value, (str, Path)):
            try:
                with Image.open(value) as im:
                    self._pixels = im.size
            except Exception:  # noqa: BLE001 - unreadable: show nothing rather than crash
                value = None
        if self.is_mounted:
            inner = self.query_one(self.image_cls)
            inner.image = value
            self.fit()

    def fit(self) -> None:
        inner = self.query_one(self.image_cls)
        w, h = fit_cells(*self._pixels, self.size.width, self.size.height, cell_aspect())
        inner.styles.width, inner.styles.height = w, h

    def on_resize(self) -> None:
        self.fit()
