"""What a re-run must redo when its options differ from the stored recipe.

A build resumes past finished stages, so a changed option would otherwise be saved to
recipe.json and silently ignored. Each option invalidates a stage and everything after it:

    labels, source, per-label, query, exclude  -> search (refetch, then retrain)
    max_bytes                                  -> download
    min-side                                   -> verify
    arch, weights, size, epochs, lr, batch size,
    device, seed, valid split, flip            -> train
    folds, repeats, review mode                -> review

Only changes that matter are reported: to a stage that has finished (or one after it), and to
an option the source uses (digits ignore --per-label). Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .sources import split_source
from .stages import STAGES
from .workspace import Recipe, Workspace

OPTION_STAGE = {
    "labels": "search", "source": "search", "per_label": "search", "queries": "search", "excludes": "search",
    "max_bytes": "download",
    "min_side": "verify",
    "arch": "train", "weights": "train", "size": "train", "epochs": "train", "lr": "train",
    "batch_size": "train", "device": "train", "seed": "train", "valid_pct": "train", "flip": "train",
    "shuffle_channels": "train",
    "folds": "review", "repeats": "review", "review": "review",
}  # fmt: skip
UNKNOWN_STAGE = "train"  # a recipe field this table does not know yet: assume it changes the model
FLAGS = {"labels": "--labels", "source": "--source", "per_label": "--per-label", "queries": "--query",
         "excludes": "--exclude", "min_side": "--min-side", "batch_size": "--batch-size"}
VERB = {"search": "refetching from search", "download": "downloading again",
        "verify": "verifying again", "train": "retraining from train", "review": "rescoring the review",
        "export": "exporting again"}


def flag(option: str) -> str:
    return FLAGS.get(option, "--" + option.replace("_", "-"))


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "(none)"
    return "(default)" if value in ("", 0, 0.0) and not isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Change:
    option: str
    old: Any
    new: Any
    stage: str

    @property
    def text(self) -> str:
        return f"{flag(self.option)} {_show(self.old)} → {_show(self.new)}"


def used_by_source(option: str, source: str) -> bool:
    """Whether the source reads this option at all (digits ignore --per-label and --query)."""
    kind, _ = split_source(source)
    if option == "per_label":
        return kind in ("ddg", "mnist")
    if option in ("queries", "excludes"):
        return kind == "ddg"
    return True


def recipe_changes(old: Recipe, new: Recipe) -> list[Change]:
    """Every option that differs, with the stage it invalidates, in stage order."""
    out = []
    for f in fields(Recipe):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a == b or not used_by_source(f.name, new.source):
            continue
        out.append(Change(f.name, a, b, OPTION_STAGE.get(f.name, UNKNOWN_STAGE)))
    return sorted(out, key=lambda c: STAGES.index(c.stage))


def stages_done(ws: Workspace) -> set[str]:
    """Stages whose results are current (the pipeline's own reading of the journal)."""
    from . import pipeline

    reader = pipeline.done_stages
    return set(reader(ws)) if ws.journal_path.exists() else set()


@dataclass(frozen=True)
class RerunPlan:
    changes: list[Change]  # those that force work to be redone
    from_stage: str | None  # where the build must start again; None: resume as usual
    ignored: list[str]  # options given that this source does not use

    def message(self) -> str:
        """One line for stderr, or empty: '--epochs 2 → 5: retraining from train'."""
        if not self.changes or self.from_stage is None:
            return ""
        return f"{', '.join(c.text for c in self.changes)}: {VERB[self.from_stage]}"


def plan_rerun(ws: Workspace, stored: Recipe | None, new: Recipe, from_stage: str | None = None,
               given: set[str] | None = None) -> RerunPlan:
    """Compare the recipe a re-run asks for with the stored one. ``from_stage`` (the user's
    --from) wins when it is earlier; ``given`` names the options the user typed, to warn about
    those this source ignores."""
    ignored = sorted(flag(o) for o in (given or set()) if not used_by_source(o, new.source))
    if stored is None:
        return RerunPlan([], from_stage, ignored)
    done = stages_done(ws)
    changes = [c for c in recipe_changes(stored, new)
               if any(s in done for s in STAGES[STAGES.index(c.stage):])]
    starts = [c.stage for c in changes] + ([from_stage] if from_stage else [])
    start = min(starts, key=STAGES.index) if starts else None
    return RerunPlan(changes, start, ignored)
