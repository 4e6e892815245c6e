"""Run a build in a child process, relaying its events to the caller (the TUI).

Why not a thread: native libraries (torch, OpenMP, PIL) write warnings straight to file
descriptors 1 and 2, which would draw over a terminal UI; here they go to ``build.log``. A crash
or out-of-memory kill in training takes down the child, not the UI, which reports it. The child
runs at a lower CPU priority and stops by itself if the UI disappears.
"""

from __future__ import annotations

import os
import queue
import threading
import traceback
from pathlib import Path
from typing import Any

from .errors import Cancelled, UserError
from .events import OnEvent


def _child(root: str, recipe: dict[str, Any], opts: dict[str, Any], out, cancel, parent: int) -> None:
    log = os.open(os.path.join(root, "build.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    try:  # the person at the keyboard comes first; an idle UI costs training nothing
        os.nice(10)
    except (AttributeError, OSError):
        pass
    from .quiet import quiet_library_warnings

    quiet_library_warnings()
    from .pipeline import BuildOptions, build
    from .workspace import Recipe, Workspace

    def on_event(ev) -> None:
        if os.getppid() != parent:  # the UI died: stop rather than train for nobody
            cancel.set()
        out.put(("event", ev))

    try:
        report = build(Workspace(Path(root)), Recipe.from_dict(recipe), on_event,
                       BuildOptions(cancel=cancel, **opts))
        out.put(("done", report))
    except Cancelled:
        out.put(("cancelled", ""))
    except UserError as exc:
        out.put(("user_error", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - relayed as one line; the traceback goes to build.log
        traceback.print_exc()
        out.put(("error", f"{type(exc).__name__}: {exc} (see {root}/build.log)"))


def _start_resource_tracker() -> None:
    """multiprocessing passes sys.stderr's fd to its tracker process; a terminal UI's stand-in
    stderr has none (fileno() is -1: "bad value(s) in fds_to_keep"), so lend it /dev/null."""
    import sys
    from multiprocessing import resource_tracker

    saved = sys.stderr
    try:
        usable = saved.fileno() >= 0
    except Exception:  # noqa: BLE001 - io.UnsupportedOperation and friends
        usable = False
    if usable:
        resource_tracker.ensure_running()
        return
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            resource_tracker.ensure_running()
        finally:
            sys.stderr = saved


def build_in_process(root: Path, recipe: dict[str, Any], on_event: OnEvent, cancel: threading.Event,
                     stop_after: str = "export", from_stage: str | None = None,
                     exports_dir: Path = Path("exports")) -> dict[str, Any]:
    """Like ``pipeline.build`` (same events, same exceptions) but in a spawned child process.

    Setting ``cancel`` stops the child at its next batch or file, as in-process cancel does.
    """
    import multiprocessing as mp

    _start_resource_tracker()  # before the first Queue or Event, which register semaphores with it
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    child_cancel = ctx.Event()
    Path(root).mkdir(parents=True, exist_ok=True)
    opts = {"stop_after": stop_after, "from_stage": from_stage, "exports_dir": Path(exports_dir)}
    proc = ctx.Process(target=_child, args=(str(root), recipe, opts, out, child_cancel, os.getpid()), daemon=True)
    proc.start()
    try:
        while True:
            if cancel.is_set():
                child_cancel.set()
            try:
                kind, payload = out.get(timeout=0.1)
            except queue.Empty:
                if not proc.is_alive() and out.empty():
                    raise UserError(f"the build process exited unexpectedly (code {proc.exitcode}); "
                                    f"see {root}/build.log") from None
                continue
            if kind == "event":
                on_event(payload)
            elif kind == "done":
                return payload
            elif kind == "cancelled":
                raise Cancelled()
            else:
                raise UserError(payload)
    finally:
        child_cancel.set()
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
