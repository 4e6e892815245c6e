"""The Review gallery on a queue of 1,200 images: what each tile shows must be true.

Invariant checked after every key pattern (row scrolls, page moves, Home/End, bursts of 40
keys): the tile at grid position i (read from where it is drawn, not from a list) shows queue
item top + i, its image widget holds that item's own thumbnail (each image has a unique colour)
within 1 s of the last key, and only the cursor's tile is highlighted.
"""

from __future__ import annotations

import random
import time

from PIL import Image
from textual import events
from textual_image.widget import HalfcellImage

from classify_tui.core.review_rows import ReviewRow, write_review
from classify_tui.core.workspace import KEPT, Recipe, Row, Workspace
from classify_tui.tui.app import create_app

N = 1200
DEADLINE = 1.0  # seconds from the last key to every visible thumbnail being right


def colour(i: int) -> tuple[int, int, int]:
    return (i % 256, (i // 256) * 40 % 256, 200 - i % 97)


def make_big_ws(tmp_path, n: int = N) -> Workspace:
    ws = Workspace(tmp_path / "datasets" / "big")
    ws.ensure()
    ws.save_recipe(Recipe(labels=["a", "b"], source="digits"))
    rows, queue = {}, []
    for lab in ("a", "b"):
        (ws.root / "images" / lab).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        label = "ab"[i % 2]
        rel = f"images/{label}/{i:05d}.png"
        Image.new("RGB", (12, 12), colour(i)).save(ws.root / rel)
        rows[str(i)] = Row(id=str(i), source=f"s{i}", label=label, status=KEPT, path=rel)
        queue.append(ReviewRow(path=rel, source=f"s{i}", label=label, predicted="ab"[(i + 1) % 2], p_label=0.2,
                               p_predicted=0.8, loss=1.6, split="valid", reasons="", kind="label",
                               suggestion=f"relabel:{'ab'[(i + 1) % 2]}", priority=1 - i / n, basis="test"))
    ws.save_manifest(rows)
    write_review(ws.review_path, queue)
    return ws


def problems(gallery) -> list[str]:
    """Everything untrue about the gallery right now (empty when it shows the truth)."""
    out = []
    shown = sorted((t for t in gallery.tiles if t.display), key=lambda t: (t.region.y, t.region.x))
    expected = min(gallery.page, len(gallery.items) - gallery.top)
    if len(shown) != expected:
        out.append(f"{len(shown)} tiles visible, expected {expected}")
    if not gallery.top <= gallery.cursor < gallery.top + gallery.page:
        out.append(f"cursor {gallery.cursor} off screen (top {gallery.top})")
    for pos, tile in enumerate(shown):
        i = gallery.top + pos
        want = gallery.root / gallery.items[i].path
        if tile.path != want:
            out.append(f"grid position {pos} shows {tile.path and tile.path.name}, expected item {i} ({want.name})")
            continue
        img = tile.query_one(HalfcellImage).image
        if img is None:
            out.append(f"grid position {pos} (item {i}) has no thumbnail")
        elif img.getpixel((0, 0)) != colour(i):
            out.append(f"grid position {pos} (item {i}) holds another image's thumbnail")
        if tile.has_class("-selected") != (i == gallery.cursor):
            out.append(f"grid position {pos} (item {i}) highlight wrong; cursor is {gallery.cursor}")
    return out


async def settled(pilot, gallery, what: str) -> None:
    t0 = time.monotonic()
    while True:
        await pilot.pause(0.02)
        found = problems(gallery)
        if not found:
            return
        if time.monotonic() - t0 > DEADLINE:
            raise AssertionError(f"after {what}: " + "; ".join(found[:6]))


def open_review(tmp_path):
    make_big_ws(tmp_path)
    return create_app(tmp_path / "datasets", tmp_path / "exports", "big", image_widget_class=HalfcellImage)


async def burst(pilot, *keys: str) -> None:
    """Keys as a terminal delivers a held key's auto-repeat: all queued before any is handled."""
    for key in keys:
        event = events.Key(key, None)
        event.set_sender(pilot.app)
        pilot.app._driver.send_message(event)
    await pilot.pause()


async def test_gallery_row_scrolls_pages_home_end(tmp_path):
    app = open_review(tmp_path)
    async with app.run_test(size=(100, 34)) as pilot:
        gallery = app.screen.query_one("#gallery")
        assert len(gallery.items) == N and gallery.rows >= 3 and gallery.cols >= 3
        await settled(pilot, gallery, "opening")
        for k in range(gallery.rows + 3):  # to the bottom row, then one-row scrolls
            await pilot.press("down")
            await settled(pilot, gallery, f"down #{k + 1}")
        assert gallery.top > 0
        for k in range(gallery.rows + 3):  # back up through one-row scrolls
            await pilot.press("up")
            await settled(pilot, gallery, f"up #{k + 1}")
        for key in ("pagedown", "pagedown", "pagedown", "pageup", "end", "pageup", "home", "end"):
            await pilot.press(key)
            await settled(pilot, gallery, key)
        assert gallery.cursor == N - 1
        await pilot.press("home")
        await settled(pilot, gallery, "home")
        assert gallery.cursor == 0 and gallery.top == 0


async def test_gallery_bursts_of_40_keys(tmp_path):
    app = open_review(tmp_path)
    async with app.run_test(size=(100, 34)) as pilot:
        gallery = app.screen.query_one("#gallery")
        await settled(pilot, gallery, "opening")
        await burst(pilot, *["down"] * 40)
        await settled(pilot, gallery, "40 x down")
        assert gallery.cursor == 40 * gallery.cols
        await burst(pilot, *["up"] * 40)
        await settled(pilot, gallery, "40 x up")
        await burst(pilot, "end", *["up"] * 40)
        await settled(pilot, gallery, "end, 40 x up")
        rng = random.Random(9)
        keys = [rng.choice(["up", "down", "left", "right", "pagedown", "pageup"]) for _ in range(40)]
        await burst(pilot, *keys)
        await settled(pilot, gallery, "40 mixed keys")
        await pilot.press(*["down"] * 40)  # one at a time, each handled before the next
        await settled(pilot, gallery, "40 x down, pressed one by one")
        await burst(pilot, *["down", "down", "right"] * 13, "home")
        await settled(pilot, gallery, "burst then home")
        assert gallery.cursor == 0


async def test_gallery_keeps_its_invariant_at_160x50_and_after_resize(tmp_path):
    app = open_review(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        gallery = app.screen.query_one("#gallery")
        await settled(pilot, gallery, "opening")
        await burst(pilot, *["down"] * 40)
        await settled(pilot, gallery, "40 x down")
        await pilot.resize_terminal(90, 30)
        await settled(pilot, gallery, "resize to 90x30")
        await burst(pilot, *["up"] * 7)
        await settled(pilot, gallery, "7 x up after resize")
