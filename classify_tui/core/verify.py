"""The verify stage: decode, normalise, dedupe, and file each download as kept or rejected."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path

from . import failpoints
from .errors import Cancelled
from .events import Event, OnEvent, StageCounts
from .imagecheck import CheckResult, check_image, grey32
from .prepared import PreparedCache
from .workspace import DOWNLOADED, DUPLICATE, KEPT, REJECTED, Row, Workspace

NEAR_DUP_BITS = 4  # of 64 perceptual-hash bits: a candidate pair; a flag for review, never a removal
# A candidate is a near duplicate only if its 32x32 grey thumbnails also correlate this well. On
# the hash alone, 83 pairs of sklearn's digits (different hands, 10-19 of 255 apart per pixel at
# 8x8) and 11 pairs of distinct crops on the photo bench were called "nearly identical"; their
# thumbnails correlate at 0.89-0.98, while resized, re-encoded (JPEG q40) or brightened copies of
# a photo correlate at >= 0.996.
NEAR_DUP_CORR = 0.99


def _checks(paths: list[str], min_side: int, workers: int, cancel: threading.Event,
            cache: PreparedCache | None = None) -> Iterable[CheckResult]:
    """Check files on all cores, in order.

    Threads, not processes: Pillow releases the GIL while decoding, so on 200 1024x768 JPEGs
    two threads took 1.09 s against 1.27 s for a spawn process pool and 1.80 s serial, with no
    process start-up, no pickling, and no ``if __name__ == "__main__"`` needed by callers.
    """
    if workers <= 1:
        for p in paths:
            if cancel.is_set():
                raise Cancelled()
            yield check_image(p, min_side, cache=cache)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify") as pool:
        futures = [pool.submit(check_image, p, min_side, cache=cache) for p in paths]
        try:
            for fut in futures:
                if cancel.is_set():
                    raise Cancelled()
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()


def _flag(row: Row, flag: str) -> None:
    parts = [f for f in row.flags.split(";") if f]
    if flag not in parts:
        parts.append(flag)
    row.flags = ";".join(parts)


def _move(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)


def _locate_input(ws: Workspace, row: Row) -> Path | None:
    """The raw file for a downloaded row: in incoming/, or already moved by a crashed run."""
    p = ws.incoming / row.id
    if p.exists():
        return p
    for found in ws.images.glob(f"*/{row.id}.*"):
        return found
    return None


def verify_rows(
    ws: Workspace,
    rows: dict[str, Row],
    min_side: int,
    on_event: OnEvent,
    cancel: threading.Event | None = None,
    workers: int | None = None,
    size: int = 0,
) -> dict[str, int]:
    """Verify every ``downloaded`` row in place; returns counts by outcome.

    With a training ``size``, big photos also get their prepared copy (core/prepared.py) from
    the decode verify does anyway, so training never decodes them at full size."""
    cancel = cancel or threading.Event()
    workers = workers or os.cpu_count() or 1
    todo = [r for r in rows.values() if r.status == DOWNLOADED]
    inputs: list[tuple[Row, Path]] = []
    for row in todo:
        src = _locate_input(ws, row)
        if src is None:
            row.status, row.reason = REJECTED, "downloaded file went missing before verify"
        else:
            inputs.append((row, src))
    by_sha: dict[str, Row] = {r.sha256: r for r in rows.values() if r.status == KEPT and r.sha256}
    counts = {"kept": 0, "rejected": 0, "duplicate": 0, "prepared": 0}
    total = len(inputs)
    on_event(Event("verify", "start", f"verifying {total} files", 0, total))
    cache = PreparedCache(ws.root / "cache", size) if size else None
    checks = _checks([str(p) for _, p in inputs], min_side, workers, cancel, cache)
    for i, ((row, src), res) in enumerate(zip(inputs, checks)):
        row.width, row.height, row.quality = res.width, res.height, res.quality
        counts["prepared"] += int(res.prepared)
        if not res.ok:
            row.status, row.reason, row.path = REJECTED, res.reason, ""
            row.trash = f"trash/rejected/{row.id}"
            _move(src, ws.root / row.trash)
            counts["rejected"] += 1
        else:
            row.sha256, row.phash = res.sha256, res.phash
            final = Path("images") / row.label / f"{row.id}.{res.ext}"
            first = by_sha.get(res.sha256)
            if first is not None and first.id != row.id:
                row.status, row.path, row.dup_of = DUPLICATE, "", first.path
                if first.label != row.label:
                    row.reason = f"label conflict: same image kept as {first.label!r} ({first.path})"
                    _flag(first, f"cross-label duplicate:{row.label}")
                else:
                    row.reason = f"exact duplicate of {first.path}"
                row.trash = f"trash/duplicate/{row.id}.{res.ext}"
                _move(Path(res.out) if res.out else src, ws.root / row.trash)
                if res.out and src.exists():
                    _move(src, ws.root / "trash" / "replaced" / row.id)
                counts["duplicate"] += 1
            else:
                if res.out:  # normalised copy replaces the original; the original goes to trash
                    _move(Path(res.out), ws.root / final)
                    _move(src, ws.root / "trash" / "replaced" / row.id)
                    row.trash = f"trash/replaced/{row.id}"
                elif src != ws.root / final:
                    _move(src, ws.root / final)
                row.status, row.reason, row.path = KEPT, "", final.as_posix()
                by_sha[res.sha256] = row
                counts["kept"] += 1
        failpoints.point("verify")
        if (i + 1) % 50 == 0 or i + 1 == total:
            on_event(Event("verify", "progress", "", i + 1, total, StageCounts(dict(counts))))
    flag_near_duplicates(list(rows.values()), ws.root)
    return counts


def hamming_pairs(hashes: list[int], max_bits: int) -> list[tuple[int, int, int]]:
    """All index pairs whose 64-bit hashes differ in at most ``max_bits`` bits."""
    import numpy as np

    if len(hashes) < 2:
        return []
    arr = np.array(hashes, dtype=np.uint64)
    out: list[tuple[int, int, int]] = []
    for i in range(0, len(arr), 512):
        block = arr[i : i + 512]
        x = block[:, None] ^ arr[None, :]
        if hasattr(np, "bitwise_count"):
            bits = np.bitwise_count(x)
        else:  # numpy < 2
            bits = np.unpackbits(x.view(np.uint8), axis=-1).reshape(x.shape[0], x.shape[1], 64).sum(-1)
        ii, jj = np.nonzero(bits <= max_bits)
        for a, b in zip(ii + i, jj):
            if a < b:
                out.append((int(a), int(b), int(bits[a - i, b])))
    return out


def thumbnail_vector(path: Path):
    """The zero-mean, unit-norm 32x32 grey thumbnail a near-duplicate check compares (None if
    the file cannot be read); JPEGs decode at a reduced scale."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.format == "JPEG":
                im.draft("L", (64, 64))
            grey = grey32(im)
    except (OSError, ValueError):
        return None
    grey -= grey.mean()
    norm = float(np.linalg.norm(grey))
    return grey / norm if norm > 0 else grey


def flag_near_duplicates(rows: list[Row], root: Path, max_bits: int = NEAR_DUP_BITS,
                         min_corr: float = NEAR_DUP_CORR) -> int:
    """Flag kept rows (files under the workspace ``root``) whose perceptual hashes are close and
    whose thumbnails confirm it (NEAR_DUP_CORR). Returns the number of flagged pairs."""
    kept = [r for r in rows if r.status == KEPT and r.phash]
    for r in kept:
        r.flags = ";".join(f for f in r.flags.split(";") if f and not f.startswith("near duplicate"))
    pairs = hamming_pairs([int(r.phash, 16) for r in kept], max_bits)
    thumbs: dict[int, object] = {}

    def thumb(i: int):
        if i not in thumbs:
            thumbs[i] = thumbnail_vector(root / kept[i].path)
        return thumbs[i]

    def confirmed(a: int, b: int) -> bool:
        ta, tb = thumb(a), thumb(b)
        return ta is not None and tb is not None and float((ta * tb).sum()) >= min_corr

    per_row: dict[int, int] = {}
    flagged = 0
    for a, b, _d in sorted(pairs, key=lambda p: p[2]):
        if per_row.get(a, 0) >= 3 or per_row.get(b, 0) >= 3:
            continue  # three look-alikes are enough to act on; keep the flags readable
        if not confirmed(a, b):
            continue
        per_row[a] = per_row.get(a, 0) + 1
        per_row[b] = per_row.get(b, 0) + 1
        ra, rb = kept[a], kept[b]
        kind = "near duplicate" if ra.label == rb.label else "near duplicate (other label)"
        _flag(ra, f"{kind}:{rb.path}")
        _flag(rb, f"{kind}:{ra.path}")
        flagged += 1
    return flagged
