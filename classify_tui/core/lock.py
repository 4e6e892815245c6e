"""One mutator per workspace, across processes: build, apply, undo and crash recovery.

The lock is an OS file lock (``filelock``: flock on Unix), so the kernel drops it when its
holder dies, even by kill -9: a killed build never wedges a workspace. Beside it,
``.lock.json`` says who holds it, for the "busy" message. Readers (the app browsing, predict)
never take it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import UserError
from .workspace import Workspace, atomic_write_text


class WorkspaceBusy(UserError):
    """Another process is changing this workspace."""


def _holder(root: Path) -> str:
    try:
        info = json.loads((root / ".lock.json").read_text())
        since = time.strftime("%H:%M", time.localtime(info["since"]))
        return f"{info['what']} since {since} (pid {info['pid']})"
    except (OSError, ValueError, KeyError):
        return "another process"


@contextmanager
def mutating(ws: Workspace, what: str) -> Iterator[None]:
    """Hold the workspace's lock while changing it; raise WorkspaceBusy at once if it is held."""
    from filelock import FileLock, Timeout

    ws.root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(ws.root / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise WorkspaceBusy(f"workspace {ws.name} is busy: {_holder(ws.root)}") from None
    try:
        atomic_write_text(ws.root / ".lock.json", json.dumps({"what": what, "pid": os.getpid(), "since": time.time()}))
        yield
    finally:
        try:
            (ws.root / ".lock.json").unlink()
        except OSError:
            pass
        lock.release()
