"""Labels become folder names, so they are validated before anything touches disk."""

from __future__ import annotations

import unicodedata

from .errors import UserError


def validate_labels(labels: list[str]) -> list[str]:
    """Return the stripped labels or raise UserError naming the first bad one."""
    out: list[str] = []
    seen: dict[str, str] = {}
    for raw in labels:
        label = raw.strip()
        if not label:
            raise UserError("empty label in --labels (check for a stray comma)")
        if any(unicodedata.category(ch).startswith("C") for ch in label):
            raise UserError(f"label {label!r} contains a control character")
        if "/" in label or "\\" in label or "\x00" in label:
            raise UserError(f"label {label!r} contains a path separator")
        if label in (".", ".."):
            raise UserError(f"label {label!r} is not a valid folder name")
        key = label.casefold()
        if key in seen:
            raise UserError(f"duplicate label {label!r} (same as {seen[key]!r}, ignoring case)")
        seen[key] = label
        out.append(label)
    return out


def parse_labels(text: str | None) -> list[str]:
    """Split a comma-separated --labels value; None or blank means no labels given."""
    if text is None or not text.strip():
        return []
    return validate_labels(text.split(","))
