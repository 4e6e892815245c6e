"""Named points where a test can have this process killed with SIGKILL, as a crash, an OOM kill
or `kill -9` would, to prove that the next command finishes or rolls back cleanly.

``CLASSIFY_TUI_KILL_AT=verify:5`` kills the process the 5th time it passes the point named
``verify`` (the countdown lives in this process's environment). Unset, as always outside
tests, a point costs one environment lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "CLASSIFY_TUI_KILL_AT"


def point(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    where, _, nth = spec.partition(":")
    if where != name:
        return
    left = int(nth or 1) - 1
    if left <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
    os.environ[ENV] = f"{where}:{left}"
