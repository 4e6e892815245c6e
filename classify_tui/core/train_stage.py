"""The train stage: split, fine-tune, measure on the validation set, and save the model."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .backbone import DataConfig
from .events import Event, OnEvent
from .metrics import confusion, most_confused
from .modelio import save_model
from .prepared import ImageRef, PreparedCache, PrepareStats
from .report import Report, TrainingRound
from .stage_results import TrainResult
from .train import DEFAULT_LR, TrainConfig, predict_probs, train_classifier
from .workspace import KEPT, Recipe, Row, Workspace


def kept_items(ws: Workspace, recipe: Recipe, rows: dict[str, Row]) -> list[Row]:
    return [r for r in rows.values() if r.status == KEPT and r.path and r.label in recipe.labels]


def model_inputs(ws: Workspace, recipe: Recipe, items: list[Row], on_event: OnEvent,
                 cancel: threading.Event | None = None, stage: str = "train") -> tuple[list[Path], PrepareStats]:
    """The file each kept image is read from by the model: its prepared copy when the original
    is much bigger than the training size (made now if missing, see core/prepared.py)."""
    import os

    cache = PreparedCache(ws.root / "cache", recipe.size)
    refs = [ImageRef(ws.root / r.path, r.sha256, r.width, r.height) for r in items]

    def progress(done: int, total: int) -> None:
        on_event(Event(stage, "progress", f"preparing images at {cache.bucket} px", done, total))

    stats = cache.ensure(refs, workers=os.cpu_count() or 1, cancel=cancel, progress=progress)
    if stats.made:
        on_event(Event(stage, "info", f"prepared {stats.made} big images at {cache.bucket} px "
                       f"(cache/{cache.bucket}/; {stats.reused} were ready, {stats.direct} are small enough)"))
    return [cache.path_for(r) for r in refs], stats


def split_indices(n: int, valid_pct: float, seed: int) -> tuple[list[int], list[int]]:
    """fastai's RandomSplitter, so a split here equals the same split in a notebook."""
    from fastai.data.transforms import RandomSplitter

    train, valid = RandomSplitter(valid_pct=valid_pct, seed=seed)(list(range(n)))
    return [int(i) for i in train], [int(i) for i in valid]


def train_config(recipe: Recipe) -> TrainConfig:
    return TrainConfig(arch=recipe.arch, size=recipe.size, epochs=recipe.epochs, batch_size=recipe.batch_size,
                       lr=recipe.lr, device=recipe.device, weights=recipe.weights, flip=recipe.flip,
                       shuffle_channels=recipe.shuffle_channels, seed=recipe.seed)


@dataclass
class TrainedModel:
    """What the train stage hands the review stage within one build (a resumed review reloads it)."""

    model: Any
    data_cfg: DataConfig
    device: str
    items: list[Row]  # the kept images, in the order of every array below
    paths: list[Path]  # what the model reads for each (prepared copies of big photos)
    valid_idx: list[int]
    valid_probs: Any  # (n_valid, C) main model on the validation split
    margins: Any  # (n, epochs) training margins, NaN for validation images
    valid_tta_probs: Any = None  # (n_valid, C) the same with test-time augmentation, None if not computed


def _changes_since_last_round(ws: Workspace, report: Report) -> dict[str, int]:
    last_t = report.history[-1].finished if report.history else 0
    out: dict[str, int] = {}
    for rec in ws.read_journal():
        if rec.get("op") in ("apply_end", "undo_end") and rec.get("ts", 0) > last_t:
            for k, v in (rec.get("counts") or {}).items():
                out[k] = out.get(k, 0) + int(v)
    return out


def run_train(ws: Workspace, recipe: Recipe, rows: dict[str, Row], on_event: OnEvent,
              cancel: threading.Event, report: Report) -> tuple[TrainResult, TrainedModel]:
    """Train the main model, measure it on the validation split, save it; fills ``report``."""
    items = kept_items(ws, recipe, rows)
    paths, prepared = model_inputs(ws, recipe, items, on_event, cancel)
    targets = [r.label for r in items]
    train_idx, valid_idx = split_indices(len(items), recipe.valid_pct, recipe.seed)
    cfg = train_config(recipe)
    out = train_classifier(paths, targets, recipe.labels, valid_idx, cfg, on_event, cancel, stage="train")
    vpaths = [paths[i] for i in valid_idx]
    probs = predict_probs(out.model, vpaths, recipe.size, out.data_cfg, out.device.name, cancel=cancel)
    y = [recipe.labels.index(targets[i]) for i in valid_idx]
    pred = probs.argmax(1).tolist()
    err = sum(int(a != b) for a, b in zip(pred, y)) / max(len(y), 1)
    err_tta, tta = _tta_error(out, vpaths, y, recipe, on_event, cancel)
    cm = confusion(y, pred, len(recipe.labels))
    save_model(out.model, model_dir(ws), recipe.arch, recipe.labels, recipe.size, out.data_cfg)
    save_dynamics(ws, items, out.margins)
    trained = TrainedModel(out.model, out.data_cfg, out.device.name, items, paths, valid_idx, probs, out.margins, tta)
    report.labels, report.error_rate = list(recipe.labels), round(err, 4)
    report.error_rate_tta = round(err_tta, 4) if err_tta is not None else None
    report.n_train, report.n_valid = len(train_idx), len(valid_idx)
    report.confusion_matrix, report.most_confused = cm, most_confused(cm, recipe.labels)
    # the off-diagonal cells' images, so a confusion cell opens exactly the images it counts
    report.misclassified = [[items[i].path, recipe.labels[y[k]], recipe.labels[pred[k]]]
                            for k, i in enumerate(valid_idx) if pred[k] != y[k]]
    report.device, report.arch, report.size, report.epochs = out.device.name, recipe.arch, recipe.size, recipe.epochs
    report.lr = cfg.lr or DEFAULT_LR
    report.images_per_s = round(out.images_per_s, 1)
    report.compute_images_per_s = round(out.compute_images_per_s, 1)
    report.data_path_efficiency = round(out.images_per_s / max(out.compute_images_per_s, 1e-9), 3)
    report.full_size_decodes = prepared.made
    previous = report.history[-1].error_rate if report.history else None
    report.history.append(TrainingRound(
        round=len(report.history) + 1, finished=round(time.time(), 3), n_images=len(items), error_rate=round(err, 4),
        epochs=out.epochs, seconds=round(out.seconds, 2), changes_since_previous=_changes_since_last_round(ws, report),
        error_change=round(err - previous, 4) if previous is not None else None,
    ))
    result = TrainResult(images=len(items), train=len(train_idx), valid=len(valid_idx), error_rate=round(err, 4),
                         images_per_s=round(out.images_per_s, 1), full_size_decodes=prepared.made)
    return result, trained


def _tta_error(out: Any, vpaths: list[Path], y: list[int], recipe: Recipe, on_event: OnEvent,
               cancel: threading.Event) -> tuple[float | None, Any]:
    """Validation error with test-time augmentation (core/tta.py: the plain view lerped with
    crops, and flips where training flipped), what ``predict --tta`` would score, and those
    probabilities (the review scores validation images with them); costs 4-6 inference passes
    over the validation split, a few seconds against the training's minutes."""
    from .tta import n_views, tta_probs

    if not vpaths:
        return None, None
    t0 = time.monotonic()
    probs = tta_probs(out.model, vpaths, recipe.size, out.data_cfg, out.device.name, recipe.flip, cancel=cancel)
    err = sum(int(a != b) for a, b in zip(probs.argmax(1).tolist(), y)) / len(y)
    on_event(Event("train", "info", f"error with test-time augmentation ({n_views(recipe.flip)} views): {err:.4f} "
                   f"({time.monotonic() - t0:.1f} s)"))
    return err, probs


def model_dir(ws: Workspace) -> Path:
    return ws.root / "model"


def save_dynamics(ws: Workspace, items: list[Row], margins) -> None:
    """Keep the training margins beside the model, so a review resumed later can use them."""
    import numpy as np

    path = model_dir(ws) / "dynamics.npz"
    tmp = path.with_name(".dynamics.tmp.npz")
    np.savez(tmp, paths=np.array([r.path for r in items]), margins=margins)
    tmp.replace(path)


def load_dynamics(ws: Workspace, items: list[Row]):
    """The saved margins in ``items`` order (NaN rows for images the last training did not see)."""
    import numpy as np

    path = model_dir(ws) / "dynamics.npz"
    if not path.exists():
        return None
    with np.load(path) as d:
        index = {p: i for i, p in enumerate(d["paths"].tolist())}
        saved = d["margins"]
    out = np.full((len(items), saved.shape[1]), np.nan, dtype=np.float32)
    for k, r in enumerate(items):
        if r.path in index:
            out[k] = saved[index[r.path]]
    return out
