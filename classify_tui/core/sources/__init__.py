"""Where candidate images come from. Each source yields Candidates; download fetches them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..events import OnEvent
from ..workspace import Recipe


@dataclass(frozen=True)
class Candidate:
    """One image to fetch. ``source`` is a URL or an absolute path; ``data`` is inline bytes."""

    label: str
    source: str
    query: str = ""
    local: Path | None = None
    data: bytes | None = None
    guard: bool = True  # refuse private/loopback hosts (search results only)

    @property
    def is_remote(self) -> bool:
        return self.local is None and self.data is None


@dataclass(frozen=True)
class SourceDefaults:
    """Training defaults a source may carry (digits are tiny and must not be flipped)."""

    size: int = 224
    epochs: int = 3
    flip: bool = True
    shuffle_channels: bool = False  # colour is not part of the label
    min_side: int = 32


KINDS = ("ddg", "folder", "urls", "digits", "mnist")


def split_source(spec: str) -> tuple[str, str]:
    """``folder:PATH`` -> ("folder", "PATH"); ``ddg`` -> ("ddg", "")."""
    kind, _, arg = spec.partition(":")
    if kind not in KINDS:
        raise UserError(f"unknown source {spec!r}; use one of ddg, folder:PATH, urls:FILE, digits, mnist")
    if kind in ("folder", "urls") and not arg:
        raise UserError(f"source {kind} needs a path, e.g. {kind}:/data/{'pets' if kind == 'folder' else 'urls.csv'}")
    return kind, arg


def defaults_for(spec: str) -> SourceDefaults:
    kind, _ = split_source(spec)
    if kind in ("digits", "mnist"):
        # 6 epochs, not 5: on tinted digits with 8% flipped labels (6 seeds) error 0.114-0.150 ->
        # 0.109-0.139 and flip recall 0.944-0.965 -> 0.951-0.979, for about 8 s more (bench/README.md)
        return SourceDefaults(size=64, epochs=6, flip=False, shuffle_channels=True, min_side=8)
    return SourceDefaults()


def discover_labels(spec: str) -> list[str]:
    """Labels a local source implies when --labels is not given."""
    kind, arg = split_source(spec)
    if kind == "folder":
        from .folder import folder_labels

        return folder_labels(Path(arg))
    if kind == "urls":
        from .urls import url_labels

        return url_labels(Path(arg))
    if kind in ("digits", "mnist"):
        return [str(i) for i in range(10)]
    raise UserError("--labels is required for the ddg source, e.g. --labels bird,kitten,puppy")


def iter_candidates(recipe: Recipe, on_event: OnEvent, ddgs_factory=None, sleep=None) -> Iterator[Candidate]:
    """Yield candidates for the recipe's source, restricted to its labels."""
    kind, arg = split_source(recipe.source)
    if kind == "ddg":
        from .ddg import search_images

        yield from search_images(
            recipe.labels, recipe.queries, recipe.excludes, recipe.per_label, on_event,
            ddgs_factory=ddgs_factory, sleep=sleep,
        )
    elif kind == "folder":
        from .folder import folder_candidates

        yield from folder_candidates(Path(arg), recipe.labels)
    elif kind == "urls":
        from .urls import url_candidates

        yield from url_candidates(Path(arg), recipe.labels)
    elif kind == "digits":
        from .digits import digit_candidates

        yield from digit_candidates(recipe.labels)
    elif kind == "mnist":
        from .mnist import mnist_candidates

        yield from mnist_candidates(recipe.labels, recipe.per_label)
