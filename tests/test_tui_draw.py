"""The Export screen's canvas (d): Pilot mouse strokes and keys draw digits that a real exported
digits model reads, c clears, s saves the drawing through the workspace's import path."""

from __future__ import annotations

import io
import math
import shutil

import numpy as np
import pytest
from exportkit import digits_probe_workspace
from PIL import Image
from textual_image.widget import HalfcellImage

from classify_tui.core.drawing import digit_pixels
from classify_tui.core.rerun import stages_done
from classify_tui.core.workspace import KEPT, Workspace
from classify_tui.tui.app import create_app
from classify_tui.tui.widgets.canvas import Canvas

pytestmark = pytest.mark.slow  # fits a model head (seconds)

SIZE = (100, 36)


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """datasets/digits (labels 0-3) and its export; tests that change the workspace copy it."""
    root = tmp_path_factory.mktemp("drawn")
    digits_probe_workspace(root)
    return root


def fresh_copy(probe, tmp_path):
    shutil.copytree(probe / "datasets", tmp_path / "datasets")
    return Workspace(tmp_path / "datasets" / "digits")


async def open_draw(app, pilot):
    """Export screen, then d: the draw screen with its model loaded."""
    await pilot.pause()
    app.open_export(Workspace(app.datasets / "digits"))
    await pilot.pause()
    assert type(app.screen).__name__ == "ExportScreen"
    await pilot.press("d")
    await pilot.pause()
    screen = app.screen
    assert type(screen).__name__ == "DrawScreen"
    await app.workers.wait_for_complete()  # the model loads as the screen opens
    return screen, screen.query_one(Canvas)


def cell(canvas: Canvas, x: float, y: float) -> tuple[int, int]:
    """The canvas cell (column, row) under the normalised point (x, y)."""
    n, x0, y0 = canvas.grid()
    return x0 + min(int(x * n), n - 1), y0 + min(int(y * n / 2), n // 2 - 1)


async def stroke(pilot, canvas: Canvas, points: list[tuple[float, float]]) -> None:
    """Press at the first point, drag through the others, release at the last."""
    await pilot.mouse_down(canvas, offset=cell(canvas, *points[0]))
    for p in points[1:]:
        await pilot.hover(canvas, offset=cell(canvas, *p))
    await pilot.mouse_up(canvas, offset=cell(canvas, *points[-1]))


async def settle(app, pilot) -> None:
    """Past the debounce, then until the prediction worker is done and its result shown."""
    await pilot.pause(0.3)
    await app.workers.wait_for_complete()
    await pilot.pause()


def shown(screen) -> str:
    return str(screen.query_one("#draw-pred").render())


async def test_mouse_drawn_one_and_zero_are_read_as_1_and_0(probe):
    app = create_app(probe / "datasets", probe / "exports", image_widget_class=HalfcellImage)
    async with app.run_test(size=SIZE) as pilot:
        screen, canvas = await open_draw(app, pilot)
        n, _, _ = canvas.grid()
        assert n >= 40  # a usable square at 100 x 36
        assert "draw a digit" in shown(screen) and screen.prediction is None

        await stroke(pilot, canvas, [(0.5, 0.15 + 0.7 * i / 24) for i in range(25)])  # a 1: one vertical stroke
        assert len(canvas.strokes) == 1 and len(canvas.strokes[0]) > 10  # every dragged cell joined the stroke
        await settle(app, pilot)
        assert screen.prediction.label == "1", screen.prediction
        assert "predicted 1" in shown(screen)
        seen = np.asarray(Image.open(io.BytesIO(screen.seen)).convert("L"))
        assert seen.shape == (32, 32) and seen.min() < 60 and seen[0, 0] > 240  # dark ink on white, like the source

        await pilot.press("c")
        await pilot.pause()
        assert canvas.is_empty and screen.prediction is None and "draw a digit" in shown(screen)
        assert not (canvas._pixel_kinds(n) % 2).any()  # no ink pixel left (1 ink, 3 ink under the brush)

        zero = [(0.5 + 0.2 * math.sin(2 * math.pi * k / 32), 0.5 - 0.32 * math.cos(2 * math.pi * k / 32))
                for k in range(33)]
        await stroke(pilot, canvas, zero)
        await settle(app, pilot)
        assert screen.prediction.label == "0", screen.prediction
        assert "predicted 0" in shown(screen)


async def test_keyboard_paints_moves_and_undoes(probe):
    app = create_app(probe / "datasets", probe / "exports", image_widget_class=HalfcellImage)
    async with app.run_test(size=SIZE) as pilot:
        screen, canvas = await open_draw(app, pilot)
        assert screen.focused is canvas
        await pilot.press(*["up"] * 11)  # the brush from the centre to near the top; nothing painted
        assert canvas.is_empty and canvas.cursor[1] == pytest.approx(0.5 - 11 / 32)
        await pilot.press("space")  # a dab
        assert canvas.strokes == [[canvas.cursor]]
        await pilot.press(*["shift+down"] * 22)  # paints as it moves: a vertical line, a 1
        assert len(canvas.strokes) == 1 and len(canvas.strokes[0]) == 23
        await settle(app, pilot)
        assert screen.prediction.label == "1", screen.prediction
        ink = digit_pixels(canvas.strokes)
        assert ink[:, 2:6].sum() == ink.sum() and ink[:, 3:5].sum() > 0.7 * ink.sum()  # centred, as the source's 1s

        y = 0.5 + 11 / 32  # where the line ended
        await pilot.press("b", "right", "right", "b", "right")  # pen down: the arrows paint; pen up: they move
        assert not canvas.pen_down and len(canvas.strokes) == 2
        assert canvas.strokes[1] == [(0.5, y), (0.5 + 1 / 32, y), (0.5 + 2 / 32, y)]
        assert canvas.cursor == (0.5 + 3 / 32, y)
        await pilot.press("u")  # undo takes the last stroke only
        assert len(canvas.strokes) == 1 and len(canvas.strokes[0]) == 23
        await pilot.press("c")
        await settle(app, pilot)
        assert canvas.is_empty and screen.prediction is None
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "ExportScreen"


async def test_s_saves_the_drawing_through_the_import_path(probe, tmp_path):
    ws = fresh_copy(probe, tmp_path)
    before = ws.load_manifest()
    assert "train" in stages_done(ws)
    app = create_app(tmp_path / "datasets", probe / "exports", image_widget_class=HalfcellImage)
    async with app.run_test(size=SIZE) as pilot:
        screen, canvas = await open_draw(app, pilot)
        await pilot.press("s")  # nothing drawn: nothing to save
        await pilot.pause()
        assert type(app.screen).__name__ == "DrawScreen"

        await stroke(pilot, canvas, [(0.5, 0.15 + 0.7 * i / 24) for i in range(25)])
        await settle(app, pilot)
        drawn = screen.seen
        await pilot.press("s")
        await pilot.pause()
        assert type(app.screen).__name__ == "SaveAs"
        await pilot.press("escape")  # cancelled: nothing saved
        await pilot.pause()
        assert ws.load_manifest().keys() == before.keys()

        await pilot.press("s")
        await pilot.pause()
        await pilot.press("1")  # the digit key picks the label
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert type(app.screen).__name__ == "DrawScreen"
        assert canvas.is_empty  # saved: ready for the next drawing

    rows = ws.load_manifest()
    new = [r for k, r in rows.items() if k not in before]
    assert len(new) == 1
    row = new[0]
    assert (row.label, row.status, row.query) == ("1", KEPT, "drawn") and row.source.startswith("drawn:")
    assert row.path == f"images/1/{row.id}.png" and (row.width, row.height) == (32, 32) and row.sha256
    saved = np.asarray(Image.open(ws.root / row.path).convert("RGB"))
    assert np.array_equal(saved, np.asarray(Image.open(io.BytesIO(drawn)).convert("RGB")))
    assert not (ws.incoming / row.id).exists()
    added = [r for r in ws.read_journal() if r.get("op") == "add_image"]
    assert [(r["row"], r["label"]) for r in added] == [(row.id, "1")]
    assert "train" not in stages_done(ws)  # the stale mark: the next build retrains


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_draw_screen_is_usable_at_80x24_and_160x50(probe, tmp_path, size):
    from textual.widgets._footer import FooterKey

    app = create_app(probe / "datasets", probe / "exports", image_widget_class=HalfcellImage)
    async with app.run_test(size=size) as pilot:
        screen, canvas = await open_draw(app, pilot)
        n, x0, y0 = canvas.grid()
        assert n >= (42 if size[0] == 80 else 90)  # pixels on a side: square, under the title and hint
        assert canvas.region.right + 34 <= size[0] and screen.query_one("#draw-side").region.x == canvas.region.right
        for key, active in screen.active_bindings.items():
            assert active.binding.system or active.binding.description, key
        keys = [k for k in screen.query(FooterKey) if k.display]
        assert {k.key for k in keys} >= {"space", "b", "c", "u", "s", "escape"}
        assert max(k.region.right for k in keys) <= size[0]  # the whole footer is on screen
        await pilot.press(*["up"] * 8, *["shift+down"] * 16)
        await settle(app, pilot)
        assert screen.prediction.label == "1"
        app.save_screenshot(str(tmp_path / "draw.svg"))
    svg = (tmp_path / "draw.svg").read_text()
    assert "Draw" in svg and "predicted" in svg and "▀" in svg
