"""Summaries of a manifest for display: counts per label and status, and duplicate pairs."""

from __future__ import annotations

from dataclasses import dataclass

from .workspace import CANDIDATE, DOWNLOADED, DUPLICATE, FAILED, KEPT, REJECTED, Row

COUNT_COLUMNS = (KEPT, DUPLICATE, REJECTED, FAILED, DOWNLOADED, "queued")


def status_counts(rows: dict[str, Row], labels: list[str]) -> dict[str, dict[str, int]]:
    """{label: {status: n}} for every label (zeros included), in COUNT_COLUMNS terms:
    ``downloaded`` awaits verify, ``queued`` awaits download."""
    out = {lb: dict.fromkeys(COUNT_COLUMNS, 0) for lb in labels}
    for r in rows.values():
        per = out.setdefault(r.label, dict.fromkeys(COUNT_COLUMNS, 0))
        key = "queued" if r.status == CANDIDATE else r.status
        if key in per:
            per[key] += 1
    return out


@dataclass
class DupPair:
    """Two images that look the same: ``a`` is kept; ``b`` is kept (near) or in trash (exact)."""

    a: str
    b: str
    kind: str  # "cross-label duplicate", "exact duplicate", "near duplicate", "near duplicate (other label)"
    label_a: str
    label_b: str


def duplicate_pairs(rows: dict[str, Row]) -> list[DupPair]:
    """Cross-label pairs first: they are label conflicts whatever the model says."""
    by_path = {r.path: r for r in rows.values() if r.path}
    pairs: list[DupPair] = []
    for r in rows.values():
        if r.status == DUPLICATE and r.dup_of and r.trash:
            first = by_path.get(r.dup_of)
            kind = "cross-label duplicate" if first is not None and first.label != r.label else "exact duplicate"
            pairs.append(DupPair(r.dup_of, r.trash, kind, first.label if first else "?", r.label))
    seen: set[tuple[str, str]] = set()
    for r in rows.values():
        if r.status != KEPT:
            continue
        for flag in (f for f in r.flags.split(";") if f.startswith("near duplicate")):
            kind, _, other = flag.partition(":")
            key = tuple(sorted((r.path, other)))
            if other in by_path and key not in seen:
                seen.add(key)
                pairs.append(DupPair(r.path, other, kind, r.label, by_path[other].label))
    order = {"cross-label duplicate": 0, "near duplicate (other label)": 1, "exact duplicate": 2, "near duplicate": 3}
    return sorted(pairs, key=lambda p: order.get(p.kind, 9))


def problem_rows(rows: dict[str, Row]) -> list[Row]:
    """Rows that did not become training images, with their reasons (rejected first)."""
    order = {REJECTED: 0, FAILED: 1, DUPLICATE: 2}
    return sorted((r for r in rows.values() if r.status in order), key=lambda r: (order[r.status], r.label))
