"""A large view of one image with its details (Enter or space from a gallery)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ..widgets.fitimage import FitImage


class ImageView(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,space,q", "dismiss", "Close", id="view.close")]

    def __init__(self, path: Path, details: str) -> None:
        super().__init__()
        self.path, self.details = path, details

    def compose(self) -> ComposeResult:
        with Vertical(id="view-box"):
            yield FitImage(self.app.image_widget_class, str(self.path), id="view-img")
            yield Static(self.details, id="view-details")
        yield Footer()
