"""Progress events: the only way core talks to a UI. Nothing in core prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    """One progress report.

    ``kind`` is one of: ``start``, ``progress``, ``info``, ``warning``, ``end``,
    ``epoch`` (one finished training epoch; metrics in ``data``) and ``batch``.
    """

    stage: str
    kind: str
    message: str = ""
    done: int | None = None
    total: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


OnEvent = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """Default sink when the caller does not want progress."""
