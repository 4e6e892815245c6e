"""A virtualised gallery: a fixed set of explicitly sized tiles re-bound to whatever rows are
visible, so opening or scrolling a 5,000-image queue costs only the tiles on screen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from ..thumbs import ThumbCache
from .fitimage import FitImage

TILE_W, TILE_H = 20, 8  # must match .tile in app.tcss; an unsized image widget collapses to one cell


class Tile(Vertical):
    """One gallery cell: a thumbnail and a caption."""

    def __init__(self, image_cls: type, slot: int) -> None:
        super().__init__(classes="tile")
        self.image_cls, self.slot = image_cls, slot
        self.path: Path | None = None

    def compose(self) -> ComposeResult:
        yield FitImage(self.image_cls, classes="tile-img")
        yield Static("", classes="tile-cap")

    def show(self, path: Path | None, caption: str, selected: bool, thumb) -> None:
        self.display = path is not None
        self.set_class(selected, "-selected")
        self.query_one(".tile-cap", Static).update(caption)
        if path != self.path or thumb is not None:
            self.path = path
            self.query_one(".tile-img").image = thumb

    def on_click(self) -> None:
        self.parent.move_to(self.parent.top + self.slot)


class Gallery(Widget, can_focus=True):
    BINDINGS = [
        Binding("left", "move(-1)", "Prev", show=False, id="gallery.left"),
        Binding("right", "move(1)", "Next", show=False, id="gallery.right"),
        Binding("up", "move_row(-1)", "Up", show=False, id="gallery.up"),
        Binding("down", "move_row(1)", "Down", show=False, id="gallery.down"),
        Binding("pageup", "move_page(-1)", "Page up", show=False, id="gallery.pageup"),
        Binding("pagedown", "move_page(1)", "Page down", show=False, id="gallery.pagedown"),
        Binding("home", "move_to_start", show=False, id="gallery.home"),
        Binding("end", "move_to_end", show=False, id="gallery.end"),
        Binding("enter,space", "select", "View", id="gallery.select"),
    ]

    class Highlighted(Message):
        def __init__(self, gallery: Gallery, index: int) -> None:
            super().__init__()
            self.gallery, self.index = gallery, index

    class Selected(Highlighted):
        pass

    def __init__(self, root: Path, image_cls: type, caption: Callable[[Any], str],
                 cache: ThumbCache, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root, self.image_cls, self.caption, self.cache = root, image_cls, caption, cache
        self.items: list[Any] = []  # records with a .path relative to root
        self.cursor = 0
        self.top = 0
        self.cols, self.rows = 1, 1
        self.tiles: list[Tile] = []

    # -- data ---------------------------------------------------------------------------------
    def set_items(self, items: list[Any], keep_cursor: bool = False) -> None:
        self.items = items
        if not keep_cursor:
            self.cursor = self.top = 0
        self.cursor = min(self.cursor, max(len(items) - 1, 0))
        self._scroll_to_cursor()
        self.refresh_tiles()
        self.post_message(self.Highlighted(self, self.cursor))

    @property
    def current(self) -> Any | None:
        return self.items[self.cursor] if 0 <= self.cursor < len(self.items) else None

    @property
    def page(self) -> int:
        return self.cols * self.rows

    # -- layout -------------------------------------------------------------------------------
    def on_resize(self) -> None:
        cols = max(1, (self.size.width + 1) // (TILE_W + 1))
        rows = max(1, self.size.height // TILE_H)
        if (cols, rows) != (self.cols, self.rows) or len(self.tiles) != cols * rows:
            self.cols, self.rows = cols, rows
            self.styles.grid_size_columns = cols
            self.remove_children()
            self.tiles = [Tile(self.image_cls, i) for i in range(cols * rows)]
            self.mount_all(self.tiles)
            self._scroll_to_cursor()
            self.call_after_refresh(self.refresh_tiles)

    def _scroll_to_cursor(self) -> None:
        if self.cursor < self.top:
            self.top = self.cursor - self.cursor % self.cols
        elif self.cursor >= self.top + self.page:
            self.top = self.cursor - self.cursor % self.cols - (self.rows - 1) * self.cols
        self.top = max(0, self.top)

    def refresh_tiles(self, slots: range | None = None) -> None:
        """Re-bind tiles to visible rows; thumbnails missing from the cache load in a worker."""
        missing = []
        for slot in slots if slots is not None else range(len(self.tiles)):
            tile, i = self.tiles[slot], self.top + slot
            if i >= len(self.items):
                tile.show(None, "", False, None)
                continue
            path = self.root / self.items[i].path
            thumb = self.cache.cached(path)
            if thumb is None:
                missing.append(path)
            tile.show(path, self.caption(self.items[i]), i == self.cursor, thumb)
        if missing:
            self.load_thumbs(missing, self.top)

    def _rotate(self, rows: int) -> None:
        """Scroll one row by moving a row of tiles to the other end, so that only that row is
        re-bound and re-rendered; the rest keep their rendered images (a full re-bind of 30
        half-cell tiles took ~230 ms)."""
        c = self.cols
        if rows > 0:
            moved = self.tiles[:c]
            for tile in moved:
                self.move_child(tile, after=self.tiles[-1])
            self.tiles = self.tiles[c:] + moved
            changed = range(len(self.tiles) - c, len(self.tiles))
        else:
            moved = self.tiles[-c:]
            for tile in reversed(moved):
                self.move_child(tile, before=self.tiles[0])
            self.tiles = moved + self.tiles[:-c]
            changed = range(c)
        for slot, tile in enumerate(self.tiles):
            tile.slot = slot
        self.refresh_tiles(changed)

    def refresh_item(self, index: int) -> None:
        slot = index - self.top
        if 0 <= slot < len(self.tiles) and index < len(self.items):
            self.tiles[slot].show(self.root / self.items[index].path, self.caption(self.items[index]),
                                  index == self.cursor, None)

    @work(thread=True, exclusive=True, group="thumbs")
    def load_thumbs(self, missing: list[Path], top: int) -> None:
        for path in missing:
            thumb = self.cache.get(path)
            if thumb is not None:
                self.app.call_from_thread(self._fill, path, thumb)
        # prefetch the next page so paging down is instant
        for i in range(top + self.page, min(top + 2 * self.page, len(self.items))):
            self.cache.get(self.root / self.items[i].path)

    def _fill(self, path: Path, thumb) -> None:
        for tile in self.tiles:  # wherever that image is now (tiles move when scrolling)
            if tile.path == path:
                tile.query_one(".tile-img").image = thumb

    # -- movement -----------------------------------------------------------------------------
    def move_to(self, index: int) -> None:
        if not self.items:
            return
        index = max(0, min(index, len(self.items) - 1))
        old_top, old = self.top, self.cursor
        self.cursor = index
        self._scroll_to_cursor()
        shift = (self.top - old_top) // self.cols
        if shift in (1, -1) and self.rows > 1:
            self._rotate(shift)
            self.refresh_item(old)
            self.refresh_item(index)
        elif self.top != old_top:
            self.refresh_tiles()
        else:
            self.refresh_item(old)
            self.refresh_item(index)
        self.post_message(self.Highlighted(self, index))

    def action_move(self, step: int) -> None:
        self.move_to(self.cursor + step)

    def action_move_row(self, step: int) -> None:
        self.move_to(self.cursor + step * self.cols)

    def action_move_page(self, step: int) -> None:
        self.move_to(self.cursor + step * self.page)

    def action_move_to_start(self) -> None:
        self.move_to(0)

    def action_move_to_end(self) -> None:
        self.move_to(len(self.items) - 1)

    def action_select(self) -> None:
        if self.current is not None:
            self.post_message(self.Selected(self, self.cursor))
