"""What the screens say: the large view, review kinds and captions in words, accepting a
suggestion, overall progress and an honest cancel, keys described, footers that fit, empty
tables that say why. Fixture workspaces only; no training."""

from __future__ import annotations

import re

import pytest
from conftest import png_bytes
from test_tui import make_ws
from test_tui_screens import app_for, svg_text
from textual.widgets._footer import FooterKey
from textual_image.widget import HalfcellImage

from classify_tui.core.events import BatchDone, EpochDone, Event
from classify_tui.core.workspace import KEPT, Recipe, Row, Workspace
from classify_tui.tui.messages import BuildFinished, CoreEvent
from classify_tui.tui.screens.imageview import ImageView
from classify_tui.tui.stageprogress import StageProgress


async def open_review_all(pilot, app):
    await pilot.pause()
    await pilot.press("v")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen


async def test_large_view_holds_the_image_and_steps_and_zooms(tmp_path):
    make_ws(tmp_path).root.joinpath("images/cat/im1.png").write_bytes(png_bytes((9, 9, 9), size=(400, 300)))
    app = app_for(tmp_path, "pets")
    async with app.run_test(size=(100, 30)) as pilot:
        review = await open_review_all(pilot, app)
        gallery = review.query_one("#gallery")
        await pilot.press("enter")
        await pilot.pause()
        view = app.screen
        assert isinstance(view, ImageView)
        inner = view.query_one("#view-img").query_one(HalfcellImage)
        assert inner.image is not None and inner.image.size == (48, 48)  # the image widget holds the image
        assert inner.size.width > 10 and inner.size.height > 5  # fitted to the screen, not a cell
        assert "1 / 6" in str(view.query_one("#view-title").render())
        await pilot.press("n")
        assert view.index == 1 and str(view.path).endswith(review.shown[1].path)
        assert inner.image is not None and inner.image.size == (400, 300)
        w, h = inner.size
        assert abs(w / (2 * h) - 400 / 300) < 0.2  # keeps its shape (cells are about twice as tall)
        await pilot.press("plus", "plus")
        assert view.zoom == 2 and inner.image.size == (200, 150)  # the centre, twice as large
        await pilot.press("right")  # zoomed: arrows pan, they do not step
        assert view.index == 1 and view.centre[0] > 0.5
        await pilot.press("minus", "minus", "right")  # back to the whole image: arrows step again
        assert view.index == 2
        await pilot.press("p", "left", "left")  # never before the first
        assert view.index == 0
        await pilot.press("n", "n", "n", "d")  # the marking keys act on the image shown
        assert review.marks[review.shown[3].path].action == "delete"
        assert "mark: delete" in str(view.query_one("#view-details").render())
        app.save_screenshot(str(tmp_path / "view.svg"))
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is review and gallery.cursor == 3  # the gallery follows the large view
    assert "labelled" in svg_text(tmp_path / "view.svg") and "4 / 6" in svg_text(tmp_path / "view.svg")
    # spaces survive rasterising ("3p=1.000" was rsvg-convert dropping the space after a bold word)
    assert '<svg xml:space="preserve"' in (tmp_path / "view.svg").read_text()


async def test_data_large_view_holds_the_image(tmp_path):
    make_ws(tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("i", "3")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        view = app.screen
        assert isinstance(view, ImageView)
        assert view.query_one("#view-img").query_one(HalfcellImage).image is not None
        await pilot.press("n")
        assert view.index == 1 and view.query_one("#view-img").query_one(HalfcellImage).image is not None


async def test_review_kinds_captions_accept_and_no_auto_advance(tmp_path):
    make_ws(tmp_path)
    app = app_for(tmp_path, "pets")
    async with app.run_test(size=(120, 36)) as pilot:
        review = await open_review_all(pilot, app)
        gallery = review.query_one("#gallery")
        kinds = str(review.query_one("#kinds").render())
        assert "all 6" in kinds and "label 1" in kinds and "outlier 1" in kinds and "ok 2" in kinds
        caption = str(gallery.tiles[0].query_one(".tile-cap").render())
        assert "cat → looks like dog" in caption and "90% · relabel → dog" in caption
        assert "fits no label" in str(gallery.tiles[1].query_one(".tile-cap").render())
        details = str(review.query_one("#details").render())
        assert details.startswith("1 / 6") and "by test models (train)" in details and "suggests relabel → dog" in details
        await pilot.press("y")  # accept: relabel -> dog, and the cursor stays on what was looked at
        assert review.marks["images/cat/im0.png"].label == "dog" and gallery.cursor == 0
        assert "marked: relabel → dog" in str(gallery.tiles[0].query_one(".tile-cap").render())
        assert "mark: relabel → dog" in str(review.query_one("#details").render())
        await pilot.press("right", "y")  # an outlier's suggestion is delete, never a relabel
        assert review.marks["images/cat/im1.png"].action == "delete" and gallery.cursor == 1
        await pilot.press("right", "right", "y")  # quality -> delete; ok rows -> keep
        assert review.marks["images/dog/im3.png"].action == "delete"
        await pilot.press("f")  # kind filter: label issues only
        assert review.kind_filter == "label" and [r.path for r in review.shown] == ["images/cat/im0.png"]
        assert "1 / 1" in str(review.query_one("#title").render())
        await pilot.press("f")
        assert review.kind_filter == "outlier" and len(review.shown) == 1
        await pilot.press("f", "f", "f", "f")  # duplicate, quality, ok, back to all
        assert review.kind_filter is None and len(review.shown) == 6
        await pilot.press("home", "right", "r")  # the relabel picker: the key shown beside a label picks it
        await pilot.pause()
        picker = app.screen
        shown = [str(o.prompt) for o in picker.query_one("OptionList").options]
        key = next(line.split()[0] for line in shown if line.split()[-1] == "dog")
        await pilot.press(key)
        await pilot.pause()
        assert app.screen is review and review.marks["images/cat/im1.png"].label == "dog"  # was delete


async def test_confusion_shows_queue_kinds_and_opens_outliers(tmp_path):
    make_ws(tmp_path)
    app = app_for(tmp_path, "pets")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        help_text = str(app.screen.query_one("#cm-help").render())
        assert "1 label issues" in help_text and "1 outliers" in help_text and "2 without issue" in help_text
        await pilot.press("o")
        await pilot.pause()
        assert type(app.screen).__name__ == "ReviewScreen"
        assert app.screen.kind_filter == "outlier" and [r.path for r in app.screen.shown] == ["images/cat/im1.png"]
        await pilot.press("escape", "right", "enter")  # the cell cat -> dog: exactly report["misclassified"]
        await pilot.pause()
        assert [r.path for r in app.screen.shown] == ["images/cat/im0.png"]
        # the review's prediction for this validation image is the main model's: no note needed
        assert not app.screen.query_one("#cell-note").display
        assert "looks like" in app.screen._caption(app.screen.shown[0])



def epoch_done(epoch: int, epochs: int, error_rate: float = 0.1, **kw) -> EpochDone:
    return EpochDone(epoch, epochs, train_loss=0.5, valid_loss=0.4, error_rate=error_rate, images_per_s=20.0,
                     model_images_per_s=22.0, **kw)

def test_stage_progress_over_several_models_with_time_left():
    now = [0.0]
    p = StageProgress(clock=lambda: now[0])
    p.update(Event("review", "start", "review..."))
    assert p.fraction is None and "review" in p.text()
    for model in range(1, 7):
        for epoch in (1, 2):
            for batch in range(1, 19):
                now[0] += 1
                p.update(Event("review", "batch", "", batch, 18, BatchDone(epoch, 2, loss=0.5, images_per_s=20.0,
                                                                          model=model, models=6)))
                if (model, epoch, batch) == (3, 1, 18):
                    assert abs(p.fraction - 2.5 / 6) < 1e-9
                    # 90 s for 2.5 of 6 models: 126 s to go
                    assert p.text().startswith("[b]review[/b] 42%, about 2 min left · model 3/6 · epoch 1/2")
            p.update(Event("review", "epoch", "epoch", epoch, 2, epoch_done(epoch, 2, model=model, models=6)))
    assert p.fraction == 1.0
    # without model fields (a single model), stage-level progress still gives a bar and a time
    q = StageProgress(clock=lambda: now[0])
    q.update(Event("verify", "start"))
    for done in range(0, 101, 10):
        now[0] += 1
        q.update(Event("verify", "progress", "", done, 100))
    assert q.fraction == 1.0 and q.text() == "[b]verify[/b] 100%"
    # several models that do not say how many: the percentage is said to be this model's only
    r = StageProgress(clock=lambda: now[0])
    for _model in (1, 2):
        for batch in (6, 12):
            now[0] += 10
            r.update(Event("review", "batch", "", batch, 12, BatchDone(1, 1, loss=0.5, images_per_s=20.0)))
    assert r.text().startswith("[b]review[/b] model 2 100% of it ·") and "left" not in r.text()


async def test_train_screen_progress_and_an_honest_cancel(tmp_path, monkeypatch):
    from classify_tui.tui.screens.building import BuildScreen
    from classify_tui.tui.screens.train import TrainScreen

    monkeypatch.setattr(BuildScreen, "start_build", lambda self, **kw: setattr(self, "running", True))
    ws = make_ws(tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(TrainScreen(ws, "train"))
        await pilot.pause()
        screen = app.screen
        events = [Event("train", "start", "train..."),
                  Event("train", "epoch", "epoch 1/1", 1, 1, epoch_done(1, 1, error_rate=0.02)),
                  Event("train", "end", "train done"),
                  Event("review", "start", "review...")]
        events += [Event("review", "batch", "", b, 18, BatchDone(1, 2, loss=0.4, images_per_s=40.0, model=2, models=6))
                   for b in range(1, 10)]
        for ev in events:
            screen.post_message(CoreEvent(ev))
        await pilot.pause()
        bar = screen.query_one("#progress")
        assert bar.total == 1000 and bar.progress == round(1000 * (1 + 0.25) / 6)
        status = str(screen.query_one("#status").render())
        assert status.startswith("review 21%") and "model 2/6 · epoch 1/2 · batch 9/18" in status
        app.save_screenshot(str(tmp_path / "train.svg"))
        await pilot.press("x")
        screen.post_message(BuildFinished(None, screen.CANCELLED))
        await pilot.pause()
        status = str(screen.query_one("#status").render())
        assert "new model (error 0.020) is kept" in status and "review queue is incomplete" in status
        assert "x cancels" not in status and "epoch 1/2" not in status
        assert any("is kept" in n.message for n in app._notifications)
        assert not any("unchanged" in n.message for n in app._notifications)
    text = svg_text(tmp_path / "train.svg")
    assert "model 2/6" in text


async def test_home_and_review_say_review_incomplete(tmp_path):
    ws = make_ws(tmp_path)
    for stage in ("search", "download", "verify", "train"):
        ws.journal("stage_done", stage=stage, counts={})
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        row = [str(c) for c in app.screen.query_one("#home-table").get_row_at(0)]
        assert "review incomplete" in row
        await pilot.press("enter", "v")
        await pilot.pause()
        assert "before the last training" in str(app.screen.query_one("#cell-note").render())


async def test_every_key_is_described_and_footers_fit_at_80(tmp_path):
    make_ws(tmp_path)
    app = app_for(tmp_path)
    seen = set()

    def check(screen) -> None:
        for key, active in screen.active_bindings.items():
            b = active.binding
            if not b.system:
                assert b.description, f"{type(screen).__name__}: key {key} has no description"
        keys = [k for k in screen.query(FooterKey) if k.display]
        assert keys, type(screen).__name__
        assert max(k.region.right for k in keys) <= 80, f"{type(screen).__name__}: footer overflows 80 columns"
        seen.add(type(screen).__name__)

    async with app.run_test(size=(80, 24)) as pilot:
        for keys in ((), ("enter",), ("v",), ("enter",), ("escape", "escape", "e"), ("escape", "escape", "i")):
            await pilot.press(*keys)
            await pilot.pause()
            check(app.screen)
        await pilot.press("escape", "escape")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        app.save_screenshot(str(tmp_path / "keys.svg"))
    assert re.search(r"\^c\s*Quit", svg_text(tmp_path / "keys.svg"))  # not "copy selected text"
    assert seen == {"HomeScreen", "ConfusionScreen", "ReviewScreen", "ReviewImageView", "ExportScreen", "DataScreen"}


async def test_review_help_panel_describes_digits_home_end(tmp_path):
    make_ws(tmp_path)
    app = app_for(tmp_path, "pets")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_review_all(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        app.save_screenshot(str(tmp_path / "help.svg"))
    text = svg_text(tmp_path / "help.svg")
    for key, words in (("0-9", "Relabel as the digit"), ("home", "First image"), ("end", "Last image"),
                       ("y", "Accept"), ("f", "Kind")):
        assert re.search(rf"{key}\s*{words}", text), words


async def test_empty_tables_say_why_and_new_form_hides_per_label_for_digits(tmp_path):
    ws = Workspace(tmp_path / "datasets" / "fresh")
    ws.ensure()
    ws.save_recipe(Recipe(labels=["a", "b"], source="digits"))
    (ws.root / "images/a").mkdir(parents=True)
    (ws.root / "images/a/x.png").write_bytes(png_bytes())
    ws.save_manifest({"x": Row(id="x", source="s", label="a", status=KEPT, path="images/a/x.png")})
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("i", "2")
        await pilot.pause()
        assert not app.screen.query_one("#rejected-table").display
        assert "Nothing rejected" in str(app.screen.query_one("#rejected-empty").render())
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        form.query_one("#new-source").value = "digits"
        await pilot.pause()
        assert form.query_one("#new-per-label").disabled
        assert "not used by digits" in str(form.query_one("#new-per-label-label").render())
        form.query_one("#new-source").value = "ddg"
        await pilot.pause()
        assert not form.query_one("#new-per-label").disabled
    app = app_for(tmp_path.parent / (tmp_path.name + "-none"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "No workspaces" in str(app.screen.query_one("#home-empty").render())


async def test_cancelling_a_resumed_review_keeps_the_trained_model(tmp_path, monkeypatch):
    from classify_tui.tui.screens.building import BuildScreen
    from classify_tui.tui.screens.train import TrainScreen

    monkeypatch.setattr(BuildScreen, "start_build", lambda self, **kw: setattr(self, "running", True))
    ws = make_ws(tmp_path)  # its report says error 0.25
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        app.push_screen(TrainScreen(ws))
        await pilot.pause()
        screen = app.screen
        for ev in (Event("review", "start", "review..."),
                   Event("review", "batch", "", 3, 14, BatchDone(1, 1, loss=0.5, images_per_s=20.0))):
            screen.post_message(CoreEvent(ev))
        screen.post_message(BuildFinished(None, screen.CANCELLED))
        await pilot.pause()
        status = str(screen.query_one("#status").render())
        assert "the trained model (error 0.250) is kept" in status and "review queue is incomplete" in status


async def test_new_form_over_an_existing_workspace_says_what_it_redoes(tmp_path):
    ws = Workspace(tmp_path / "datasets" / "w")
    ws.ensure()
    ws.save_recipe(Recipe(labels=[str(i) for i in range(10)], source="digits", size=64, epochs=3))
    for stage in ("search", "download", "verify", "train", "review", "export"):
        ws.journal("stage_done", stage=stage, counts={})
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        form.query_one("#new-labels").value = "0,1"
        form.query_one("#new-source").value = "digits"
        form.query_one("#new-name").value = "w"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "DataScreen" and app.screen.from_stage == "search"
        assert any("--labels 0,1,2,3,4,5,6,7,8,9 → 0,1: refetching from search" in n.message
                   for n in app._notifications)
        await pilot.press("q")  # stops the fetch


@pytest.mark.parametrize("kind", ["ok", "label"])  # "label": a queue written before 2026-12-01
async def test_a_hard_to_learn_suspect_says_so_and_suggests_nothing(tmp_path, kind):
    """A doubted row whose held-out prediction is still its own label reads 'hard to learn',
    not '3 → looks like 3' nor 'no issue', and y keeps it rather than relabelling."""
    from classify_tui.core.review_rows import ReviewRow, read_review, write_review

    ws = make_ws(tmp_path)
    rows = read_review(ws.review_path)
    rows.insert(0, ReviewRow(path="images/cat/im2.png", source="s2", label="cat", predicted="cat", p_label=0.38,
                             p_predicted=0.38, loss=0.97, split="train", kind=kind, suggestion="keep",
                             reasons="hard to learn as 'cat': its label kept losing during training", priority=0.99))
    rows = [r for i, r in enumerate(rows) if i == 0 or r.path != "images/cat/im2.png"]
    write_review(ws.review_path, rows)
    app = app_for(tmp_path, "pets")
    async with app.run_test(size=(120, 36)) as pilot:
        review = await open_review_all(pilot, app)
        caption = str(review.query_one("#gallery").tiles[0].query_one(".tile-cap").render())
        assert "cat · hard to learn" in caption and "38% sure · check it" in caption and "looks like" not in caption
        assert "label doubt: hard to learn" in str(review.query_one("#details").render())
        await pilot.press("y")
        assert review.marks["images/cat/im2.png"].action == "keep"
