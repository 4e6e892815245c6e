"""Prepared copies of big photos: each decoded at full size once, then read small forever after.

Scraped photos are 1000-4000 px JPEGs; decoding one takes ~20 ms, ten times what the model
needs at 224 px. fastai's lesson 2 calls ``resize_images(max_size=400)`` and overwrites the
originals. Here the originals stay untouched in ``images/`` and a copy whose long side is twice
the training size (at least 256 px) goes to ``cache/<long side>/<sha256[:2]>/<sha256>.jpg``.

The cache is keyed by content, so apply/undo (which move files, never change them) keep it
valid, a new ``--size`` uses another bucket, and deleting ``cache/`` loses nothing: it is
rebuilt on the next pass. Images no bigger than the bucket are read in place.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .errors import Cancelled


def bucket_for(size: int) -> int:
    """Long side of the prepared copies for a training size: room for crops and zoom."""
    return max(2 * size, 256)


@dataclass(frozen=True)
class ImageRef:
    """What the cache needs to know about one kept image (all in the manifest)."""

    path: Path  # the original, absolute
    sha256: str
    width: int
    height: int


@dataclass
class PrepareStats:
    made: int = 0  # full-size decodes done now
    reused: int = 0  # already prepared
    direct: int = 0  # small enough to read in place
    failed: int = 0  # could not be prepared: read in place


class PreparedCache:
    def __init__(self, root: Path, size: int) -> None:
        self.root, self.bucket = Path(root), bucket_for(size)

    def needs_copy(self, ref: ImageRef) -> bool:
        return bool(ref.sha256) and max(ref.width, ref.height) > self.bucket

    def cached_path(self, ref: ImageRef) -> Path:
        return self.root / str(self.bucket) / ref.sha256[:2] / f"{ref.sha256}.jpg"

    def path_for(self, ref: ImageRef) -> Path:
        """Where to read ``ref`` from: its prepared copy if it needs one and has one, else itself."""
        if self.needs_copy(ref):
            cached = self.cached_path(ref)
            if cached.exists():
                return cached
        return ref.path

    def make(self, ref: ImageRef) -> bool:
        """Write the prepared copy of one image; False if the original cannot be read."""
        from PIL import Image

        try:
            with Image.open(ref.path) as im:
                if im.format == "JPEG":
                    im.draft("RGB", (self.bucket, self.bucket))  # a DCT-scaled decode is still >= bucket
                rgb = im.convert("RGB")
        except (OSError, ValueError):
            return False
        return self.write(ref, rgb)

    def write(self, ref: ImageRef, rgb) -> bool:
        """Save the prepared copy of an already decoded image (verify has one in hand; any copy
        at least ``bucket`` px on its long side will do)."""
        from PIL import Image

        small = rgb.copy()
        small.thumbnail((self.bucket, self.bucket), Image.BILINEAR, reducing_gap=2.0)
        dest = self.cached_path(ref)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        small.save(tmp, "JPEG", quality=90)
        os.replace(tmp, dest)  # readers never see half a file
        return True

    def ensure(self, refs: list[ImageRef], workers: int = 2, cancel: threading.Event | None = None,
               progress: Callable[[int, int], None] | None = None) -> PrepareStats:
        """Prepare every image that needs it and lacks it, on ``workers`` threads."""
        stats = PrepareStats()
        todo = []
        for ref in refs:
            if not self.needs_copy(ref):
                stats.direct += 1
            elif self.cached_path(ref).exists():
                stats.reused += 1
            else:
                todo.append(ref)
        if not todo:
            return stats
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="prepare") as pool:
            futures = [pool.submit(self.make, r) for r in todo]
            try:
                for n, fut in enumerate(futures, 1):
                    if cancel is not None and cancel.is_set():
                        raise Cancelled()
                    if fut.result():
                        stats.made += 1
                    else:
                        stats.failed += 1
                    if progress is not None and (n % 25 == 0 or n == len(futures)):
                        progress(n, len(futures))
            finally:
                for fut in futures:
                    fut.cancel()
        return stats


def prepared_copies(root: Path, refs: list[ImageRef], size: int) -> dict[str, Path]:
    """{original path: prepared copy} for the images that have one (for thumbnails)."""
    cache = PreparedCache(Path(root) / "cache", size)
    out: dict[str, Path] = {}
    for ref in refs:
        if cache.needs_copy(ref):
            copy = cache.cached_path(ref)
            if copy.exists():
                out[str(ref.path)] = copy
    return out
