"""What each stage of a build did: one typed result per stage.

The build table (pipeline.STAGE_RUNNERS) returns these; report.json keeps them under
``counts[stage]`` as plain JSON (the same keys as the fields), and ``Report.result(VerifyResult)``
reads one back typed, so no screen or command indexes those counts by string key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, TypeVar

R = TypeVar("R", bound="StageResult")


@dataclass
class StageResult:
    STAGE: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls: type[R], data: dict[str, Any]) -> R:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class SearchResult(StageResult):
    STAGE: ClassVar[str] = "search"
    new_candidates: int = 0
    candidates: int = 0  # rows in the manifest after the search


@dataclass
class DownloadResult(StageResult):
    STAGE: ClassVar[str] = "download"
    downloaded: int = 0
    failed: int = 0
    rejected: int = 0  # refused before fetching (e.g. a private host)


@dataclass
class VerifyResult(StageResult):
    STAGE: ClassVar[str] = "verify"
    kept: int = 0  # this run
    rejected: int = 0
    duplicate: int = 0
    prepared: int = 0  # prepared copies written (core/prepared.py)
    kept_total: int = 0  # in the workspace
    per_label: dict[str, int] = field(default_factory=dict)


@dataclass
class TrainResult(StageResult):
    STAGE: ClassVar[str] = "train"
    images: int = 0
    train: int = 0
    valid: int = 0
    error_rate: float = 0.0
    images_per_s: float = 0.0
    full_size_decodes: int = 0


@dataclass
class ReviewResult(StageResult):
    STAGE: ClassVar[str] = "review"
    rows: int = 0
    suspects: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


@dataclass
class ExportResult(StageResult):
    STAGE: ClassVar[str] = "export"
    export_dir: str = ""
    num_classes: int | None = None

