"""The train stage: split, fine-tune, measure on the validation set, and save the model."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from .events import OnEvent
from .metrics import confusion, most_confused
from .modelio import save_model
from .train import TrainConfig, predict_probs, train_classifier
from .workspace import KEPT, Recipe, Row, Workspace


def kept_items(ws: Workspace, recipe: Recipe, rows: dict[str, Row]) -> list[Row]:
    return [r for r in rows.values() if r.status == KEPT and r.path and r.label in recipe.labels]


def split_indices(n: int, valid_pct: float, seed: int) -> tuple[list[int], list[int]]:
    """fastai's RandomSplitter, so a split here equals the same split in a notebook."""
    from fastai.data.transforms import RandomSplitter

    train, valid = RandomSplitter(valid_pct=valid_pct, seed=seed)(list(range(n)))
    return [int(i) for i in train], [int(i) for i in valid]


def train_config(recipe: Recipe) -> TrainConfig:
    return TrainConfig(arch=recipe.arch, size=recipe.size, epochs=recipe.epochs, batch_size=recipe.batch_size,
                       lr=recipe.lr, device=recipe.device, weights=recipe.weights, flip=recipe.flip, seed=recipe.seed)


def _changes_since_last_round(ws: Workspace, report: dict[str, Any]) -> dict[str, int]:
    last_t = (report.get("history") or [{}])[-1].get("finished", 0)
    out: dict[str, int] = {}
    for rec in ws.read_journal():
        if rec.get("op") in ("apply_end", "undo_end") and rec.get("ts", 0) > last_t:
            for k, v in (rec.get("counts") or {}).items():
                out[k] = out.get(k, 0) + int(v)
    return out


def run_train(ws: Workspace, recipe: Recipe, rows: dict[str, Row], on_event: OnEvent,
              cancel: threading.Event, state: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    items = kept_items(ws, recipe, rows)
    paths = [ws.root / r.path for r in items]
    targets = [r.label for r in items]
    train_idx, valid_idx = split_indices(len(items), recipe.valid_pct, recipe.seed)
    cfg = train_config(recipe)
    out = train_classifier(paths, targets, recipe.labels, valid_idx, cfg, on_event, cancel, stage="train")
    vpaths = [paths[i] for i in valid_idx]
    probs = predict_probs(out.model, vpaths, recipe.size, out.data_cfg, out.device.name, cancel=cancel)
    y = [recipe.labels.index(targets[i]) for i in valid_idx]
    pred = probs.argmax(1).tolist()
    err = sum(int(a != b) for a, b in zip(pred, y)) / max(len(y), 1)
    cm = confusion(y, pred, len(recipe.labels))
    save_model(out.model, ws.root / "model", recipe.arch, recipe.labels, recipe.size, out.data_cfg)
    state.update(model=out.model, data_cfg=out.data_cfg, device=out.device.name, items=items,
                 valid_idx=valid_idx, valid_probs=probs)
    report.update(
        labels=recipe.labels, error_rate=round(err, 4), n_train=len(train_idx), n_valid=len(valid_idx),
        confusion_matrix=cm, most_confused=most_confused(cm, recipe.labels),
        # the off-diagonal cells' images, so a confusion cell opens exactly the images it counts
        misclassified=[[items[i].path, recipe.labels[y[k]], recipe.labels[pred[k]]]
                       for k, i in enumerate(valid_idx) if pred[k] != y[k]],
        device=out.device.name, arch=recipe.arch, size=recipe.size, epochs=recipe.epochs,
        lr=cfg.lr or None, images_per_s=round(out.images_per_s, 1),
    )
    history = report.setdefault("history", [])
    history.append({
        "round": len(history) + 1, "finished": round(time.time(), 3), "n_images": len(items),
        "error_rate": round(err, 4), "epochs": out.epochs, "seconds": round(out.seconds, 2),
        "changes_since_previous": _changes_since_last_round(ws, report),
        "error_change": round(err - history[-1]["error_rate"], 4) if history else None,
    })
    return {"images": len(items), "train": len(train_idx), "valid": len(valid_idx), "error_rate": round(err, 4)}


def model_dir(ws: Workspace) -> Path:
    return ws.root / "model"
