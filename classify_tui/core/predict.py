"""Predict with an exported model using exactly the preprocessing its config.json declares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .modelio import load_model


@dataclass
class Prediction:
    path: str
    label: str = ""
    prob: float = 0.0
    probs: dict[str, float] = field(default_factory=dict)
    error: str = ""


@dataclass
class LoadedModel:
    model: Any
    labels: list[str]
    transform: Any


def load_exported(directory: Path) -> LoadedModel:
    import timm.data

    model, labels, _cfg = load_model(directory)
    transform = timm.data.create_transform(**timm.data.resolve_data_config({}, model=model))
    return LoadedModel(model, labels, transform)


def predict_paths(lm: LoadedModel, paths: list[Path]) -> list[Prediction]:
    """One Prediction per path, in order; a bad image yields an error, not an exception."""
    import torch
    from PIL import Image, UnidentifiedImageError

    out = []
    for p in paths:
        try:
            with Image.open(p) as im:
                x = lm.transform(im.convert("RGB"))[None]
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            out.append(Prediction(str(p), error=f"cannot read image: {exc.__class__.__name__}: {exc}"[:200]))
            continue
        with torch.inference_mode():
            probs = lm.model(x).softmax(-1)[0].tolist()
        best = max(range(len(probs)), key=probs.__getitem__)
        out.append(Prediction(str(p), lm.labels[best], round(probs[best], 6),
                              {lab: round(v, 6) for lab, v in zip(lm.labels, probs)}))
    return out
