"""DuckDuckGo image search through ``ddgs`` (the maintained successor of duckduckgo-search)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..events import Event, OnEvent
from . import Candidate

PAGE_SIZE = 100  # ddgs returns about 100 per page; its default of 10 would need 10x the calls
MAX_PAGES = 10
RETRIES = 3


def build_query(template: str, label: str, excludes: list[str]) -> str:
    """Fill the template and add negative terms (``-logo``) for --exclude words."""
    query = template.format(label=label) if "{label}" in template else f"{label} {template}"
    negatives = " ".join(f"-{w.strip()}" for w in excludes if w.strip())
    return f"{query} {negatives}".strip()


def _default_factory() -> Any:
    from ddgs import DDGS

    return DDGS()


def _page(ddgs: Any, query: str, page: int, on_event: OnEvent, sleep: Callable[[float], None]) -> list[dict] | None:
    """One page with bounded retries. Returns [] for a genuinely empty page, None on failure."""
    from ddgs.exceptions import DDGSException

    last = ""
    for attempt in range(RETRIES):
        try:
            results = ddgs.images(query, max_results=PAGE_SIZE, page=page)
        except DDGSException as exc:  # includes RatelimitException and TimeoutException
            last = f"{type(exc).__name__}: {exc}"
            results = None
        if results:
            return list(results)
        if results is not None:
            last = "empty page"
        if attempt < RETRIES - 1:
            delay = 2.0**attempt
            on_event(Event("search", "warning", f"{query!r} page {page}: {last}; retrying in {delay:.0f}s"))
            sleep(delay)
    on_event(Event("search", "warning", f"{query!r} page {page}: gave up after {RETRIES} tries ({last})"))
    return [] if last == "empty page" else None


def search_images(
    labels: list[str],
    templates: list[str],
    excludes: list[str],
    per_label: int,
    on_event: OnEvent,
    ddgs_factory: Callable[[], Any] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Iterator[Candidate]:
    """Yield up to ``per_label`` unique image URLs per label, spread over the query templates."""
    ddgs = (ddgs_factory or _default_factory)()
    sleep = sleep or time.sleep
    seen: set[str] = set()
    for label in labels:
        found = 0
        for t_index, template in enumerate(templates):
            remaining_templates = len(templates) - t_index
            share = math.ceil((per_label - found) / remaining_templates)
            query = build_query(template, label, excludes)
            got = 0
            for page in range(1, MAX_PAGES + 1):
                if got >= share:
                    break
                results = _page(ddgs, query, page, on_event, sleep)
                if not results:
                    break
                new = 0
                for item in results:
                    url = (item.get("image") or "").strip()
                    if not url or url in seen:
                        continue
                    seen.add(url)
                    new += 1
                    got += 1
                    found += 1
                    yield Candidate(label=label, source=url, query=query, guard=True)
                    if got >= share:
                        break
                if new == 0:  # the engine is repeating itself: no point in more pages
                    break
            on_event(Event("search", "progress", f"{label}: {found} urls", found, per_label))
        if found < per_label:
            on_event(Event("search", "warning", f"{label}: found {found} of {per_label} wanted"))
