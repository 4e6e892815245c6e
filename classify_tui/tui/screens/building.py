"""The part Data and Train share: a build of ``self.ws`` in a worker, cancel, and a guarded back."""

from __future__ import annotations

import threading
from typing import Any

from textual import work
from textual.screen import Screen

from ..workers import relay_build


class BuildScreen(Screen):
    CANCELLED = "cancelled"  # what the user is told when the build stops on request

    def __init__(self, ws) -> None:
        super().__init__()
        self.ws = ws
        self.cancel = threading.Event()
        self._build_running = False

    @property
    def running(self) -> bool:
        return self._build_running

    @running.setter
    def running(self, value: bool) -> None:
        self._build_running = value
        if self.is_attached:
            self.refresh_bindings()  # x Cancel shows only while there is something to cancel

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.running
        return True

    def start_build(self, **kwargs: Any) -> None:
        """Run the build (core/isolated.py) in a thread worker; it posts CoreEvent/BuildFinished."""
        if self.running:
            return
        if self.cancel not in self.app.cancel_events:
            self.app.cancel_events.append(self.cancel)  # so quitting stops it
        self.running = True
        self.cancel.clear()
        self._build_worker(kwargs)

    @work(thread=True, exclusive=True, group="build")
    def _build_worker(self, kwargs: dict[str, Any]) -> None:
        relay_build(self, self.cancel, self.CANCELLED, **kwargs)

    def show_cancelling(self) -> None:
        """Subclasses say "cancelling..." where their status lives."""

    def action_cancel(self) -> None:
        if self.running:
            self.cancel.set()
            self.show_cancelling()

    def action_back(self) -> None:
        if self.running:
            self.notify("still running: press x to cancel first")
            return
        self.app.pop_screen()
