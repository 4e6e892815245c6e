"""Lazily decoded, cached thumbnails: a 5,000-image queue only ever decodes what is on screen."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from PIL import Image, ImageOps


class ThumbCache:
    """LRU of small RGB thumbnails keyed by path and mtime, safe to fill from worker threads."""

    def __init__(self, max_items: int = 600, box: tuple[int, int] = (160, 160)) -> None:
        self.max_items, self.box = max_items, box
        self._items: OrderedDict[tuple[str, float], Image.Image] = OrderedDict()
        self._lock = threading.Lock()
        self._copies: dict[str, Path] = {}  # original -> its small prepared copy (core/prepared.py)

    def add_copies(self, copies: dict[str, Path]) -> None:
        """Decode these originals from their prepared copies: a 448 px JPEG instead of a 4000 px one."""
        with self._lock:
            self._copies.update(copies)

    def _key(self, path: Path) -> tuple[str, float] | None:
        try:
            return str(path), path.stat().st_mtime
        except OSError:
            return None

    def cached(self, path: Path) -> Image.Image | None:
        return self._lookup(self._key(path))

    def _lookup(self, key: tuple[str, float] | None) -> Image.Image | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def get(self, path: Path) -> Image.Image | None:
        """The thumbnail, decoding it if needed; None for a missing or broken file."""
        key = self._key(path)  # one stat per call
        if key is None:
            return None
        hit = self._lookup(key)
        if hit is not None:
            return hit
        source = self._copies.get(str(path), path)
        try:
            with Image.open(source) as im:
                im.draft("RGB", self.box)  # JPEGs decode at reduced scale: big photos stay cheap
                im = ImageOps.exif_transpose(im)
                im.thumbnail(self.box)
                thumb = im.convert("RGB")
        except Exception:  # noqa: BLE001 - a broken file shows as a blank tile, never a crash
            return None
        with self._lock:
            self._items[key] = thumb
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return thumb
