"""The review queue: honest, out-of-fold label-issue scores for every image.

fastai's cleaner ranks training images by the loss of the model that memorised them, so a
flipped label it has learnt looks clean. Here every image is scored by a model that never saw
it. K fold models are trained over *all* kept images (each without its fold), so every image
gets a held-out prediction from a model that saw (K-1)/K of the data; validation images, which the
main model never saw either, average that with the main model's prediction.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from .events import Event, OnEvent
from .modelio import data_config_of, load_model
from .review_rows import DELETE, DUPLICATE, KEEP, LABEL, OK, ReviewRow, count_kinds, write_review
from .train import predict_probs, train_classifier
from .train_stage import kept_items, model_dir, split_indices, train_config
from .workspace import Recipe, Row, Workspace


def fold_indices(indices: list[int], k: int, seed: int) -> list[list[int]]:
    import random

    shuffled = list(indices)
    random.Random(seed + 1).shuffle(shuffled)
    return [shuffled[i::k] for i in range(k)]


def out_of_fold_probs(ws: Workspace, recipe: Recipe, items: list[Row], valid_idx: list[int], valid_probs,
                      on_event: OnEvent, cancel: threading.Event):
    """(n, C) probabilities where row i comes only from models that did not train on image i.

    Folds span every image rather than just the training split: with 3 folds a fold model
    learns from 67% of the data instead of 53%. ``recipe.repeats`` rounds of cross-validation,
    each with its own partition, are averaged: on the label-noise bench single rounds scored
    0.90-0.96 (training noise), the average of two 0.95-0.97.
    """
    import numpy as np

    n, c = len(items), len(recipe.labels)
    total = np.zeros((n, c), dtype=np.float64)
    paths = [ws.root / r.path for r in items]
    targets = [r.label for r in items]
    k, repeats = max(2, recipe.folds), max(1, recipe.repeats)
    cfg = train_config(recipe)
    step = 0
    for rep in range(repeats):
        for fold in fold_indices(list(range(n)), k, recipe.seed + 7919 * rep):
            step += 1
            if not fold:
                continue
            on_event(Event("review", "info", f"fold model {step}/{k * repeats}: training without "
                           f"{len(fold)} images"))
            out = train_classifier(paths, targets, recipe.labels, fold, cfg, on_event, cancel, stage="review")
            total[fold] += predict_probs(out.model, [paths[i] for i in fold], recipe.size, out.data_cfg,
                                         out.device.name, cancel=cancel)
    counts = np.full(n, repeats, dtype=np.float64)
    if len(valid_idx):  # the main model never saw validation images either
        total[valid_idx] += np.asarray(valid_probs, dtype=np.float64)
        counts[valid_idx] += 1
    on_event(Event("review", "progress", "scored every image out of fold", k * repeats, k * repeats))
    return (total / counts[:, None]).astype(np.float32)


def rank_rows(items: list[Row], labels: list[str], probs, valid_idx: list[int]) -> list[ReviewRow]:
    """Rank by self-confidence, the out-of-fold p(label): most suspicious first."""
    valid_set = set(valid_idx)
    out = []
    for i, row in enumerate(items):
        p = probs[i]
        li = labels.index(row.label)
        pi = int(p.argmax())
        reasons = []
        kind, suggestion = OK, KEEP
        if pi != li:
            reasons.append(f"looks like {labels[pi]!r} (p={float(p[pi]):.2f})")
            kind, suggestion = LABEL, f"relabel:{labels[pi]}"
        elif float(p[li]) < 0.5:
            reasons.append(f"low confidence (p={float(p[li]):.2f})")
        flags = [f for f in row.flags.split(";") if f]
        if any(f.startswith("cross-label duplicate") for f in flags):
            kind, suggestion = DUPLICATE, DELETE
        reasons.extend(flags)
        out.append(ReviewRow(
            path=row.path, source=row.source, label=row.label, predicted=labels[pi],
            p_label=round(float(p[li]), 4), p_predicted=round(float(p[pi]), 4),
            loss=round(-math.log(max(float(p[li]), 1e-12)), 4),
            split="valid" if i in valid_set else "train", reasons="; ".join(reasons),
            kind=kind, suggestion=suggestion, priority=round(1 - float(p[li]), 4),
            basis="out-of-fold models",
        ))
    # Cross-label duplicates are label conflicts whatever the model says: put them first.
    return sorted(out, key=lambda r: (0 if r.kind == DUPLICATE else 1, -r.priority))


def run_review(ws: Workspace, recipe: Recipe, rows: dict[str, Row], on_event: OnEvent,
               cancel: threading.Event, state: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    items = state.get("items") or kept_items(ws, recipe, rows)
    valid_idx = state.get("valid_idx") or split_indices(len(items), recipe.valid_pct, recipe.seed)[1]
    valid_probs = state.get("valid_probs")
    if valid_probs is None:  # resumed after --stop-after train: reload the saved model
        model, _, cfg = load_model(model_dir(ws))
        valid_probs = predict_probs(model, [ws.root / items[i].path for i in valid_idx], recipe.size,
                                    data_config_of(cfg), "cpu", cancel=cancel)
    probs = out_of_fold_probs(ws, recipe, items, valid_idx, valid_probs, on_event, cancel)
    ranked = rank_rows(items, recipe.labels, probs, valid_idx)
    write_review(ws.review_path, ranked)
    suspects = sum(1 for r in ranked if r.predicted != r.label)
    report["review"] = {"method": f"out-of-fold: {max(1, recipe.repeats)} x {max(2, recipe.folds)}-fold "
                                  "cross-validation over all images; valid also by the main model",
                        "suspects": suspects, "rows": len(ranked), "kinds": count_kinds(ranked)}
    return {"rows": len(ranked), "suspects": suspects}
