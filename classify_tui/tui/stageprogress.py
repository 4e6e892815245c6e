"""Overall progress and time left for a training stage, from core events alone.

A stage may train several models one after another (the review's fold models): batch and epoch
events then carry ``data.model`` and ``data.models`` (1-based). Overall progress is
``(model - 1 + fraction of this model) / models``, where a model's fraction counts its epochs
and batches. Without model fields it is one model; a stage-level ``progress`` event with
done/total is used when no batch says more. The bar's total never jumps between scales.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..core.events import BatchDone, EpochDone, Event


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{max(5, round(seconds / 5) * 5)} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


@dataclass
class StageProgress:
    clock: Callable[[], float] = time.monotonic
    stage: str = ""
    fraction: float | None = None  # 0..1 over the whole stage, None when nothing says yet
    model: int | None = None
    models: int | None = None
    epoch: int | None = None
    epochs: int | None = None
    batch: tuple[int, int] | None = None
    loss: float | None = None
    images_per_s: float | None = None
    started: float | None = None  # when the first measurable work of the stage began
    _start_fraction: float = 0.0
    restarts: int = 0  # without model fields: how often the per-model progress started over

    def reset(self, stage: str) -> None:
        self.__init__(clock=self.clock)  # type: ignore[misc]
        self.stage = stage

    def update(self, ev: Event) -> bool:
        """Take one event; True when the overall fraction changed."""
        if ev.stage != self.stage or ev.kind == "start":
            self.reset(ev.stage)
            if ev.kind == "start":
                return False
        d = ev.data if isinstance(ev.data, (BatchDone, EpochDone)) else None
        if d is not None and d.models:
            self.model, self.models = d.model or 1, d.models
        if ev.kind in ("batch", "epoch"):
            if d is not None and d.epochs > 0:
                self.epochs, self.epoch = d.epochs, d.epoch or 1
            if ev.kind == "batch":
                if ev.total:
                    self.batch = (ev.done or 0, ev.total)
                if isinstance(d, BatchDone):
                    self.loss, self.images_per_s = d.loss, d.images_per_s
            fraction = self._model_fraction(ev)
            if self.models is None and fraction is not None and self.fraction is not None \
                    and fraction < self.fraction:  # within one model it only grows
                self.restarts += 1  # another model of a stage that does not say how many
                self.started = None
            return self._set(fraction)
        if ev.kind == "progress" and ev.total:
            if self.models is None or (ev.done or 0) >= ev.total:  # batches say more, when they come
                return self._set((ev.done or 0) / ev.total)
        if ev.kind == "end":
            return self._set(1.0)
        return False

    def _model_fraction(self, ev: Event) -> float | None:
        epochs = self.epochs or 1
        epoch = self.epoch or 1
        if ev.kind == "epoch":
            within = epoch / epochs  # an epoch event reports a finished epoch
        elif self.batch:
            within = (epoch - 1 + self.batch[0] / self.batch[1]) / epochs
        else:
            return None
        models = self.models or 1
        model = min(self.model or 1, models)
        return (model - 1 + within) / models

    def _set(self, fraction: float | None) -> bool:
        if fraction is None:
            return False
        fraction = min(max(fraction, 0.0), 1.0)
        now = self.clock()
        if self.started is None:
            self.started, self._start_fraction = now, fraction
        changed = fraction != self.fraction
        self.fraction = fraction
        return changed

    def seconds_left(self) -> float | None:
        """Linear in the fraction done since measuring began; None until that says something."""
        if self.fraction is None or self.started is None or self.fraction >= 1:
            return None
        elapsed = self.clock() - self.started
        done = self.fraction - self._start_fraction
        if elapsed < 3 or done < 0.02:
            return None
        return elapsed * (1 - self.fraction) / done

    def text(self) -> str:
        """One line, what matters first: stage, overall %, time left, then model, epoch, batch,
        loss and speed ('review 45%, about 2 min left · model 3/6 · epoch 2/2 · batch 7/18 ...')."""
        head = f"[b]{self.stage}[/b]" if self.stage else ""
        if self.restarts:  # several models, total unknown: the percentage is of this one only
            head += f" model {self.restarts + 1}"
        if self.fraction is not None:
            left = self.seconds_left()
            head += f" {round(100 * self.fraction)}%" + (" of it" if self.restarts else "") \
                + (f", about {duration_text(left)} left" if left is not None and not self.restarts else "")
        parts = [head] if head else []
        if self.models and self.models > 1:
            parts.append(f"model {self.model}/{self.models}")
        if self.epochs:
            parts.append(f"epoch {self.epoch}/{self.epochs}")
        if self.batch:
            parts.append(f"batch {self.batch[0]}/{self.batch[1]}")
        if self.loss is not None:
            parts.append(f"loss {self.loss:.3f}")
        if self.images_per_s:
            parts.append(f"{self.images_per_s:.0f} img/s")
        return " · ".join(parts)
