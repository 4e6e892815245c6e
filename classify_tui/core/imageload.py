"""Reading images for the model: squished to size x size RGB.

Every pass (training, validation, review scoring) reads through here, so every pass gets the
same preprocessing as the export (squish, bilinear, RGB) and the same cheap decode: JPEGs are
decoded at a reduced DCT scale when they are much bigger than needed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def load_squished(path: Path | str, size: int):
    """(size, size, 3) uint8 array: the image squished to a square, as the export's transform does."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        if im.format == "JPEG":
            im.draft("RGB", (size, size))  # decode at 1/2, 1/4 or 1/8 scale when that still covers size
        rgb = im.convert("RGB")
    if rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.BILINEAR)
    return np.array(rgb, dtype=np.uint8)  # a writable copy: torch.from_numpy warns on read-only arrays


class SquishedImages:
    """A map-style dataset of (uint8 CHW tensor, target, position); picklable for worker processes.

    ``positions`` name each item's place in the caller's full list (default: its own index), so a
    subset's batches still say which image they hold.
    """

    def __init__(self, paths: list[Path], targets: list[int], size: int, positions: list[int] | None = None) -> None:
        self.paths, self.targets, self.size = [str(p) for p in paths], list(targets), size
        self.positions = list(positions) if positions is not None else list(range(len(self.paths)))

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        import torch

        arr = load_squished(self.paths[i], self.size)
        return torch.from_numpy(arr).permute(2, 0, 1).contiguous(), self.targets[i], self.positions[i]


def batched_arrays(paths: list[Path], size: int, batch_size: int, workers: int = 2,
                   load: Callable[[Path | str, int], Any] = load_squished) -> Iterator[Any]:
    """uint8 (B, H, W, 3) numpy batches in order, decoded by ``workers`` threads two batches
    ahead, or in the caller's thread when ``workers`` is 0."""
    import numpy as np

    chunks = [paths[i : i + batch_size] for i in range(0, len(paths), batch_size)]
    if workers <= 0:
        for chunk in chunks:
            yield np.stack([load(p, size) for p in chunk])
        return
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode") as pool:
        pending: deque[list[Any]] = deque()
        for chunk in chunks[:2]:
            pending.append([pool.submit(load, p, size) for p in chunk])
        nxt = 2
        while pending:
            futures = pending.popleft()
            if nxt < len(chunks):
                pending.append([pool.submit(load, p, size) for p in chunks[nxt]])
                nxt += 1
            yield np.stack([f.result() for f in futures])
