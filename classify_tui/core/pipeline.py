"""The whole loop as resumable stages: search -> download -> verify -> train -> review -> export.

Both the CLI and the TUI call :func:`build`; it reports through ``on_event`` and never prints.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import failpoints
from .download import DownloadOptions, FetchResult, download_all
from .errors import Cancelled, UserError
from .events import Event, OnEvent, StageCounts, ignore
from .report import Report
from .sources import Candidate, defaults_for, iter_candidates, split_source
from .stage_results import (
    DownloadResult,
    ExportResult,
    ReviewResult,
    SearchResult,
    StageResult,
    TrainResult,
    VerifyResult,
)
from .stages import DATA_STAGES, STAGES
from .verify import verify_rows
from .workspace import CANDIDATE, DOWNLOADED, FAILED, KEPT, REJECTED, Recipe, Row, Workspace


@dataclass
class BuildOptions:
    stop_after: str = "export"
    from_stage: str | None = None
    exports_dir: Path = Path("exports")
    download: DownloadOptions = field(default_factory=DownloadOptions)
    cancel: threading.Event = field(default_factory=threading.Event)
    ddgs_factory: Callable[[], Any] | None = None
    sleep: Callable[[float], None] | None = None
    workers: int | None = None


def resolve_recipe(recipe: Recipe) -> Recipe:
    """Fill 0-valued options from the source's defaults (digits are tiny, photos are not)."""
    d = defaults_for(recipe.source)
    if not recipe.size:
        recipe.size = d.size
    if not recipe.epochs:
        recipe.epochs = d.epochs
    if recipe.source in ("digits", "mnist"):
        recipe.flip = d.flip
        recipe.shuffle_channels = d.shuffle_channels
        recipe.min_side = min(recipe.min_side, d.min_side)
    return recipe


def stage_index(name: str) -> int:
    if name not in STAGES:
        raise UserError(f"unknown stage {name!r}; use one of {', '.join(STAGES)}")
    return STAGES.index(name)


def done_stages(ws: Workspace) -> set[str]:
    """Stages whose last completion is newer than the last change that invalidates them.

    An undo that exactly reverses the latest apply restores what that apply invalidated, so
    apply-then-undo does not force a retrain of unchanged data. An image added by hand
    (``add_image``) makes training stale like a ``stage_reset`` from train.
    """
    done: set[str] = set()
    before_apply: dict[str, set[str]] = {}  # apply_id -> stages done just before it
    last_change = ""
    for rec in ws.read_journal():
        op = rec.get("op")
        if op == "stage_done":
            done.add(rec["stage"])
            last_change = ""
        elif op == "undo_end" and rec.get("of") and rec.get("of") == last_change:
            done = before_apply.pop(rec["of"], done)
            last_change = ""
        elif op in ("apply_end", "undo_end", "stage_reset", "add_image"):  # add_image: core/adding.py
            if op == "apply_end":
                before_apply[rec.get("apply_id", "")] = set(done)
                last_change = rec.get("apply_id", "")
            else:
                last_change = ""
            # Cleaning changes the data: everything from train on is stale.
            for s in STAGES[stage_index(rec.get("stage", "train")) :]:
                done.discard(s)
    return done


# -- data stages -----------------------------------------------------------------------------


def run_search(ws: Workspace, recipe: Recipe, rows: dict[str, Row], on_event: OnEvent, opts: BuildOptions,
               seen: dict[str, Candidate] | None = None) -> int:
    """Add a candidate row for every new (label, source); returns how many were new.

    Candidates are also kept in ``seen`` so that download does not rebuild them (digits would
    otherwise be rendered to PNG twice).
    """
    kind, _ = split_source(recipe.source)
    have: dict[str, int] = {}
    for r in rows.values():
        have[r.label] = have.get(r.label, 0) + 1
    labels = recipe.labels
    if kind == "ddg":  # searching is slow and rate-limited: only labels still short of the goal
        labels = [lb for lb in recipe.labels if have.get(lb, 0) < recipe.per_label]
        if not labels:
            return 0
    sub = replace(recipe, labels=labels)
    new = 0
    on_event(Event("search", "start", f"searching {len(labels)} labels", 0, len(labels)))
    for cand in iter_candidates(sub, on_event, ddgs_factory=opts.ddgs_factory, sleep=opts.sleep):
        if opts.cancel.is_set():
            raise Cancelled()
        rid = Row.make_id(cand.label, cand.source)
        if seen is not None:
            seen[rid] = cand
        if rid in rows:
            continue
        rows[rid] = Row(id=rid, source=cand.source, label=cand.label, query=cand.query)
        new += 1
        if new % 200 == 0:
            ws.save_manifest(rows)
            on_event(Event("search", "progress", f"{new} candidates", new, None))
    ws.save_manifest(rows)
    return new


def _candidates_for(recipe: Recipe, rows: list[Row], on_event: OnEvent,
                    seen: dict[str, Candidate] | None = None) -> dict[str, Candidate]:
    """The Candidate for each row: URLs from the row, local items from this run's search, or
    (on resume) from the source again."""
    kind, _ = split_source(recipe.source)
    if kind in ("ddg", "urls"):
        guard = kind == "ddg"
        return {r.id: Candidate(r.label, r.source, r.query, guard=guard) for r in rows}
    wanted = {r.id for r in rows}
    seen = seen or {}
    if wanted <= seen.keys():
        return {rid: seen[rid] for rid in wanted}
    out: dict[str, Candidate] = {}
    for cand in iter_candidates(recipe, on_event):
        rid = Row.make_id(cand.label, cand.source)
        if rid in wanted:
            out[rid] = cand
    return out


def run_download(ws: Workspace, recipe: Recipe, rows: dict[str, Row], on_event: OnEvent, opts: BuildOptions,
                 seen: dict[str, Candidate] | None = None) -> dict[str, int]:
    todo = [r for r in rows.values() if r.status == CANDIDATE]
    # A crash after the rename but before the manifest save left the file: adopt it.
    for r in todo:
        if (ws.incoming / r.id).exists():
            r.status = DOWNLOADED
    todo = [r for r in todo if r.status == CANDIDATE]
    cands = _candidates_for(recipe, todo, on_event, seen)
    jobs = []
    for r in todo:
        if r.id in cands:
            jobs.append((r.id, cands[r.id]))
        else:
            r.status, r.reason = FAILED, "source no longer offers this item"
    counts = {"downloaded": 0, "failed": 0, "rejected": 0}
    last_save = time.monotonic()
    on_event(Event("download", "start", f"fetching {len(jobs)} images", 0, len(jobs)))

    def on_result(row_id: str, res: FetchResult) -> None:
        nonlocal last_save
        failpoints.point("download")
        row = rows[row_id]
        if res.ok:
            row.status, row.reason = DOWNLOADED, ""
            counts["downloaded"] += 1
        else:
            row.status = REJECTED if res.refused else FAILED
            row.reason = res.reason or "unknown failure"
            counts["rejected" if res.refused else "failed"] += 1
        if time.monotonic() - last_save > 2.0:
            ws.save_manifest(rows)
            last_save = time.monotonic()

    opts_dl = DownloadOptions(**{**opts.download.__dict__, "max_bytes": recipe.max_bytes})
    try:
        download_all(jobs, ws.incoming, opts_dl, on_result, on_event, opts.cancel)
    finally:
        ws.save_manifest(rows)  # Ctrl-C keeps everything fetched so far
    return counts


def run_verify(ws: Workspace, recipe: Recipe, rows: dict[str, Row], on_event: OnEvent, opts: BuildOptions) -> dict[str, int]:
    try:
        return verify_rows(ws, rows, recipe.min_side, on_event, opts.cancel, opts.workers, size=recipe.size)
    finally:
        ws.save_manifest(rows)


# -- orchestration ---------------------------------------------------------------------------


@dataclass
class BuildContext:
    """What the stages of one build share. Each stage reads and updates it through typed fields."""

    ws: Workspace
    recipe: Recipe
    rows: dict[str, Row]
    report: Report
    on_event: OnEvent
    opts: BuildOptions
    last: int  # index of the last stage to run
    seen: dict[str, Candidate] = field(default_factory=dict)  # search -> download, within one run
    trained: Any = None  # train -> review, within one run (train_stage.TrainedModel)


def _search_stage(ctx: BuildContext) -> SearchResult:
    new = run_search(ctx.ws, ctx.recipe, ctx.rows, ctx.on_event, ctx.opts, ctx.seen)
    return SearchResult(new_candidates=new, candidates=len(ctx.rows))


def _download_stage(ctx: BuildContext) -> DownloadResult:
    return DownloadResult(**run_download(ctx.ws, ctx.recipe, ctx.rows, ctx.on_event, ctx.opts, ctx.seen))


def _verify_stage(ctx: BuildContext) -> VerifyResult:
    result = VerifyResult(**run_verify(ctx.ws, ctx.recipe, ctx.rows, ctx.on_event, ctx.opts))
    result.kept_total = sum(1 for r in ctx.rows.values() if r.status == KEPT)
    result.per_label = {lb: 0 for lb in ctx.recipe.labels}
    for r in ctx.rows.values():
        if r.status == KEPT and r.label in result.per_label:
            result.per_label[r.label] += 1
    empty = [lb for lb, n in result.per_label.items() if n == 0]
    if empty and ctx.last >= stage_index("train"):
        raise UserError(f"no usable images for label(s) {', '.join(empty)}; see manifest.csv reasons")
    return result


def _train_stage(ctx: BuildContext) -> TrainResult:
    from .train_stage import run_train

    result, ctx.trained = run_train(ctx.ws, ctx.recipe, ctx.rows, ctx.on_event, ctx.opts.cancel, ctx.report)
    return result


def _review_stage(ctx: BuildContext) -> ReviewResult:
    from .review import run_review

    return run_review(ctx.ws, ctx.recipe, ctx.rows, ctx.on_event, ctx.opts.cancel, ctx.report, ctx.trained)


def _export_stage(ctx: BuildContext) -> ExportResult:
    from .export import run_export

    return run_export(ctx.ws, ctx.recipe, ctx.opts.exports_dir, ctx.on_event, ctx.report)


STAGE_RUNNERS: dict[str, Callable[[BuildContext], StageResult]] = {
    "search": _search_stage, "download": _download_stage, "verify": _verify_stage,
    "train": _train_stage, "review": _review_stage, "export": _export_stage,
}
assert tuple(STAGE_RUNNERS) == STAGES


def build(ws: Workspace, recipe: Recipe, on_event: OnEvent = ignore, opts: BuildOptions | None = None) -> Report:
    """Run (or resume) the loop up to ``opts.stop_after``; returns the report.

    Holds the workspace lock throughout: a second build, apply or undo of the same workspace
    (from any process) gets WorkspaceBusy instead of racing this one."""
    from .lock import mutating

    with mutating(ws, "build"):
        return _build(ws, recipe, on_event, opts or BuildOptions())


def _build(ws: Workspace, recipe: Recipe, on_event: OnEvent, opts: BuildOptions) -> Report:
    recipe = resolve_recipe(recipe)
    last = stage_index(opts.stop_after)
    if opts.from_stage:
        stage_index(opts.from_stage)
    ws.ensure()
    from .cleaning import recover

    recover(ws)  # finish any apply/undo a crash interrupted before reading the manifest
    ws.save_recipe(recipe)
    if opts.from_stage:
        ws.journal("stage_reset", stage=opts.from_stage)
    done = done_stages(ws)
    report = ws.load_report()
    report.labels = report.labels or list(recipe.labels)
    report.name, report.source = ws.name, recipe.source
    ctx = BuildContext(ws, recipe, ws.load_manifest(), report, on_event, opts, last)
    for stage in STAGES[: last + 1]:
        if stage not in DATA_STAGES and stage in done:
            continue  # resumes past finished stages; --from journals a reset that clears them
        if opts.cancel.is_set():
            raise Cancelled()
        t0 = time.monotonic()
        on_event(Event(stage, "start", f"{stage}..."))
        counts = STAGE_RUNNERS[stage](ctx).to_dict()
        report.counts[stage] = counts
        report.seconds[stage] = round(time.monotonic() - t0, 2)
        ws.journal("stage_done", stage=stage, counts=counts)
        ws.save_report(report)
        on_event(Event(stage, "end", f"{stage} done", data=StageCounts(counts)))
    return report
