"""Turning what a user typed (CLI flags or the TUI's New form) into a workspace and recipe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .labels import parse_labels
from .sources import discover_labels, split_source
from .workspace import Recipe, Workspace


def default_name(labels: list[str], source: str) -> str:
    kind = source.split(":", 1)[0]
    if kind in ("digits", "mnist"):
        return kind
    if kind in ("folder", "urls"):
        return Path(source.split(":", 1)[1]).stem or kind
    return re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(labels))[:60].strip("-") or "workspace"


def prepare(datasets: Path, labels_text: str | None, source: str | None, name: str | None) -> tuple[Workspace, Recipe]:
    """The workspace and its recipe: the stored one when only a name is given, else new labels
    and source over any stored options. Raises UserError for bad labels or sources."""
    labels = parse_labels(labels_text)
    if name and not labels and not source:
        ws = Workspace(Path(datasets) / name)
        return ws, ws.load_recipe()  # resume with the stored recipe
    source = source or "ddg"
    split_source(source)
    if not labels:
        labels = discover_labels(source)
    ws = Workspace(Path(datasets) / (name or default_name(labels, source)))
    recipe = ws.load_recipe() if ws.exists() else Recipe()
    recipe.labels, recipe.source = labels, source
    return ws, recipe


def apply_options(recipe: Recipe, options: dict[str, Any]) -> set[str]:
    """Set the options the user gave (None, empty lists and 0 for counts mean "not given") on
    ``recipe``; returns their names. The one place CLI flags and the New form become a recipe."""
    given = set()
    for name, value in options.items():
        if value is None or (isinstance(value, (list, tuple)) and not value):
            continue
        if not hasattr(recipe, name):
            raise ValueError(f"recipe has no option {name!r}")
        setattr(recipe, name, list(value) if isinstance(value, (list, tuple)) else value)
        given.add(name)
    return given
