"""report.json as a typed record: what the build measured, read by the CLI and the app alike.

The JSON keys are the fields' names (so scripts reading report.json keep working); unknown keys
from newer or older versions are ignored when loading.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

from .stage_results import ReviewResult, StageResult

R = TypeVar("R", bound=StageResult)

@dataclass
class TrainingRound:
    """One training of the main model (a retrain after cleaning adds another)."""

    round: int
    finished: float  # unix time
    n_images: int
    error_rate: float
    epochs: list[dict[str, float]] = field(default_factory=list)  # per epoch: losses, error, img/s
    seconds: float = 0.0
    changes_since_previous: dict[str, int] = field(default_factory=dict)  # applied deletes/relabels
    error_change: float | None = None


@dataclass
class ReviewSummary:
    mode: str = "fast"
    method: str = ""  # what the scores were computed from, in words
    suspects: int = 0  # rows with a kind other than "ok"
    rows: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    infer_seconds: float = 0.0


@dataclass
class Report:
    name: str = ""
    source: str = ""
    labels: list[str] = field(default_factory=list)
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)  # per stage: what it did
    seconds: dict[str, float] = field(default_factory=dict)  # per stage
    # the last training, measured on the validation split
    error_rate: float | None = None
    error_rate_tta: float | None = None
    n_train: int = 0
    n_valid: int = 0
    confusion_matrix: list[list[int]] = field(default_factory=list)  # rows actual, columns predicted
    most_confused: list[list[Any]] = field(default_factory=list)  # [actual, predicted, count]
    misclassified: list[list[str]] = field(default_factory=list)  # [path, actual, predicted]: the cells' images
    device: str = ""
    arch: str = ""
    size: int = 0
    epochs: int = 0
    lr: float | None = None
    images_per_s: float = 0.0  # training images per second of training
    compute_images_per_s: float = 0.0  # ... per second spent in forward, backward and step
    data_path_efficiency: float = 0.0  # the first over the second
    full_size_decodes: int = 0  # big photos the last training had to decode (0 once prepared)
    history: list[TrainingRound] = field(default_factory=list)
    review: ReviewSummary | None = None
    export_dir: str = ""

    @property
    def trained(self) -> bool:
        return bool(self.confusion_matrix)

    def result(self, kind: type[R]) -> R | None:
        """What a stage did, typed (core/stage_results.py); None if it has not run."""
        data = self.counts.get(kind.STAGE)
        return kind.from_dict(data) if isinstance(data, dict) else None

    @property
    def review_kinds(self) -> dict[str, int]:
        if self.review is not None and self.review.kinds:
            return dict(self.review.kinds)
        review = self.result(ReviewResult)
        return dict(review.kinds) if review else {}

    def misclassified_in(self, actual: str, predicted: str) -> set[str]:
        """The validation images behind one confusion-matrix cell."""
        return {p for p, a, b in self.misclassified if (a, b) == (actual, predicted)}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in known}
        rounds = {f.name for f in fields(TrainingRound)}
        kw["history"] = [TrainingRound(**{k: v for k, v in h.items() if k in rounds})
                         for h in kw.get("history") or [] if isinstance(h, dict)]
        review = kw.get("review")
        if isinstance(review, dict):
            summary = {f.name for f in fields(ReviewSummary)}
            kw["review"] = ReviewSummary(**{k: v for k, v in review.items() if k in summary})
        else:
            kw["review"] = None
        return cls(**kw)
