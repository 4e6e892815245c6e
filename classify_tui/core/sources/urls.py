"""The user's own URL list: CSV with header ``label,url``. Private hosts are allowed here."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError
from ..labels import validate_labels
from . import Candidate


def _rows(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        raise UserError(f"urls file {path} not found")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"label", "url"} <= set(reader.fieldnames):
            raise UserError(f"{path} needs a header line 'label,url'")
        return [((r["label"] or "").strip(), (r["url"] or "").strip()) for r in reader]


def url_labels(path: Path) -> list[str]:
    seen: list[str] = []
    for label, _ in _rows(path):
        if label not in seen:
            seen.append(label)
    return validate_labels(seen)


def url_candidates(path: Path, labels: list[str]) -> Iterator[Candidate]:
    wanted = set(labels or url_labels(path))
    for label, url in _rows(path):
        if label in wanted and url:
            yield Candidate(label=label, source=url, query="urls", guard=False)
