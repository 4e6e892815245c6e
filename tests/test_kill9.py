"""kill -9 anywhere, then run the next command: it finishes or rolls back, every file is present
exactly once, and the manifest matches the disk.

Each kill is a real SIGKILL of a real `classify-tui` process, at a named point
(core/failpoints.py): during download, verify, training, review, export, apply and undo.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from classify_tui.core.stages import STAGES
from classify_tui.core.workspace import DOWNLOADED, KEPT, Workspace

pytestmark = pytest.mark.slow

BUILD = ["build", "--source", "digits", "--labels", "0,1", "--size", "32", "--epochs", "1", "--plain"]


def cli(root: Path, args: list[str], kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CLASSIFY_TUI_KILL_AT": kill_at or ""}
    return subprocess.run([sys.executable, "-m", "classify_tui.cli", "--datasets", str(root / "datasets"),
                           "--exports", str(root / "exports"), *args], env=env, capture_output=True, text=True,
                          timeout=600)


def killed(proc: subprocess.CompletedProcess) -> bool:
    return proc.returncode == -signal.SIGKILL


def check_consistent(ws: Workspace, just_killed: bool = False) -> None:
    """Every file exactly once, and the manifest accounts for the disk.

    Right after a kill, verify may have moved a file into images/ before it saved the row
    that says so: that file must still be findable by its row's id (verify re-adopts it on
    resume), and a download killed mid-write may leave its .part, which the next run removes.
    After a command that finished, the manifest and the disk agree exactly."""
    rows = list(ws.load_manifest().values())
    kept = [r for r in rows if r.status == KEPT]
    paths = [r.path for r in kept]
    assert len(paths) == len(set(paths)), "two kept rows claim one file"
    on_disk = {p.relative_to(ws.root).as_posix() for p in ws.images.rglob("*") if p.is_file()}
    missing = set(paths) - on_disk
    assert not missing, f"kept rows without a file: {sorted(missing)[:3]}"
    extra = on_disk - set(paths)
    if just_killed:
        pending = {r.id for r in rows if r.status == DOWNLOADED}
        stray = {p for p in extra if Path(p).stem not in pending}
        assert not stray, f"files no row accounts for: {sorted(stray)[:3]}"
        for r in rows:
            if r.status == DOWNLOADED:
                places = [ws.incoming / r.id] if (ws.incoming / r.id).exists() else []
                places += list(ws.images.glob(f"*/{r.id}.*"))
                assert len(places) <= 1, f"{r.id} is in two places: {places}"
    else:
        assert not extra, f"not in the manifest: {sorted(extra)[:3]}"
        assert not list(ws.incoming.glob("*.part")), "a partial download was left behind"
    for r in kept:
        assert Path(r.path).parts[1] == r.label  # images/<label>/...
    for r in rows:
        if r.trash:
            assert (ws.root / r.trash).exists(), f"trash copy of {r.id} missing"
    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids))
    for line in ws.journal_path.read_text().splitlines():
        json.loads(line)  # the journal stays readable (a torn last line would be tolerated, not here)


def test_kill_at_every_stage_then_resume(tmp_path):
    ws = Workspace(tmp_path / "datasets" / "digits")
    for point in ("download:50", "verify:40", "train:2", "review:1", "export:1"):
        proc = cli(tmp_path, BUILD, kill_at=point)
        assert killed(proc), f"{point}: {proc.returncode} {proc.stderr[-800:]}"
        check_consistent(ws, just_killed=True)
    done = cli(tmp_path, BUILD)
    assert done.returncode == 0, done.stderr[-2000:]
    check_consistent(ws)
    report = json.loads(ws.report_path.read_text())
    assert report["error_rate"] is not None and set(report["counts"]) == set(STAGES)
    review_rows = ws.review_path.read_text().splitlines()[1:]
    assert len(review_rows) == sum(1 for r in ws.load_manifest().values() if r.status == KEPT)
    assert (tmp_path / "exports" / "digits" / "README.md").exists()

    # apply killed after its 3rd move: the next command finishes the journaled plan
    queue = [line.split(",")[0] for line in review_rows[:6]]
    decisions = tmp_path / "d.csv"
    decisions.write_text("".join(f"{p},delete\n" for p in queue))
    before = len([p for p in ws.images.rglob("*") if p.is_file()])
    proc = cli(tmp_path, ["apply", "digits", str(decisions)], kill_at="move:3")
    assert killed(proc)
    assert cli(tmp_path, ["list"]).returncode == 0  # a reader neither blocks nor repairs
    undo = cli(tmp_path, ["undo", "digits"])  # the next mutator recovers first, then undoes it
    assert undo.returncode == 0, undo.stderr
    check_consistent(ws)
    assert len([p for p in ws.images.rglob("*") if p.is_file()]) == before

    # undo killed half way: the next command completes the undo
    assert cli(tmp_path, ["apply", "digits", str(decisions)]).returncode == 0
    check_consistent(ws)
    assert len([p for p in ws.images.rglob("*") if p.is_file()]) == before - 6
    proc = cli(tmp_path, ["undo", "digits"], kill_at="move:2")
    assert killed(proc)
    again = cli(tmp_path, BUILD + ["--stop-after", "verify"])
    assert again.returncode == 0, again.stderr[-2000:]
    check_consistent(ws)
    assert len([p for p in ws.images.rglob("*") if p.is_file()]) == before  # the undo was completed
