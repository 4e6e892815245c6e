"""The one footer: compact, and without the command palette's hint, which overlapped the last
key at 80 columns (ctrl+p still opens the palette; ? lists every key)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Footer


class AppFooter(Footer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(show_command_palette=False, compact=True, **kwargs)
