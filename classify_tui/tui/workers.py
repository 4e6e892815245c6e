"""Bodies for thread workers: call the core, hand results or errors back to the UI thread.

Any exception becomes a notification or a BuildFinished message: a worker never crashes the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from ..core.errors import Cancelled, UserError
from .messages import BuildFinished, CoreEvent


def error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"


def call_core(widget, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
    """Run ``fn()`` on this worker thread; pass its result to ``done`` on the UI thread."""
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - expected or not, the user sees one line
        widget.app.call_from_thread(widget.notify, error_text(exc), severity="error")
        return
    widget.app.call_from_thread(done, result)


def relay_build(screen, cancel, cancelled_text: str, **kwargs: Any) -> None:
    """Run the screen's workspace build in a child process (see core/isolated.py), posting
    CoreEvent for each event and one BuildFinished at the end."""
    from ..core.isolated import build_in_process

    try:
        report = build_in_process(screen.ws.root, asdict(screen.ws.load_recipe()),
                                  lambda ev: screen.post_message(CoreEvent(ev)), cancel,
                                  exports_dir=screen.app.exports, **kwargs)
        screen.post_message(BuildFinished(report))
    except Cancelled:
        screen.post_message(BuildFinished(None, cancelled_text))
    except Exception as exc:  # noqa: BLE001 - a worker must never crash the app
        screen.post_message(BuildFinished(None, error_text(exc)))
