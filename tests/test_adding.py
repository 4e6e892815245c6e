"""core/adding.py: one image added by hand goes through the import path (manifest row, verify,
journal) and marks training stale; refused labels, duplicates and a busy workspace change nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import png_bytes
from exportkit import make_images
from test_lock import hold_lock, make_ws

from classify_tui.core.adding import add_image
from classify_tui.core.errors import UserError
from classify_tui.core.events import ignore
from classify_tui.core.lock import WorkspaceBusy
from classify_tui.core.pipeline import BuildOptions, build
from classify_tui.core.rerun import stages_done
from classify_tui.core.workspace import DOWNLOADED, DUPLICATE, KEPT, REJECTED, Row


def trained(tmp_path):
    """make_ws with a journal that says the model is current."""
    ws = make_ws(tmp_path)
    for stage in ("train", "review", "export"):
        ws.journal("stage_done", stage=stage, counts={})
    assert {"train", "review", "export"} <= stages_done(ws)
    return ws


def test_add_image_imports_journals_and_marks_training_stale(tmp_path):
    ws = trained(tmp_path)
    before = ws.load_manifest()
    img = make_images(tmp_path / "new", n=1, seed=7)[0]
    row = add_image(ws, img.read_bytes(), "dog", source="drawn")
    assert (row.label, row.status, row.query) == ("dog", KEPT, "drawn") and row.source.startswith("drawn:")
    assert row.id == Row.make_id("dog", row.source)
    assert row.path == f"images/dog/{row.id}.png" and (ws.root / row.path).is_file()
    assert (row.width, row.height) == (64, 40) and row.sha256 and row.phash and row.quality
    rows = ws.load_manifest()
    assert list(rows) == [*before, row.id] and rows[row.id] == row
    assert {k: r for k, r in rows.items() if k != row.id} == before  # the other rows are as they were
    assert not list(ws.incoming.iterdir())
    last = ws.read_journal()[-1]
    assert (last["op"], last["row"], last["label"], last["source"]) == ("add_image", row.id, "dog", row.source)
    assert "train" not in stages_done(ws) and "export" not in stages_done(ws)  # the next build retrains

    second = add_image(ws, make_images(tmp_path / "more", n=3, seed=8)[2], "cat")  # a path; default source
    assert second.source.startswith("drawn:") and second.source != row.source and second.path.startswith("images/cat/")


def test_refused_additions(tmp_path):
    ws = trained(tmp_path)
    data = png_bytes((1, 2, 3), size=(40, 40))
    with pytest.raises(UserError, match="'bird' is not a label of pets"):
        add_image(ws, data, "bird")
    assert len(ws.load_manifest()) == 3 and "train" in stages_done(ws)  # nothing happened

    first = add_image(ws, data, "cat")
    with pytest.raises(UserError, match=f"not added: exact duplicate of {first.path}"):
        add_image(ws, data, "cat")  # kept as a duplicate row, as a downloaded duplicate is
    dups = [r for r in ws.load_manifest().values() if r.status == DUPLICATE]
    assert len(dups) == 1 and (ws.root / dups[0].trash).is_file()

    with pytest.raises(UserError, match="not added: too small"):
        add_image(ws, png_bytes(size=(8, 8)), "dog")  # below the recipe's min_side, like any download
    assert [r.reason for r in ws.load_manifest().values() if r.status == REJECTED] == ["too small (8x8 < 32 px)"]

    pending = Row(id="pending", source="s-pending", label="dog", status=DOWNLOADED)
    ws.save_manifest({**ws.load_manifest(), pending.id: pending})
    (ws.incoming / pending.id).write_bytes(png_bytes((9, 9, 9)))
    add_image(ws, png_bytes((4, 5, 6)), "dog")
    assert ws.load_manifest()["pending"].status == DOWNLOADED  # another build's download waits for that build

    child = hold_lock(ws, "build")
    try:
        n = len(ws.load_manifest())
        with pytest.raises(WorkspaceBusy, match="workspace pets is busy: build since"):
            add_image(ws, png_bytes((7, 7, 7)), "dog")
        assert len(ws.load_manifest()) == n
    finally:
        child.kill()
        child.wait()


def test_killed_mid_add_the_next_build_finishes_the_import(tmp_path):
    """kill -9 after verify moved the file but before the manifest was saved: the row is in the
    manifest as downloaded, training is already stale, and the next build's verify keeps it."""
    ws = trained(tmp_path)
    img = make_images(tmp_path / "new", n=1, seed=3)[0]
    code = textwrap.dedent(f"""
        from pathlib import Path
        from classify_tui.core.adding import add_image
        from classify_tui.core.workspace import Workspace
        add_image(Workspace(Path({str(ws.root)!r})), Path({str(img)!r}), "cat")
    """)
    env = {**os.environ, "CLASSIFY_TUI_KILL_AT": "verify:1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, timeout=120)
    assert done.returncode == -signal.SIGKILL
    rows = ws.load_manifest()
    [row] = [r for r in rows.values() if r.source.startswith("drawn:")]
    assert row.status == DOWNLOADED and list(ws.images.glob(f"cat/{row.id}.*"))  # moved, not yet recorded
    assert "train" not in stages_done(ws)
    build(ws, ws.load_recipe(), ignore, BuildOptions(stop_after="verify", exports_dir=tmp_path / "exports"))
    row = ws.load_manifest()[row.id]
    assert row.status == KEPT and row.path == f"images/cat/{row.id}.png" and (ws.root / row.path).is_file()
