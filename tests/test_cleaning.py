"""Apply and undo through the journal, including a crash injected mid-apply."""

import os

import pytest
from conftest import png_bytes

from classify_tui.cli import main
from classify_tui.core import cleaning
from classify_tui.core.cleaning import Decision, apply_decisions, recover, undo_last
from classify_tui.core.errors import UserError
from classify_tui.core.workspace import KEPT, Recipe, Row, Workspace


@pytest.fixture
def ws(tmp_path):
    ws = Workspace(tmp_path / "datasets" / "w")
    ws.ensure()
    ws.save_recipe(Recipe(labels=["cat", "dog"], source="digits"))
    rows = {}
    for i in range(6):
        label = "cat" if i < 3 else "dog"
        rel = f"images/{label}/img{i}.png"
        (ws.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws.root / rel).write_bytes(png_bytes((i * 40, 0, 0)))
        rows[f"id{i}"] = Row(id=f"id{i}", source=f"s{i}", label=label, status=KEPT, path=rel)
    ws.save_manifest(rows)
    return ws


def files(ws):
    return sorted(str(p.relative_to(ws.root)) for p in (ws.root / "images").rglob("*.png")) + sorted(
        str(p.relative_to(ws.root)) for p in ws.trash.rglob("*.png"))


def test_apply_then_undo_restores_everything(ws):
    before_files, before_rows = files(ws), ws.load_manifest()
    res = apply_decisions(ws, [Decision("images/cat/img0.png", "delete"),
                               Decision("images/cat/img1.png", "relabel", "dog"),
                               Decision("images/dog/img3.png", "keep")])
    assert res.counts == {"delete": 1, "relabel": 1, "keep": 1}
    assert (ws.trash / "deleted" / "cat" / "img0.png").exists()
    assert (ws.root / "images/dog/img1.png").exists() and not (ws.root / "images/cat/img1.png").exists()
    rows = ws.load_manifest()
    assert rows["id0"].status == "deleted" and rows["id0"].path == "" and rows["id0"].reason
    assert rows["id1"].label == "dog" and rows["id1"].path == "images/dog/img1.png"
    assert undo_last(ws) == 2
    assert files(ws) == before_files
    assert ws.load_manifest() == before_rows
    with pytest.raises(UserError, match="nothing to undo"):
        undo_last(ws)


def test_crash_mid_apply_loses_nothing_and_recovers(ws, monkeypatch):
    real = os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")  # dies after the first move
        return real(src, dst)

    monkeypatch.setattr(cleaning.os, "replace", flaky)
    decisions = [Decision(f"images/cat/img{i}.png", "delete") for i in range(3)]
    with pytest.raises(KeyboardInterrupt):
        apply_decisions(ws, decisions)
    monkeypatch.setattr(cleaning.os, "replace", real)
    # Every file is still somewhere: in images/ or in trash/.
    names = [p.rsplit("/", 1)[1] for p in files(ws)]
    assert sorted(names) == [f"img{i}.png" for i in range(6)]
    assert recover(ws) == 1
    rows = ws.load_manifest()
    assert [rows[f"id{i}"].status for i in range(3)] == ["deleted"] * 3
    assert all((ws.root / rows[f"id{i}"].trash).exists() for i in range(3))
    assert recover(ws) == 0
    assert undo_last(ws) == 3
    assert all((ws.root / f"images/cat/img{i}.png").exists() for i in range(3))


def test_bad_decisions_change_nothing(ws):
    before = files(ws)
    with pytest.raises(UserError, match="not a kept image"):
        apply_decisions(ws, [Decision("images/cat/img0.png", "delete"), Decision("images/cat/nope.png", "delete")])
    with pytest.raises(UserError, match="not one of"):
        apply_decisions(ws, [Decision("images/cat/img0.png", "relabel", "horse")])
    assert files(ws) == before


def test_cli_apply_and_undo(ws, tmp_path, capsys):
    dec = tmp_path / "dec.csv"
    dec.write_text("path,action,label\nimages/dog/img4.png,relabel,cat\nimages/dog/img5.png,delete\n")
    base = ["--datasets", str(ws.root.parent)]
    assert main([*base, "apply", "w", str(dec)]) == 0
    assert "applied 2 changes" in capsys.readouterr().out
    assert (ws.root / "images/cat/img4.png").exists()
    assert main([*base, "undo", "w"]) == 0
    assert (ws.root / "images/dog/img4.png").exists() and (ws.root / "images/dog/img5.png").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("images/dog/img4.png,explode\n")
    assert main([*base, "apply", "w", str(bad)]) == 2


def test_undo_of_the_latest_apply_keeps_training_current(ws):
    from classify_tui.core.pipeline import done_stages

    for stage in ("search", "download", "verify", "train", "review", "export"):
        ws.journal("stage_done", stage=stage)
    apply_decisions(ws, [Decision("images/cat/img0.png", "delete")])
    assert "train" not in done_stages(ws)  # the data changed: retrain
    undo_last(ws)
    assert {"train", "review", "export"} <= done_stages(ws)  # back to the data it was trained on
    apply_decisions(ws, [Decision("images/cat/img1.png", "delete")])
    apply_decisions(ws, [Decision("images/cat/img2.png", "delete")])
    undo_last(ws)
    assert "train" not in done_stages(ws)  # the first of the two applies still stands
