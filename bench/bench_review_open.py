"""Open a 5,000-image review queue in the TUI and page through it (headless Textual).

Ours: the virtualised gallery (only visible tiles exist; thumbnails decoded lazily in a worker
and cached). Peer: the eager approach of a notebook cleaner, decoding every thumbnail before
showing anything. Goal: the queue opens in under a second and each page fills quickly.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from PIL import Image

from classify_tui.core.review_rows import ReviewRow, write_review
from classify_tui.core.workspace import KEPT, Recipe, Row, Workspace
from classify_tui.tui.thumbs import ThumbCache

N, LABELS = 5000, ["cat", "dog", "bird", "fish"]


def make_workspace(root: Path) -> Workspace:
    """5,000 distinct 400x300 JPEG 'photos' and a review.csv that ranks them."""
    ws = Workspace(root / "big")
    ws.ensure()
    ws.save_recipe(Recipe(labels=LABELS, source="digits"))
    rows, queue = {}, []
    base = Image.linear_gradient("L").resize((400, 300))
    for i in range(N):
        label = LABELS[i % 4]
        rel = f"images/{label}/{i:05d}.jpg"
        (ws.root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.merge("RGB", (base, base.rotate(i % 360), Image.new("L", (400, 300), i % 256))).save(ws.root / rel, quality=80)
        rows[str(i)] = Row(id=str(i), source=f"s{i}", label=label, status=KEPT, path=rel)
        other = LABELS[(i + 1) % 4]
        queue.append(ReviewRow(path=rel, source=f"s{i}", label=label, predicted=other, p_label=0.1, p_predicted=0.8,
                               loss=2.3, split="train", reasons=f"looks like {other!r} (p=0.80)", kind="label",
                               suggestion=f"relabel:{other}", priority=1 - i / N, basis="out-of-fold models"))
    ws.save_manifest(rows)
    write_review(ws.review_path, queue)
    return ws


async def ours(root: Path) -> tuple[float, float, float]:
    from textual_image.widget import HalfcellImage

    from classify_tui.tui.app import create_app

    app = create_app(root, root / "exports", image_widget_class=HalfcellImage)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        t0 = time.perf_counter()
        app.open_review(Workspace(root / "big"))
        await pilot.pause()
        t_open = time.perf_counter() - t0  # screen mounted, tiles bound, queue of 5,000 read
        await app.workers.wait_for_complete()
        await pilot.pause()
        t_filled = time.perf_counter() - t0  # every visible thumbnail decoded and shown
        gallery = app.screen.query_one("#gallery")
        assert len(gallery.items) == N and all(t.query_one(".tile-img").image is not None for t in gallery.tiles)

        async def per_key(key: str, n: int) -> float:
            """Mean seconds from a key press to the screen settling with its thumbnails."""
            t = time.perf_counter()
            for _ in range(n):
                await pilot.press(key)
                await app.workers.wait_for_complete()
                await pilot.pause()
            return (time.perf_counter() - t) / n

        t_page = await per_key("pagedown", 20)
        await per_key("home", 1)
        for _ in range(gallery.rows - 1):  # to the last visible row; next "down" scrolls a row
            await pilot.press("down")
        t_row = await per_key("down", 2 * gallery.rows)  # rows decoded already (page 1 + prefetch)
        t_tile = await per_key("right", gallery.cols - 1)  # within a row: only two tiles change
    return t_open, t_filled, t_page, t_row, t_tile


def eager(ws: Workspace) -> float:
    t0 = time.perf_counter()
    cache = ThumbCache(max_items=N)
    for p in sorted((ws.root / "images").rglob("*.jpg")):
        cache.get(p)
    return time.perf_counter() - t0


def main() -> None:
    root = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    ws = make_workspace(root)
    print(f"made {N} JPEGs in {time.perf_counter() - t:.0f}s")
    t_open, t_filled, t_page, t_row, t_tile = asyncio.run(ours(root))
    t_eager = eager(ws)
    print(f"review queue of {N} images at 160x50 (half-cell renderer), 2 CPU cores")
    print(f"  classify-tui: screen up {t_open * 1000:.0f} ms, visible thumbnails filled {t_filled * 1000:.0f} ms, "
          f"page down + fill {t_page * 1000:.0f} ms per page, scroll one row {t_row * 1000:.0f} ms, "
          f"next tile {t_tile * 1000:.0f} ms (includes the test harness's own wait)")
    print(f"  eager (decode every thumbnail first): {t_eager * 1000:.0f} ms before anything shows")
    print(f"  ratio open-to-filled / eager: {t_filled / t_eager:.3f} (goal: filled < 1000 ms)")


if __name__ == "__main__":
    main()
