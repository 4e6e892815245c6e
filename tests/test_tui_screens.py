"""Pilot tests for Home/New, Data, Review gallery, large view, Export and SVG screenshots.

Fixtures are generated images and a hand-written manifest; the only model is an untrained
one saved in the export layout (no training inside widget tests)."""

from __future__ import annotations

import re

from conftest import png_bytes
from test_tui import make_ws
from textual_image.widget import HalfcellImage

from classify_tui.core.workspace import DUPLICATE, REJECTED, Row
from classify_tui.tui.app import create_app


def svg_text(path) -> str:
    """The visible text of a Textual SVG screenshot (non-breaking spaces normalised)."""
    return re.sub(r"<[^>]+>", "", path.read_text()).replace("&#160;", " ").replace("\xa0", " ")


def add_data_rows(ws) -> None:
    rows = ws.load_manifest()
    rows["bad"] = Row(id="bad", source="http://x/y.jpg", label="cat", status=REJECTED, reason="not an image (html)")
    (ws.root / "trash/duplicate").mkdir(parents=True, exist_ok=True)
    (ws.root / "trash/duplicate/dup.png").write_bytes(png_bytes((0, 100, 200), size=(48, 48)))
    rows["dup"] = Row(id="dup", source="s-dup", label="dog", status=DUPLICATE, dup_of="images/cat/im0.png",
                      trash="trash/duplicate/dup.png", reason="label conflict")
    rows["r1"].flags = "near duplicate:images/cat/im2.png"
    rows["r2"].flags = "near duplicate:images/cat/im1.png"
    ws.save_manifest(rows)


def app_for(tmp_path, name=None):
    return create_app(tmp_path / "datasets", tmp_path / "exports", name, image_widget_class=HalfcellImage)


async def test_data_screen_counts_rejects_thumbnails_pairs(tmp_path):
    ws = make_ws(tmp_path)
    add_data_rows(ws)
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "DataScreen"
        counts = screen.query_one("#counts-table")
        assert [str(c) for c in counts.get_row("cat")][:4] == ["cat", "3", "0", "1"]  # kept, dup, rejected
        assert [str(c) for c in counts.get_row("dog")][:3] == ["dog", "3", "1"]
        rejected = screen.query_one("#rejected-table")
        assert "not an image (html)" in [str(c) for c in rejected.get_row_at(0)]
        await pilot.press("3")
        await app.workers.wait_for_complete()
        await pilot.pause()
        gallery = screen.query_one("#thumbs-gallery")
        assert len(gallery.items) == 3 and gallery.items[0].label == "cat"
        captions = {r.path: screen._caption(r) for r in gallery.items}  # Review's kinds, in its words
        assert "review: label" in captions["images/cat/im0.png"]
        assert "review: duplicate" in captions["images/cat/im2.png"]
        queued = screen.queue["images/cat/im2.png"]
        queued.kind, queued.reasons = "ok", "hard to learn as 'cat': its label kept losing during training"
        assert "review: hard to learn" in screen._caption(gallery.items[2])
        queued.reasons = ""
        assert "review" not in screen._caption(gallery.items[2])
        assert all(t.query_one(".tile-img").image is not None for t in gallery.tiles[:3])  # lazily loaded
        await pilot.press("l")  # next label
        assert gallery.items[0].label == "dog"
        await pilot.press("4")
        await pilot.pause()
        assert "cross-label duplicate" in str(screen.query_one("#pair-title").render())  # conflicts first
        assert screen.query_one("#pair-a").image is not None and screen.query_one("#pair-b").image is not None
        await pilot.press("n")
        assert "near duplicate" in str(screen.query_one("#pair-title").render())
        app.save_screenshot(str(tmp_path / "data.svg"))
    assert "Duplicates" in svg_text(tmp_path / "data.svg")


async def test_new_form_fetches_live_and_rejects_bad_labels(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert type(app.screen).__name__ == "NewWorkspace"
        form = app.screen
        form.query_one("#new-labels").value = "a,A"
        form.query_one("#new-source").value = "digits"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "duplicate label" in str(form.query_one("#new-error").render())
        assert not (tmp_path / "datasets").exists() or not any((tmp_path / "datasets").iterdir())
        form.query_one("#new-labels").value = "0,1"
        form.query_one("#new-name").value = "tiny"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "DataScreen"
        await app.workers.wait_for_complete()
        await pilot.pause()
        data = app.screen
        kept = int(str(data.query_one("#counts-table").get_row("0")[1]))
        assert kept > 150  # digits 0 from sklearn, fetched, verified and counted live
        assert "Press t to train" in str(data.query_one("#status").render())
    assert (tmp_path / "datasets/tiny/recipe.json").exists()
    assert len(list((tmp_path / "datasets/tiny/images/1").iterdir())) > 150


async def test_review_gallery_large_view_and_paging(tmp_path):
    make_ws(tmp_path)
    app = app_for(tmp_path, "pets")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        gallery = screen.query_one("#gallery")
        assert gallery.cols >= 3 and gallery.rows >= 2  # usable at 80x24
        visible = [t for t in gallery.tiles if t.display]
        assert len(visible) == min(6, gallery.page)
        assert all(t.query_one(".tile-img").image is not None for t in visible)
        assert all(t.query_one(".tile-img").size.width > 4 for t in visible)  # sized, not collapsed
        await pilot.press("end")
        assert gallery.cursor == 5
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ReviewImageView"
        assert str(app.screen.path).endswith(screen.shown[5].path)
        app.save_screenshot(str(tmp_path / "view.svg"))
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
    assert "labelled" in svg_text(tmp_path / "view.svg")


async def test_export_screen_exports_and_predicts(tmp_path):
    import timm

    from classify_tui.core.backbone import DataConfig
    from classify_tui.core.modelio import save_model
    from classify_tui.core.train_stage import model_dir

    ws = make_ws(tmp_path)
    model = timm.create_model("tf_efficientnet_lite0", num_classes=2)  # untrained: widget test
    save_model(model, model_dir(ws), "tf_efficientnet_lite0", ["cat", "dog"], 32,
               DataConfig(mean=(0.5,) * 3, std=(0.5,) * 3, interpolation="bilinear"))
    app = app_for(tmp_path, "pets")
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        screen = app.screen
        assert "not exported yet" in str(screen.query_one("#export-status").render())
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert (tmp_path / "exports/pets/model.safetensors").exists()
        assert 'timm.create_model("local-dir:' in str(screen.query_one("#snippet").render())
        await pilot.press("p")
        await pilot.press(*str(ws.root / "images/dog/im4.png"))
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        out = str(screen.query_one("#predict-out").render())
        assert "cat" in out and "dog" in out and "█" in out
        assert screen.query_one("#predict-img").image is not None
        await pilot.press("escape", "p", "enter")  # leave the box; p refocuses it
        await pilot.press(*"/nonexistent.png", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "cannot read image" in str(screen.query_one("#predict-out").render())
        app.save_screenshot(str(tmp_path / "export.svg"))
    text = svg_text(tmp_path / "export.svg")
    assert "Export" in text and "model.safetensors" in text


async def test_main_screens_screenshots_at_80x24_and_160x50(tmp_path):
    """SVG checks (pytest-textual-snapshot is not used: its syrupy pin needs pytest<9)."""
    make_ws(tmp_path)
    for size in ((80, 24), (160, 50)):
        app = app_for(tmp_path, "pets")
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.save_screenshot(str(tmp_path / "cm.svg"))
            await pilot.press("v")
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
            side = app.screen.query_one("#review-side")
            assert side.display == (size[0] >= 120)  # the large preview only where it fits
            if side.display:
                assert app.screen.query_one("#preview").image is not None
            app.save_screenshot(str(tmp_path / "review.svg"))
        cm, review = svg_text(tmp_path / "cm.svg"), svg_text(tmp_path / "review.svg")
        assert "Confusion" in cm and "cat" in cm and "dog" in cm
        assert "Review" in review and "cat → looks like dog" in review and "Delete" in review
        assert "▀" in (tmp_path / "review.svg").read_text() or "▄" in (tmp_path / "review.svg").read_text()


async def test_quit_stops_a_running_build(tmp_path):
    """q while fetching must stop the worker thread, not leave it running without a UI."""
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#new-source").value = "digits"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "DataScreen" and app.screen.running
        data = app.screen
        app.open_train(data.ws)  # a second build of the same workspace is refused
        await pilot.pause()
        assert app.screen is data and app.build_running(data.ws)
        assert any("already building" in n.message for n in app._notifications)
        await pilot.press("q")
        assert app.cancel_events and all(ev.is_set() for ev in app.cancel_events)


async def test_train_screen_reports_a_failed_build_without_crashing(tmp_path):
    """The build runs in a child process; its expected failure becomes a notification."""
    from classify_tui.core.workspace import Recipe, Workspace

    ws = Workspace(tmp_path / "datasets" / "bad")
    ws.ensure()
    ws.save_recipe(Recipe(labels=["0", "x"], source="digits"))
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert type(app.screen).__name__ == "TrainScreen"
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.screen.running
        assert any("no usable images for label(s) x" in n.message for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "HomeScreen"


async def test_palette_screenshot_without_a_downloads_folder_lands_in_the_working_folder(tmp_path, monkeypatch):
    """Over SSH there is often no ~/Downloads: Textual's screenshot then failed; it now saves here."""
    import asyncio

    import platformdirs

    monkeypatch.setattr(platformdirs, "user_downloads_path", lambda: tmp_path / "no-such-downloads")
    monkeypatch.chdir(tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.action_screenshot()
        for _ in range(100):  # the driver writes in a thread
            if list(tmp_path.glob("*.svg")):
                break
            await asyncio.sleep(0.05)
    shots = list(tmp_path.glob("*.svg"))
    assert len(shots) == 1
    assert shots[0].read_text().startswith('<svg xml:space="preserve" ')  # our export_screenshot made it
