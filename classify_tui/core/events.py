"""Progress events: the only way core talks to a UI. Nothing in core prints.

An event's ``data`` is one of the typed payloads below (or None), so a screen reads
``ev.data.loss`` rather than guessing at string keys; they pickle, so events cross from the
build's child process (core/isolated.py) unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrainingStarted:
    """A training run's settings, as chosen (the device after ``auto``, the lr after the default)."""

    arch: str
    device: str
    size: int
    epochs: int
    lr: float


@dataclass(frozen=True)
class BatchDone:
    """One training batch. ``model``/``models`` (1-based) when a stage trains several models."""

    epoch: int
    epochs: int
    loss: float
    images_per_s: float  # this epoch so far, data path included
    phase: str = "train"
    model: int | None = None
    models: int | None = None


@dataclass(frozen=True)
class EpochDone:
    """One finished epoch with fastai's recorded metrics."""

    epoch: int
    epochs: int
    train_loss: float
    valid_loss: float
    error_rate: float
    images_per_s: float  # training images per second, data path included
    model_images_per_s: float  # the same images over the time spent in forward, backward and step
    model: int | None = None
    models: int | None = None


@dataclass(frozen=True)
class StageCounts:
    """What a finished stage did, e.g. ``{"kept": 1790, "rejected": 7}`` (report.json's ``counts``)."""

    counts: dict[str, Any] = field(default_factory=dict)


Payload = TrainingStarted | BatchDone | EpochDone | StageCounts | None
PAYLOADS = (TrainingStarted, BatchDone, EpochDone, StageCounts)


@dataclass(frozen=True)
class Event:
    """One progress report.

    ``kind`` is one of: ``start``, ``progress``, ``info``, ``warning``, ``end`` (data:
    StageCounts), ``epoch`` (EpochDone) and ``batch`` (BatchDone); a training's first ``info``
    carries TrainingStarted.
    """

    stage: str
    kind: str
    message: str = ""
    done: int | None = None
    total: int | None = None
    data: Payload = None

    def __post_init__(self) -> None:
        if self.data is not None and not isinstance(self.data, PAYLOADS):
            raise TypeError(f"Event data must be one of {[c.__name__ for c in PAYLOADS]}, not {type(self.data).__name__}")


OnEvent = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """Default sink when the caller does not want progress."""
