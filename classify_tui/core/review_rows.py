"""The review queue's record: one typed row per kept image, read and written as review.csv.

Every row says what kind of problem it may have, a suggested action, a plain reason, and what
its prediction was computed from (``basis``), so neither the CLI nor the TUI has to guess.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields
from pathlib import Path

from .workspace import atomic_write_text

# Issue kinds, in the order a user should see them when priorities tie.
LABEL, OUTLIER, DUPLICATE, QUALITY, OK = "label", "outlier", "duplicate", "quality", "ok"
KINDS = (LABEL, OUTLIER, DUPLICATE, QUALITY, OK)
KIND_TEXT = {
    LABEL: "looks like another label",
    OUTLIER: "belongs to none of the labels",
    DUPLICATE: "duplicate",
    QUALITY: "image quality",
    OK: "no issue found",
}
DELETE, KEEP = "delete", "keep"
# how the reason of a row that only the second opinion doubts begins (review.build_queue writes it)
HARD_TO_LEARN = "hard to learn"


@dataclass
class ReviewRow:
    """One kept image in the queue. Probabilities are honest: see ``basis``."""

    path: str
    source: str
    label: str
    predicted: str
    p_label: float
    p_predicted: float
    loss: float
    split: str  # "train" or "valid" (of the main model)
    reasons: str
    kind: str = OK
    suggestion: str = KEEP  # "delete", "keep" or "relabel:<label>"
    priority: float = 0.0  # higher = look at it sooner; the queue is sorted by it
    basis: str = ""  # what predicted/p_label were computed from

    @property
    def suggested_label(self) -> str | None:
        """The label a ``relabel:X`` suggestion names, else None."""
        return self.suggestion.split(":", 1)[1] if self.suggestion.startswith("relabel:") else None

    @property
    def suggestion_text(self) -> str:
        lab = self.suggested_label
        return f"relabel → {lab}" if lab is not None else self.suggestion

    @property
    def disagrees(self) -> bool:
        return self.predicted != self.label

    @property
    def hard_to_learn(self) -> bool:
        """Doubted by training margins or TTA while its held-out prediction is its own label."""
        return not self.disagrees and self.reasons.startswith(HARD_TO_LEARN)


REVIEW_FIELDS = [f.name for f in fields(ReviewRow)]
_FLOATS = {"p_label", "p_predicted", "loss", "priority"}


def write_review(path: Path, rows: list[ReviewRow]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REVIEW_FIELDS)
    for r in rows:
        w.writerow([getattr(r, f) for f in REVIEW_FIELDS])
    atomic_write_text(path, buf.getvalue())


def read_review(path: Path) -> list[ReviewRow]:
    """The queue in file order (most urgent first); older files without the new columns load too."""
    if not path.exists():
        return []
    out: list[ReviewRow] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            kw: dict[str, object] = {}
            for name in REVIEW_FIELDS:
                if name not in rec or rec[name] is None:
                    continue
                kw[name] = float(rec[name] or 0) if name in _FLOATS else rec[name]
            for name in ("path", "source", "label", "predicted", "split", "reasons"):
                kw.setdefault(name, "")
            for name in ("p_label", "p_predicted", "loss"):
                kw.setdefault(name, 0.0)
            out.append(ReviewRow(**kw))  # type: ignore[arg-type]
    return out


def count_kinds(rows: list[ReviewRow]) -> dict[str, int]:
    counts = {k: 0 for k in KINDS}
    for r in rows:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return counts
