"""Typed messages that thread workers post to the UI (toolong style)."""

from __future__ import annotations

from textual.message import Message

from ..core.events import Event
from ..core.report import Report


class CoreEvent(Message):
    """One event from a core stage, relayed from a worker thread."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class BuildFinished(Message):
    def __init__(self, report: Report | None, error: str = "") -> None:
        super().__init__()
        self.report = report
        self.error = error
