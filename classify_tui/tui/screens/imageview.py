"""A large view of one image with its details (Enter or space from a gallery).

The image is fitted to the screen; n/p (or the arrows) step through the gallery's items without
closing; +/- zoom into the centre of big photos and the arrows then pan. Closing returns the index
last shown, so the gallery's cursor follows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ..widgets.fitimage import FitImage, load_image
from ..widgets.footer import AppFooter

ZOOMS = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
PAN = 0.1  # of the image per arrow key when zoomed


def crop_box(size: tuple[int, int], zoom: float, centre: tuple[float, float]) -> tuple[int, int, int, int]:
    """The part of an image of ``size`` shown at ``zoom`` around ``centre`` (fractions), kept inside."""
    w, h = size
    cw, ch = max(1, round(w / zoom)), max(1, round(h / zoom))
    x = min(max(round(centre[0] * w - cw / 2), 0), w - cw)
    y = min(max(round(centre[1] * h - ch / 2), 0), h - ch)
    return x, y, x + cw, y + ch


class ImageView(ModalScreen[int]):
    BINDINGS = [
        Binding("escape,enter,space,q", "close", "Close", id="view.close"),
        Binding("n", "step(1)", "Next", id="view.next"),
        Binding("p", "step(-1)", "Previous", id="view.prev"),
        Binding("right", "arrow(1, 0)", "Next (pan right when zoomed)", show=False, id="view.right"),
        Binding("left", "arrow(-1, 0)", "Previous (pan left when zoomed)", show=False, id="view.left"),
        Binding("down", "arrow(0, 1)", "Next (pan down when zoomed)", show=False, id="view.down"),
        Binding("up", "arrow(0, -1)", "Previous (pan up when zoomed)", show=False, id="view.up"),
        Binding("plus,equals_sign", "zoom(1)", "Zoom in", show=False, id="view.zoom_in"),  # the title says so
        Binding("minus", "zoom(-1)", "Zoom out", show=False, id="view.zoom_out"),
    ]

    def __init__(self, count: int, index: int, describe: Callable[[int], tuple[Path, str]]) -> None:
        """``describe(i)`` gives the path and the details line of item i (of ``count``)."""
        super().__init__()
        self.count, self.index, self.describe = count, index, describe
        self.zoom = 0  # index into ZOOMS
        self.centre = (0.5, 0.5)
        self.full: Image.Image | None = None
        self.path: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="view-box"):
            yield Static("", id="view-title")
            yield FitImage(self.app.image_widget_class, id="view-img")
            yield Static("", id="view-details")
        yield AppFooter()

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        self.path, details = self.describe(self.index)
        self.full = load_image(self.path, 4096)
        self.zoom, self.centre = 0, (0.5, 0.5)
        self.query_one("#view-details", Static).update(details)
        self.redraw()

    def refresh_details(self) -> None:
        """After something about the item changed (a mark), without reloading the image."""
        self.query_one("#view-details", Static).update(self.describe(self.index)[1])

    def redraw(self) -> None:
        img = self.full
        z = ZOOMS[self.zoom]
        if img is not None and z > 1:
            img = img.crop(crop_box(img.size, z, self.centre))
        self.query_one("#view-img", FitImage).image = img
        size = f"{self.full.width}×{self.full.height} px" if self.full is not None else "cannot be read"
        zoom = (f"zoom {z:g}× (arrows pan, - zooms out)" if z > 1 else "+ zooms in") if self.full else ""
        self.query_one("#view-title", Static).update(
            f"[b]{self.index + 1} / {self.count}[/b]  {self.path.name}  {size}  · n/p next/previous · {zoom}")

    def action_step(self, step: int) -> None:
        index = max(0, min(self.count - 1, self.index + step))
        if index != self.index:
            self.index = index
            self.show()

    def action_arrow(self, dx: int, dy: int) -> None:
        z = ZOOMS[self.zoom]
        if z > 1:
            lo, hi = 0.5 / z, 1 - 0.5 / z  # the centre of a crop that stays inside the image
            self.centre = (min(max(self.centre[0] + dx * PAN, lo), hi), min(max(self.centre[1] + dy * PAN, lo), hi))
            self.redraw()
        else:
            self.action_step(dx or dy)

    def action_zoom(self, step: int) -> None:
        zoom = max(0, min(len(ZOOMS) - 1, self.zoom + step))
        if zoom != self.zoom and self.full is not None:
            self.zoom = zoom
            if ZOOMS[zoom] == 1:
                self.centre = (0.5, 0.5)
            self.redraw()

    def action_close(self) -> None:
        self.dismiss(self.index)
