"""Add one image to a workspace by hand (a drawing from the app's canvas), through the same
import path as every download: a manifest row, the file in ``incoming/``, verify, a journal line.

Order, so that a crash anywhere leaves nothing half done:

1. the bytes land in ``incoming/<id>`` complete, as a download's do (``download.materialise_local``:
   written to ``.part``, then renamed);
2. the manifest gets the row as ``downloaded``: from here on, the next build's verify would
   finish the import just as it finishes an interrupted download;
3. the journal records ``add_image`` (fsynced), which marks training stale: the pipeline's
   ``done_stages`` reads it like ``stage_reset`` from ``train``, so the next build retrains and
   the app says ``changed: t retrains``;
4. verify decodes, normalises, dedupes and files the image under ``images/<label>/``, and the
   manifest is saved with the row's final status.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from .download import materialise_local
from .errors import UserError
from .events import ignore
from .lock import mutating
from .sources import Candidate
from .workspace import DOWNLOADED, KEPT, Row, Workspace

JOURNAL_OP = "add_image"


def add_image(ws: Workspace, image: bytes | Path, label: str, source: str = "drawn") -> Row:
    """Import ``image`` (bytes or a file) into ``ws`` under ``label``; returns its manifest row.

    ``source`` names where it came from: the row's source is ``"{source}:{unique id}"`` and its
    query is ``source``. Raises UserError for a label the workspace does not have, for a file
    that verify rejects or that duplicates a kept image (the row stays in the manifest with its
    reason, as any rejected download does), and WorkspaceBusy while a build, apply or undo holds
    the workspace."""
    from .cleaning import recover
    from .verify import verify_rows

    data = Path(image).read_bytes() if isinstance(image, (str, Path)) else bytes(image)
    with mutating(ws, "add image"):
        recover(ws)  # finish an apply/undo a crash interrupted before reading the manifest
        recipe = ws.load_recipe()
        if label not in recipe.labels:
            raise UserError(f"{label!r} is not a label of {ws.name} ({', '.join(recipe.labels)})")
        ws.ensure()
        rows = ws.load_manifest()
        src = f"{source}:{uuid.uuid4().hex[:12]}"
        row = Row(id=Row.make_id(label, src), source=src, label=label, status=DOWNLOADED, query=source)
        fetched = materialise_local(Candidate(label, src, source, data=data, guard=False), ws.incoming / row.id)
        if not fetched.ok:
            raise UserError(f"not added: {fetched.reason}")
        rows[row.id] = row
        ws.save_manifest(rows)
        ws.journal(JOURNAL_OP, stage="train", row=row.id, label=label, source=src)
        # verify this row against the kept images only (other downloaded rows wait for their build)
        scope = {k: r for k, r in rows.items() if r.status == KEPT or k == row.id}
        verify_rows(ws, scope, recipe.min_side, ignore, workers=1, size=recipe.size)
        ws.save_manifest(rows)
    if row.status != KEPT:
        raise UserError(f"not added: {row.reason}")
    return row
