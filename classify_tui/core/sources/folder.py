"""ImageNet-style label folders. Files are read (copied later), PATH is never modified."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError
from . import Candidate


def _check(root: Path) -> None:
    if not root.is_dir():
        raise UserError(f"folder source {root} is not a directory")


def folder_labels(root: Path) -> list[str]:
    _check(root)
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def folder_candidates(root: Path, labels: list[str]) -> Iterator[Candidate]:
    _check(root)
    wanted = labels or folder_labels(root)
    for label in wanted:
        sub = root / label
        if not sub.is_dir():
            raise UserError(f"label {label!r} has no folder in {root}")
        for path in sorted(p for p in sub.rglob("*") if p.is_file()):
            # Content, not extension: every non-hidden file is a candidate, and verify
            # sniffs its bytes, so a .txt that is really a JPEG is kept and a .jpg that is
            # really HTML gets a manifest row with the reason.
            if path.name.startswith("."):
                continue
            yield Candidate(label=label, source=str(path.resolve()), local=path.resolve(), guard=False)
