"""Pilot tests over a fixture workspace (generated images, fake review.csv; no training)."""

import json

from conftest import png_bytes
from textual_image.widget import HalfcellImage

from classify_tui.core.report import Report
from classify_tui.core.review_rows import ReviewRow, write_review
from classify_tui.core.workspace import KEPT, Recipe, Row, Workspace
from classify_tui.tui.app import create_app


def make_ws(tmp_path):
    ws = Workspace(tmp_path / "datasets" / "pets")
    ws.ensure()
    ws.save_recipe(Recipe(labels=["cat", "dog"], source="digits"))
    rows, review = {}, []
    # one row of each kind: im0 looks like a dog, im1 fits no label, im2 is a duplicate, im3 too dark
    kinds = [("label", "relabel:dog", "looks like 'dog' (p=0.90)"), ("outlier", "delete", "fits no label"),
             ("duplicate", "delete", "near duplicate:images/cat/im1.png"), ("quality", "delete", "too dark"),
             ("ok", "keep", ""), ("ok", "keep", "")]
    for i in range(6):
        label = "cat" if i < 3 else "dog"
        rel = f"images/{label}/im{i}.png"
        (ws.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws.root / rel).write_bytes(png_bytes((40 * i, 100, 200), size=(48, 48)))
        rows[f"r{i}"] = Row(id=f"r{i}", source=f"s{i}", label=label, status=KEPT, path=rel)
        pred = "dog" if i == 0 else label
        kind, suggestion, reasons = kinds[i]
        split = "valid" if i % 2 else "train"
        review.append(ReviewRow(path=rel, source=f"s{i}", label=label, predicted=pred, p_label=0.1, p_predicted=0.9,
                                loss=2.3, split=split, reasons=reasons, kind=kind, suggestion=suggestion,
                                priority=1 - i / 6, basis=f"test models ({split})"))
    ws.save_manifest(rows)
    write_review(ws.review_path, review)
    ws.save_report(Report.from_dict({"labels": ["cat", "dog"], "error_rate": 0.25, "confusion_matrix": [[2, 1], [0, 3]],
                    "most_confused": [["cat", "dog", 1]],
                    "misclassified": [["images/cat/im0.png", "cat", "dog"]]}))
    return ws


async def test_confusion_first_then_review_marks_apply_undo(tmp_path):
    ws = make_ws(tmp_path)
    app = create_app(tmp_path / "datasets", tmp_path / "exports", "pets", image_widget_class=HalfcellImage)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "Confusion" in str(app.screen.query_one("#title").render())
        await pilot.press("right", "enter")  # cell cat -> dog
        await pilot.pause()
        assert type(app.screen).__name__ == "ReviewScreen"
        assert len(app.screen.shown) == 1
        await app.workers.wait_for_complete()
        await pilot.pause()
        tile = app.screen.query_one("#gallery").tiles[0]
        assert tile.query_one(".tile-img").image is not None  # a real image is shown
        await pilot.press("d")  # mark cat/im0 for delete
        await pilot.press("c", "l")  # change filters: all cells, label=cat
        await pilot.pause()
        assert "images/cat/im0.png" in app.marks["pets"]  # marks survive filter changes
        await pilot.press("right", "2")  # quick relabel the next cat as label 2 (dog)
        await pilot.press("a")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert (ws.root / "trash/deleted/cat/im0.png").exists()
        assert (ws.root / "images/dog/im1.png").exists()
        await pilot.press("u")  # nothing marked now: undo the apply through the core journal
        await pilot.pause()
        assert (ws.root / "images/cat/im0.png").exists() and (ws.root / "images/cat/im1.png").exists()
        app.save_screenshot(str(tmp_path / "review.svg"))
    svg = (tmp_path / "review.svg").read_text()
    assert "Review" in svg and "pets" in svg


async def test_home_lists_workspaces(tmp_path):
    make_ws(tmp_path)
    app = create_app(tmp_path / "datasets", tmp_path / "exports", image_widget_class=HalfcellImage)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#home-table")
        assert table.row_count == 1
        assert "cat,dog" in json.dumps([str(c) for c in table.get_row_at(0)])
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfusionScreen"
        assert not app.screen.query("HelpPanel")
        await pilot.press("question_mark")
        await pilot.pause()
        panel = app.screen.query("HelpPanel")
        assert panel and panel.first().display  # the key panel opened beside the matrix
