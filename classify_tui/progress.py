"""Turn core events into rich progress bars on stderr (plain lines when stderr is not a TTY)."""

from __future__ import annotations

import sys
import time
from typing import Any

from .core.events import Event


class StderrReporter:
    """An ``on_event`` sink for the CLI. Results go to stdout elsewhere; this owns stderr."""

    def __init__(self, force_plain: bool = False) -> None:
        self.plain = force_plain or not sys.stderr.isatty()
        self._last_plain = 0.0
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        if not self.plain:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description:<9}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn("{task.fields[info]}"),
                console=Console(stderr=True), transient=False,
            )
            self._progress.start()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, ev: Event) -> None:
        if self.plain:
            self._plain(ev)
        else:
            self._rich(ev)

    def _info(self, ev: Event) -> str:
        d = ev.data
        if ev.kind == "epoch":
            return (f"epoch {d.get('epoch')}/{d.get('epochs')} train {d.get('train_loss', 0):.3f} "
                    f"valid {d.get('valid_loss', 0):.3f} err {d.get('error_rate', 0):.3f}")
        if ev.kind == "batch" and "images_per_s" in d:
            return f"{d.get('phase', '')} {d['images_per_s']:.0f} img/s"
        return ev.message

    def _plain(self, ev: Event) -> None:
        now = time.monotonic()
        if ev.kind in ("progress", "batch") and now - self._last_plain < 2.0 and ev.done != ev.total:
            return
        self._last_plain = now
        frac = f" {ev.done}/{ev.total}" if ev.done is not None and ev.total else ""
        text = self._info(ev)
        print(f"[{ev.stage}]{frac} {text}".rstrip(), file=sys.stderr, flush=True)

    def _rich(self, ev: Event) -> None:
        p = self._progress
        if ev.kind == "warning":
            p.console.print(f"[yellow]{ev.stage}: {ev.message}")
            return
        if ev.kind == "info":
            p.console.print(f"[dim]{ev.stage}: {ev.message}")
            return
        task = self._tasks.get(ev.stage)
        if task is None:
            task = p.add_task(ev.stage, total=None, info="")
            self._tasks[ev.stage] = task
        kw: dict[str, Any] = {"info": self._info(ev)[:60]}
        if ev.total:
            kw["total"] = ev.total
        if ev.done is not None:
            kw["completed"] = ev.done
        if ev.kind == "end":
            t = p.tasks[task]
            kw["total"] = t.total or max(t.completed, 1)
            kw["completed"] = kw["total"]
            kw["info"] = "done"
        p.update(task, **kw)
