"""A virtualised gallery: a fixed set of explicitly sized tiles bound to whatever rows are
visible, so opening or scrolling a 5,000-image queue costs only the tiles on screen.

One invariant, checked after every change of ``top``: the tile at grid position i shows queue
item ``top + i``. Binding is idempotent (a tile already showing the right item is left alone),
so every move ends with one pass over all tiles: ``bind_all``. Scrolling by one row first moves
a row of tiles from one end of the grid to the other, in order, so that pass only re-renders
that row; if anything ever ends up elsewhere, the pass re-binds it.

Thumbnails: a tile shows its own thumbnail from the shared cache or nothing, never another
item's. One loader thread serves "whatever visible tiles still lack a thumbnail" from the
latest request, so a burst of keys never loses a fill.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from ..thumbs import ThumbCache
from .fitimage import FitImage

TILE_W, TILE_H = 20, 8  # must match .tile in app.tcss; an unsized image widget collapses to one cell


class Tile(Vertical):
    """One gallery cell: a thumbnail and a caption, bound to one queue index at a time."""

    def __init__(self, image_cls: type) -> None:
        # children exist from the start, so a tile can be bound before it is mounted
        self._img = FitImage(image_cls, classes="tile-img")
        self._cap = Static("", classes="tile-cap")
        super().__init__(self._img, self._cap, classes="tile")
        self.index: int | None = None  # the queue item shown; None: nothing
        self.path: Path | None = None
        self.has_thumb = False
        self._caption: str | None = None

    def bind(self, index: int | None, path: Path | None, caption: str, selected: bool, thumb: Any) -> None:
        """Show item ``index``; only what differs from what is shown is touched."""
        self.index = index
        if self.display != (path is not None):
            self.display = path is not None
        if self.has_class("-selected") != selected:
            self.set_class(selected, "-selected")
        if caption != self._caption:
            self._caption = caption
            self._cap.update(caption, layout=False)  # a fixed 20x3 box: no layout pass per key
        if path != self.path:
            self.path = path
            self.set_thumb(thumb)

    def set_thumb(self, thumb: Any) -> None:
        self.has_thumb = thumb is not None
        self._img.image = thumb

    def on_click(self) -> None:
        if self.index is not None:
            self.parent.move_to(self.index)


class Gallery(Widget, can_focus=True):
    BINDINGS = [
        Binding("left", "move(-1)", "Previous image", show=False, id="gallery.left"),
        Binding("right", "move(1)", "Next image", show=False, id="gallery.right"),
        Binding("up", "move_row(-1)", "Row up", show=False, id="gallery.up"),
        Binding("down", "move_row(1)", "Row down", show=False, id="gallery.down"),
        Binding("pageup", "move_page(-1)", "Page up", show=False, id="gallery.pageup"),
        Binding("pagedown", "move_page(1)", "Page down", show=False, id="gallery.pagedown"),
        Binding("home", "move_to_start", "First image", show=False, id="gallery.home"),
        Binding("end", "move_to_end", "Last image", show=False, id="gallery.end"),
        Binding("enter,space", "select", "View", tooltip="the image large, n/p to step", id="gallery.select"),
    ]

    class Highlighted(Message):
        def __init__(self, gallery: Gallery, index: int) -> None:
            super().__init__()
            self.gallery, self.index = gallery, index

    class Selected(Highlighted):
        pass

    class ThumbReady(Message):
        """From the loader thread: a decoded thumbnail (None: the file cannot be read)."""

        def __init__(self, path: Path, thumb: Any) -> None:
            super().__init__()
            self.path, self.thumb = path, thumb

    def __init__(self, root: Path, image_cls: type, caption: Callable[[Any], str],
                 cache: ThumbCache, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root, self.image_cls, self.caption, self.cache = root, image_cls, caption, cache
        self.items: list[Any] = []  # records with a .path relative to root
        self.cursor = 0
        self.top = 0
        self.cols, self.rows = 1, 1
        self.tiles: list[Tile] = []  # always in grid (DOM) order
        # the loader's work order, replaced wholesale on the UI thread after every bind
        self._lock = threading.Lock()
        self._want: tuple[Path, ...] = ()
        self._prefetch: tuple[Path, ...] = ()
        self._dirty = False
        self._loading = False
        self._unreadable: set[Path] = set()

    # -- data ---------------------------------------------------------------------------------
    def set_items(self, items: list[Any], keep_cursor: bool = False) -> None:
        self.items = items
        self._unreadable.clear()
        if not keep_cursor:
            self.cursor = self.top = 0
        self.cursor = min(self.cursor, max(len(items) - 1, 0))
        self._scroll_to_cursor()
        for tile in self.tiles:
            tile.index = None  # the same index may now be another record: re-bind everything
        self.bind_all()
        self.post_message(self.Highlighted(self, self.cursor))

    @property
    def current(self) -> Any | None:
        return self.items[self.cursor] if 0 <= self.cursor < len(self.items) else None

    @property
    def page(self) -> int:
        return self.cols * self.rows

    def path_of(self, index: int) -> Path:
        return self.root / self.items[index].path

    # -- layout -------------------------------------------------------------------------------
    def on_resize(self) -> None:
        cols = max(1, (self.size.width + 1) // (TILE_W + 1))
        rows = max(1, self.size.height // TILE_H)
        if (cols, rows) != (self.cols, self.rows) or len(self.tiles) != cols * rows:
            self.cols, self.rows = cols, rows
            self.styles.grid_size_columns = cols
            self.remove_children()
            self.tiles = [Tile(self.image_cls) for _ in range(cols * rows)]
            self.mount_all(self.tiles)
            self.top = 0 if self.cursor < self.page else self.top
            self._scroll_to_cursor()
            self.call_after_refresh(self.bind_all)

    def _scroll_to_cursor(self) -> None:
        c = self.cols
        top = self.top - self.top % c
        if self.cursor < top:
            top = self.cursor - self.cursor % c
        elif self.cursor >= top + self.page:
            top = self.cursor - self.cursor % c - (self.rows - 1) * c
        self.top = max(0, top)

    def bind_all(self) -> None:
        """Make tile i show item top + i (with the cursor highlighted) and ask for missing thumbnails."""
        for slot, tile in enumerate(self.tiles):
            self._bind(tile, self.top + slot)
        self._request_thumbs()

    def _bind(self, tile: Tile, i: int) -> None:
        if i >= len(self.items):
            tile.bind(None, None, "", False, None)
            return
        path = self.path_of(i)
        thumb = self.cache.cached(path) if path != tile.path else None
        tile.bind(i, path, self.caption(self.items[i]), i == self.cursor, thumb)

    def refresh_item(self, index: int) -> None:
        """Re-draw one item's caption (its mark changed); nothing else moves."""
        slot = index - self.top
        if 0 <= slot < len(self.tiles) and index < len(self.items):
            self._bind(self.tiles[slot], index)

    def _rotate(self, rows: int) -> None:
        """Scroll one row by moving one row of tiles to the other end of the grid, keeping their
        order, so that only that row is re-bound and re-rendered (a full re-bind of 30 half-cell
        tiles took ~230 ms). ``bind_all`` afterwards re-binds whatever is not where it belongs."""
        c = self.cols
        if rows > 0:
            anchor = self.tiles[-1]
            for tile in self.tiles[:c]:
                self.move_child(tile, after=anchor)
                anchor = tile
        else:
            anchor = self.tiles[0]
            for tile in reversed(self.tiles[-c:]):
                self.move_child(tile, before=anchor)
                anchor = tile
        self.tiles = [t for t in self.children if isinstance(t, Tile)]

    # -- thumbnails ---------------------------------------------------------------------------
    def _request_thumbs(self) -> None:
        """Replace the loader's work order with what is missing now; start it if idle."""
        want = tuple(t.path for t in self.tiles
                     if t.path is not None and not t.has_thumb and t.path not in self._unreadable)
        near = [*range(self.top + self.page, self.top + 2 * self.page), *range(self.top - self.page, self.top)]
        prefetch = tuple(self.path_of(i) for i in near if 0 <= i < len(self.items))
        with self._lock:
            self._want, self._prefetch, self._dirty = want, prefetch, True
            if self._loading or not (want or prefetch):
                return
            self._loading = True
        self._loader()

    @work(thread=True, group="thumbs", exit_on_error=False)
    def _loader(self) -> None:
        worker = get_current_worker()
        try:
            while not worker.is_cancelled:
                with self._lock:
                    if not self._dirty:
                        self._loading = False
                        return
                    self._dirty = False
                    want, prefetch = self._want, self._prefetch
                for path in want:
                    if self._dirty or worker.is_cancelled:
                        break  # a newer request: serve that one
                    self.post_message(self.ThumbReady(path, self.cache.get(path)))
                else:
                    for path in prefetch:  # the pages around, so the next page move is instant
                        if self._dirty or worker.is_cancelled:
                            break
                        self.cache.get(path)
        finally:
            with self._lock:
                self._loading = False

    def on_gallery_thumb_ready(self, message: ThumbReady) -> None:
        message.stop()
        if message.thumb is None:
            self._unreadable.add(message.path)  # shown blank; not asked for again
            return
        for tile in self.tiles:
            if tile.path == message.path and not tile.has_thumb:
                tile.set_thumb(message.thumb)

    # -- movement -----------------------------------------------------------------------------
    def move_to(self, index: int) -> None:
        if not self.items:
            return
        index = max(0, min(index, len(self.items) - 1))
        old_top = self.top
        self.cursor = index
        self._scroll_to_cursor()
        shift = (self.top - old_top) // self.cols
        if shift in (1, -1) and self.rows > 1 and len(self.tiles) == self.page:
            self._rotate(shift)
        self.bind_all()
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
