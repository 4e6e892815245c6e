"""Turn core events into rich progress bars on stderr (plain lines when stderr is not a TTY).

Training stages (several models, each with epochs and batches) show one overall percentage and
the time left (tui/stageprogress.py, shared with the app), so the bar's total never jumps
between batches, epochs and models."""

from __future__ import annotations

import re
import sys
import time
from typing import Any

from .core.events import BatchDone, EpochDone, Event
from .tui.stageprogress import StageProgress


class StderrReporter:
    """An ``on_event`` sink for the CLI. Results go to stdout elsewhere; this owns stderr."""

    def __init__(self, force_plain: bool = False) -> None:
        self.plain = force_plain or not sys.stderr.isatty()
        self._last_plain = 0.0
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._stages: dict[str, StageProgress] = {}  # the stages that train models
        if not self.plain:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description:<9}"), BarColumn(), TextColumn("{task.fields[count]:>9}"),
                TimeElapsedColumn(), TextColumn("{task.fields[info]}"),
                console=Console(stderr=True), transient=False,
            )
            self._progress.start()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _overall(self, ev: Event) -> StageProgress | None:
        """The stage's overall progress once it has trained anything, else None."""
        sp = self._stages.get(ev.stage)
        if sp is None and ev.kind in ("batch", "epoch"):
            sp = self._stages[ev.stage] = StageProgress()
            sp.reset(ev.stage)
        if sp is not None:
            sp.update(ev)
        return sp

    @staticmethod
    def _overall_text(sp: StageProgress) -> str:
        return re.sub(r"\[/?b\]", "", sp.text()).split(" ", 1)[-1]  # without the stage name

    def __call__(self, ev: Event) -> None:
        if self.plain:
            self._plain(ev)
        else:
            self._rich(ev)

    def _info(self, ev: Event) -> str:
        d = ev.data
        if isinstance(d, EpochDone):
            return (f"epoch {d.epoch}/{d.epochs} train {d.train_loss:.3f} "
                    f"valid {d.valid_loss:.3f} err {d.error_rate:.3f}")
        if isinstance(d, BatchDone):
            return f"{d.phase} {d.images_per_s:.0f} img/s"
        return ev.message

    def _plain(self, ev: Event) -> None:
        now = time.monotonic()
        if ev.kind in ("progress", "batch") and now - self._last_plain < 2.0 and ev.done != ev.total:
            return
        self._last_plain = now
        sp = self._overall(ev)
        frac = f" {ev.done}/{ev.total}" if ev.done is not None and ev.total else ""
        text = self._info(ev)
        if sp is not None and ev.kind in ("batch", "progress"):
            frac, text = "", self._overall_text(sp)
        elif sp is not None and ev.kind == "epoch" and sp.models and sp.models > 1:
            frac, text = "", f"model {sp.model}/{sp.models} {text}"
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
            task = p.add_task(ev.stage, total=None, info="", count="")
            self._tasks[ev.stage] = task
        kw: dict[str, Any] = {"info": self._info(ev)[:60]}
        sp = self._overall(ev)
        if sp is not None and sp.fraction is not None:  # one scale for the whole stage
            kw.update(total=1000, completed=round(1000 * sp.fraction), count=f"{round(100 * sp.fraction)}%",
                      info=self._overall_text(sp).split("%", 1)[-1].lstrip(" ,·")[:70])
        else:
            if ev.total:
                kw["total"] = ev.total
            if ev.done is not None:
                kw["completed"] = ev.done
            if ev.total and ev.done is not None:
                kw["count"] = f"{ev.done}/{ev.total}"
        if ev.kind == "end":
            t = p.tasks[task]
            kw["total"] = t.total or max(t.completed, 1)
            kw["completed"] = kw["total"]
            kw["info"] = "done"
            kw["count"] = "100%" if sp is not None else f"{kw['total']}/{kw['total']}"
        p.update(task, **kw)
