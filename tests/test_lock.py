"""One mutator per workspace across processes; a killed holder never wedges it."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import png_bytes

from classify_tui.cli import main
from classify_tui.core.cleaning import Decision, apply_decisions
from classify_tui.core.lock import WorkspaceBusy, mutating
from classify_tui.core.workspace import KEPT, Recipe, Row, Workspace


def make_ws(tmp_path) -> Workspace:
    ws = Workspace(tmp_path / "datasets" / "pets")
    ws.ensure()
    ws.save_recipe(Recipe(labels=["cat", "dog"], source="digits"))
    rows = {}
    for i, label in enumerate(["cat", "cat", "dog"]):
        rel = f"images/{label}/{i}.png"
        (ws.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws.root / rel).write_bytes(png_bytes((10 * i, 0, 0)))
        rows[str(i)] = Row(id=str(i), source=f"s{i}", label=label, status=KEPT, path=rel)
    ws.save_manifest(rows)
    return ws


def hold_lock(ws: Workspace, what: str) -> subprocess.Popen:
    """A child process that holds the workspace lock (as a running build would) until killed."""
    code = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from classify_tui.core.lock import mutating
        from classify_tui.core.workspace import Workspace
        with mutating(Workspace(Path({str(ws.root)!r})), {what!r}):
            Path({str(ws.root / 'held')!r}).write_text("")
            time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 30
    while not (ws.root / "held").exists():
        assert child.poll() is None and time.monotonic() < deadline, "the child never took the lock"
        time.sleep(0.05)
    return child


def test_second_mutator_is_refused_and_a_killed_holder_does_not_wedge(tmp_path, capsys):
    ws = make_ws(tmp_path)
    decisions = tmp_path / "d.csv"
    decisions.write_text("images/cat/1.png,relabel,dog\n")
    child = hold_lock(ws, "build")
    try:
        code = main(["--datasets", str(tmp_path / "datasets"), "apply", "pets", str(decisions)])
        err = capsys.readouterr().err
        assert code == 2
        assert "workspace pets is busy: build since" in err and f"(pid {child.pid})" in err
        assert len(err.strip().splitlines()) == 1  # one line, no traceback
        assert (ws.root / "images/cat/1.png").exists()  # nothing moved
        assert ws.load_manifest()["1"].label == "cat"
        with pytest.raises(WorkspaceBusy):
            with mutating(ws, "undo"):
                pass
    finally:
        os.kill(child.pid, signal.SIGKILL)  # as a crash or kill -9 would
        child.wait(timeout=10)
    # the kernel dropped the dead holder's lock: the next mutator goes ahead
    assert main(["--datasets", str(tmp_path / "datasets"), "apply", "pets", str(decisions)]) == 0
    assert (ws.root / "images/dog/1.png").exists() and ws.load_manifest()["1"].label == "dog"


def test_readers_do_not_block(tmp_path):
    ws = make_ws(tmp_path)
    child = hold_lock(ws, "build")
    try:
        assert len(ws.load_manifest()) == 3  # reading while a build holds the lock
        assert ws.load_recipe().labels == ["cat", "dog"]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)


def test_apply_in_process_takes_the_lock(tmp_path):
    ws = make_ws(tmp_path)
    with mutating(ws, "build"):
        with pytest.raises(WorkspaceBusy, match="busy: build since"):
            apply_decisions(ws, [Decision("images/cat/1.png", "delete")])
    assert apply_decisions(ws, [Decision("images/cat/1.png", "delete")]).applied == 1
