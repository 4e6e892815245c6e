"""Real MNIST through fastai's untar_data when online; a clear error offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError
from . import Candidate


def mnist_candidates(labels: list[str], per_label: int) -> Iterator[Candidate]:
    try:
        from fastai.data.external import URLs, untar_data

        root = Path(untar_data(URLs.MNIST))
    except Exception as exc:  # offline: socket/URL errors surface as many types
        raise UserError(
            f"could not download MNIST ({type(exc).__name__}); offline? use --source digits instead"
        ) from None
    wanted = labels or [str(i) for i in range(10)]
    for label in wanted:
        files = sorted((root / "training" / label).glob("*.png"))[: per_label or None]
        for path in files:
            yield Candidate(label=label, source=str(path), local=path, query="mnist", guard=False)
