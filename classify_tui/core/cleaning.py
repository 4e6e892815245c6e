"""Plan-then-apply cleaning with a write-ahead journal, so every change is reversible.

Protocol: the whole plan (every move, with the row's state before and after) is journaled and
fsynced *before* any file moves. Moves are renames within the workspace (atomic), files go to
``trash/`` and are never unlinked. If the process dies mid-apply, :func:`recover` finds the
``*_begin`` record without its ``*_end``, finishes the remaining moves and rewrites the
manifest, so a re-run repairs everything and no file is lost.
"""

from __future__ import annotations

import csv
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from . import failpoints
from .errors import UserError
from .lock import WorkspaceBusy, mutating
from .workspace import DELETED, KEPT, Row, Workspace

ACTIONS = ("delete", "relabel", "keep")


@dataclass(frozen=True)
class Decision:
    path: str
    action: str
    label: str = ""


@dataclass
class ApplyResult:
    apply_id: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def applied(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "keep")

    def summary(self) -> str:
        return ", ".join(f"{v} {k}" for k, v in sorted(self.counts.items())) or "nothing"


def read_decisions(path: Path) -> list[Decision]:
    """Read ``path,action[,label]`` rows (a header line is optional)."""
    if not path.is_file():
        raise UserError(f"decisions file {path} not found")
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for n, rec in enumerate(csv.reader(fh), start=1):
            if not rec or not rec[0].strip() or (n == 1 and rec[0].strip().lower() == "path"):
                continue
            action = rec[1].strip().lower() if len(rec) > 1 else ""
            if action not in ACTIONS:
                raise UserError(f"{path}:{n}: action must be delete, relabel or keep, not {action!r}")
            label = rec[2].strip() if len(rec) > 2 else ""
            if action == "relabel" and not label:
                raise UserError(f"{path}:{n}: relabel needs a label in the third column")
            out.append(Decision(rec[0].strip(), action, label))
    return out


def _unique(ws: Workspace, rel: str, taken: set[str]) -> str:
    p = PurePosixPath(rel)
    cand, i = rel, 1
    while cand in taken or (ws.root / cand).exists():
        cand = str(p.with_name(f"{p.stem}~{i}{p.suffix}"))
        i += 1
    taken.add(cand)
    return cand


def plan(ws: Workspace, decisions: list[Decision], labels: list[str]) -> list[dict[str, Any]]:
    """Turn decisions into concrete moves; validates everything before anything happens."""
    rows = ws.load_manifest()
    by_path = {r.path: r for r in rows.values() if r.status == KEPT and r.path}
    moves: list[dict[str, Any]] = []
    taken: set[str] = set()
    seen: set[str] = set()
    for d in decisions:
        path = d.path.replace("\\", "/")
        if path.startswith(str(ws.root).replace("\\", "/") + "/"):
            path = path[len(str(ws.root)) + 1 :]
        if path in seen:
            raise UserError(f"{path} appears twice in the decisions")
        seen.add(path)
        row = by_path.get(path)
        if row is None:
            raise UserError(f"{path} is not a kept image of workspace {ws.name}")
        if d.action == "keep":
            continue
        name = PurePosixPath(path).name
        if d.action == "delete":
            dst = _unique(ws, f"trash/deleted/{row.label}/{name}", taken)
            after = {"status": DELETED, "path": "", "label": row.label, "trash": dst,
                     "reason": "deleted in review"}
        else:
            if d.label not in labels:
                raise UserError(f"relabel {path}: {d.label!r} is not one of {', '.join(labels)}")
            if d.label == row.label:
                continue
            dst = _unique(ws, f"images/{d.label}/{name}", taken)
            after = {"status": KEPT, "path": dst, "label": d.label, "trash": row.trash,
                     "reason": f"relabelled from {row.label!r} in review"}
        before = {"status": row.status, "path": row.path, "label": row.label, "trash": row.trash,
                  "reason": row.reason}
        moves.append({"row": row.id, "action": d.action, "src": path, "dst": dst, "before": before, "after": after})
    return moves


def _do_move(ws: Workspace, src: str, dst: str) -> None:
    s, t = ws.root / src, ws.root / dst
    if s.exists() and not t.exists():
        t.parent.mkdir(parents=True, exist_ok=True)
        os.replace(s, t)
        failpoints.point("move")


def _update_rows(ws: Workspace, moves: list[dict[str, Any]], key: str) -> None:
    rows = ws.load_manifest()
    for m in moves:
        row: Row | None = rows.get(m["row"])
        if row is None:
            continue
        for k, v in m[key].items():
            setattr(row, k, v)
    ws.save_manifest(rows)


def _execute(ws: Workspace, kind: str, moves: list[dict[str, Any]], state_key: str, **extra: Any) -> ApplyResult:
    apply_id = uuid.uuid4().hex[:12]
    ws.journal(f"{kind}_begin", apply_id=apply_id, moves=moves, **extra)  # write-ahead
    for m in moves:
        _do_move(ws, m["src"], m["dst"])
    _update_rows(ws, moves, state_key)
    counts = dict(Counter(m["action"] for m in moves))
    ws.journal(f"{kind}_end", apply_id=apply_id, counts=counts, **extra)
    return ApplyResult(apply_id, counts)


def recover_if_idle(ws: Workspace) -> int:
    """recover() unless another process holds the workspace (it recovers itself when it starts)."""
    try:
        with mutating(ws, "recovery"):
            return recover(ws)
    except WorkspaceBusy:
        return 0


def recover(ws: Workspace) -> int:
    """Finish any apply/undo that a crash interrupted; returns how many were repaired.
    The caller holds the workspace lock."""
    open_ops: dict[str, dict[str, Any]] = {}
    for rec in ws.read_journal():
        op = rec.get("op", "")
        if op in ("apply_begin", "undo_begin"):
            open_ops[rec["apply_id"]] = rec
        elif op in ("apply_end", "undo_end"):
            open_ops.pop(rec.get("apply_id"), None)
    for apply_id, rec in open_ops.items():
        kind = rec["op"].split("_")[0]
        for m in rec["moves"]:
            _do_move(ws, m["src"], m["dst"])
        _update_rows(ws, rec["moves"], "after")
        counts = dict(Counter(m["action"] for m in rec["moves"]))
        extra = {"of": rec["of"]} if "of" in rec else {}
        ws.journal(f"{kind}_end", apply_id=apply_id, counts=counts, recovered=True, **extra)
    return len(open_ops)


def apply_decisions(ws: Workspace, decisions: list[Decision]) -> ApplyResult:
    with mutating(ws, "apply"):
        return _apply(ws, decisions)


def _apply(ws: Workspace, decisions: list[Decision]) -> ApplyResult:
    recover(ws)
    labels = ws.load_recipe().labels
    moves = plan(ws, decisions, labels)
    keeps = sum(1 for d in decisions if d.action == "keep")
    result = _execute(ws, "apply", moves, "after")
    if keeps:
        result.counts["keep"] = keeps
    return result


def undo_last(ws: Workspace) -> int:
    """Reverse the most recent apply that has not been undone; returns the number of moves."""
    with mutating(ws, "undo"):
        return _undo_last(ws)


def _undo_last(ws: Workspace) -> int:
    recover(ws)
    applies: list[dict[str, Any]] = []
    begins: dict[str, dict[str, Any]] = {}
    undone: set[str] = set()
    for rec in ws.read_journal():
        if rec.get("op") == "apply_begin":
            begins[rec["apply_id"]] = rec
        elif rec.get("op") == "apply_end" and rec["apply_id"] in begins:
            applies.append(begins[rec["apply_id"]])
        elif rec.get("op") == "undo_end":
            undone.add(rec.get("of", ""))
    pending = [a for a in applies if a["apply_id"] not in undone]
    if not pending:
        raise UserError(f"nothing to undo in {ws.name}")
    last = pending[-1]
    reverse = [
        {"row": m["row"], "action": f"undo-{m['action']}", "src": m["dst"], "dst": m["src"],
         "before": m["after"], "after": m["before"]}
        for m in reversed(last["moves"])
    ]
    _execute(ws, "undo", reverse, "after", of=last["apply_id"])
    return len(reverse)
