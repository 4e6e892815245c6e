"""The dataset workspace: folders, the manifest, the journal and the recipe.

Layout of ``datasets/NAME/`` (the one description; README.md's table is checked against it)::

    images/<label>/       kept images, fully decoded RGB (originals of rewritten files go to trash/)
    incoming/             downloaded bytes waiting for verify (never partial: .part is renamed)
    trash/                everything rejected, duplicated, replaced or deleted; nothing is unlinked
    cache/<px>/           small prepared copies of big photos, keyed by sha256 (core/prepared.py)
    model/                the trained model (safetensors + config.json) and its training margins
    manifest.csv          one row per candidate ever seen, written atomically
    journal.jsonl         append-only log of stages and of every apply/undo; undo and recovery read it
    recipe.json           labels, source and options, so a re-run resumes and reproduces
    report.json           what the last build measured (core/report.py)
    review.csv            the review queue (core/review_rows.py)
    build.log             what native libraries wrote while the app ran a build (core/isolated.py)
    .lock, .lock.json     who is changing the workspace right now (core/lock.py)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UserError

if TYPE_CHECKING:
    from .report import Report

# Statuses a row can have. ``candidate``/``downloaded`` are in flight; the rest are final.
CANDIDATE, DOWNLOADED, KEPT, REJECTED, DUPLICATE, FAILED, DELETED = (
    "candidate",
    "downloaded",
    "kept",
    "rejected",
    "duplicate",
    "failed",
    "deleted",
)
FINAL_STATUSES = {KEPT, REJECTED, DUPLICATE, FAILED, DELETED}


@dataclass
class Row:
    """One candidate image. ``path`` is relative to the workspace and empty when not kept."""

    id: str
    source: str
    label: str
    status: str = CANDIDATE
    reason: str = ""
    query: str = ""
    path: str = ""
    sha256: str = ""
    width: int = 0
    height: int = 0
    phash: str = ""
    dup_of: str = ""
    flags: str = ""
    trash: str = ""
    quality: str = ""  # QualityStats.to_text(), measured at verify (core/quality.py)

    @staticmethod
    def make_id(label: str, source: str) -> str:
        """Stable id for a (label, source) pair, so re-runs recognise what they have seen."""
        return hashlib.sha1(f"{label}\x00{source}".encode()).hexdigest()[:16]


MANIFEST_FIELDS = [
    "path", "source", "label", "status", "reason", "query", "sha256", "width", "height",
    "id", "phash", "dup_of", "flags", "trash", "quality",
]  # fmt: skip
_ROW_FIELDS = {f.name for f in fields(Row)}


@dataclass
class Recipe:
    """Everything needed to reproduce or resume a build."""

    labels: list[str] = field(default_factory=list)
    source: str = "ddg"
    per_label: int = 150
    queries: list[str] = field(default_factory=lambda: list(DEFAULT_QUERIES))
    excludes: list[str] = field(default_factory=list)
    min_side: int = 32
    max_bytes: int = 20_000_000
    arch: str = "tf_efficientnet_lite0"
    weights: str = ""
    size: int = 0  # 0: the source's default
    epochs: int = 0  # 0: the source's default
    batch_size: int = 0  # 0: 64, or 32 on CPU from 128 px up (core/train.py auto_batch_size)
    device: str = "auto"
    valid_pct: float = 0.2
    seed: int = 42
    lr: float = 0.0  # 0: the measured default
    folds: int = 3
    repeats: int = 2  # independent cross-validation rounds averaged in the thorough review
    review: str = "fast"  # "fast": scores from the one training run; "thorough": K-fold cross-validation
    flip: bool = True
    shuffle_channels: bool = False  # digits and MNIST: colour carries no label

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


DEFAULT_QUERIES = ("{label} photo", "{label} sun photo", "{label} shade photo")


def atomic_write_text(path: Path, text: str) -> None:
    """Write via temp file + fsync + rename so readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Workspace:
    """A dataset folder. Cheap to construct; nothing is read until asked."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- paths -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.root.name

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    @property
    def trash(self) -> Path:
        return self.root / "trash"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.csv"

    @property
    def journal_path(self) -> Path:
        return self.root / "journal.jsonl"

    @property
    def recipe_path(self) -> Path:
        return self.root / "recipe.json"

    @property
    def report_path(self) -> Path:
        return self.root / "report.json"

    @property
    def review_path(self) -> Path:
        return self.root / "review.csv"

    def exists(self) -> bool:
        return self.recipe_path.exists()

    def ensure(self) -> None:
        for p in (self.root, self.images, self.incoming, self.trash):
            p.mkdir(parents=True, exist_ok=True)

    # -- recipe ------------------------------------------------------------------------------
    def load_recipe(self) -> Recipe:
        if not self.recipe_path.exists():
            raise UserError(f"no workspace at {self.root} (recipe.json missing)")
        try:
            return Recipe.from_dict(json.loads(self.recipe_path.read_text()))
        except (ValueError, TypeError) as exc:
            raise UserError(f"{self.recipe_path} is not valid JSON: {exc}") from None

    def save_recipe(self, recipe: Recipe) -> None:
        self.ensure()
        atomic_write_text(self.recipe_path, recipe.to_json() + "\n")

    # -- manifest ----------------------------------------------------------------------------
    def load_manifest(self) -> dict[str, Row]:
        """Rows keyed by id, in first-seen order."""
        if not self.manifest_path.exists():
            return {}
        rows: dict[str, Row] = {}
        with open(self.manifest_path, newline="", encoding="utf-8") as fh:
            for rec in csv.DictReader(fh):
                kw: dict[str, Any] = {k: v for k, v in rec.items() if k in _ROW_FIELDS}
                kw["width"] = int(kw.get("width") or 0)
                kw["height"] = int(kw.get("height") or 0)
                row = Row(**kw)
                rows[row.id] = row
        return rows

    def save_manifest(self, rows: dict[str, Row] | list[Row]) -> None:
        items = rows.values() if isinstance(rows, dict) else rows
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in items:
            d = asdict(row)
            writer.writerow({k: d[k] for k in MANIFEST_FIELDS})
        atomic_write_text(self.manifest_path, buf.getvalue())

    # -- journal -----------------------------------------------------------------------------
    def journal(self, op: str, **data: Any) -> dict[str, Any]:
        """Append one record and fsync it before the caller touches any file."""
        rec = {"ts": round(time.time(), 3), "op": op, **data}
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.journal_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return rec

    def read_journal(self) -> list[dict[str, Any]]:
        if not self.journal_path.exists():
            return []
        out = []
        for line in self.journal_path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a torn last line from a crash is ignored, never fatal
        return out

    # -- report ------------------------------------------------------------------------------
    def load_report(self) -> Report:
        """The typed report (an empty one when there is none yet or it is unreadable)."""
        from .report import Report

        if not self.report_path.exists():
            return Report(name=self.name)
        try:
            data = json.loads(self.report_path.read_text())
            return Report.from_dict(data) if isinstance(data, dict) else Report(name=self.name)
        except (ValueError, TypeError):
            return Report(name=self.name)

    def save_report(self, report: Report) -> None:
        atomic_write_text(self.report_path, report.to_json())


def list_workspaces(datasets: Path) -> list[Workspace]:
    """Workspaces under a datasets folder, newest first."""
    if not datasets.is_dir():
        return []
    found = [Workspace(p) for p in datasets.iterdir() if (p / "recipe.json").exists()]
    return sorted(found, key=lambda w: w.recipe_path.stat().st_mtime, reverse=True)
