"""The review queue: one row per kept image with its likely problem, a reason, and a suggestion.

Default (``--review fast``): everything comes from the one training run the build already did,
plus one inference pass over the kept images with the trained model.

- Label issues. Every image gets the margin of its label under a softmax head fitted on the
  fine-tuned embeddings with 5-fold cross-validation (the head never saw that image's label).
  It is averaged with a second opinion that also never saw the label: for a validation image,
  the main model with test-time augmentation (the train stage already computed it for the TTA
  error; the main model never trained on these images); for a training image, its area under
  the margin (Pleiss et al. 2020: its label's logit margin averaged over the training epochs,
  later ones weighing more; low for labels the network only learns late, as flipped ones are). Two opinions whose
  mistakes differ outvote either one's: on the label-noise bench the main model alone put its
  own confident errors above real flips. This beat in-sample loss and matched or beat
  2 x 3-fold cross-validation, for one training instead of seven.
- Off-topic images (outliers): mean cosine distance to the 10 nearest kept images (cleanlab's
  OutOfDistribution score) in the *pretrained* backbone's embedding space, one more inference
  pass. There every handwritten digit still looks like a digit and every cat like a cat, while a
  logo, a page of text or noise is far from all of them; the fine-tuned space instead spreads
  classes apart and made odd-but-valid digits look off-topic. Far beyond the dataset's typical
  distance (robust z-score) means the image belongs to none of the labels: delete, never
  relabel.
- Duplicates: exact and near duplicates from verify, cross-label first.
- Quality: dark, overexposed, blurry, near-uniform, extreme aspect and tiny images
  (core/quality.py).

``--review thorough`` replaces the label score with K-fold cross-validation over all images
(``--folds`` x ``--repeats`` extra trainings): every image is then scored only by networks
that never saw it at all.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass, field
from typing import Any

from . import failpoints
from . import train as training  # a module reference, so tests can stand in for the trainer
from .events import BatchDone, EpochDone, Event, OnEvent
from .quality import QUALITY_REASONS, QualityStats, measure, quality_issues, quality_severity
from .report import Report, ReviewSummary
from .review_rows import (
    DELETE,
    DUPLICATE,
    HARD_TO_LEARN,
    KEEP,
    LABEL,
    OK,
    OUTLIER,
    QUALITY,
    ReviewRow,
    count_kinds,
    write_review,
)
from .scoring import area_under_margin, cross_val_linear_probs, knn_distance, robust_z
from .stage_results import ReviewResult
from .train_stage import TrainedModel, train_config
from .workspace import Recipe, Row, Workspace

REVIEW_MODES = ("fast", "thorough")
PCA_DIMS = 64  # the linear head sees the embeddings' top principal components (bench: 64 >= 32, 48, 128)
HEAD_FOLDS = 5
KNN = 10
# robust z of the pretrained-space kNN distance at which an image is called off-topic. Measured:
# photo bench planted images z >= 11.9, its clean photos <= 2.6; plain digits <= 5.6, tinted <= 4.8.
OUTLIER_Z = 8.0

# what the shown prediction comes from; then what else the rank uses
BASIS_VALID = "main model (never trained on it); ranked with its TTA views + 5-fold head"
BASIS_TRAIN = "5-fold linear head on embeddings + training margins"
BASIS_THOROUGH = "cross-validation models that never trained on it"


@dataclass
class Signals:
    """Per-image evidence, all arrays in ``items`` order."""

    probs: Any  # (n, C) honest probabilities shown to the user
    label_margin: Any  # (n,) honest margin of the given label over the best other (log space)
    outlier_z: Any  # (n,) robust z-score of the kNN distance
    quality: list[QualityStats] = field(default_factory=list)


def fold_indices(indices: list[int], k: int, seed: int) -> list[list[int]]:
    import random

    shuffled = list(indices)
    random.Random(seed + 1).shuffle(shuffled)
    return [shuffled[i::k] for i in range(k)]


def out_of_fold_probs(ws: Workspace, recipe: Recipe, items: list[Row], valid_idx: list[int], valid_probs,
                      on_event: OnEvent, cancel: threading.Event, paths: list | None = None):
    """(n, C) probabilities where row i comes only from models that did not train on image i.

    The thorough mode. Folds span every image rather than just the training split: with 3 folds
    a fold model learns from 67% of the data instead of 53%. ``recipe.repeats`` rounds of
    cross-validation, each with its own partition, are averaged (single rounds varied with
    training noise).
    """
    import numpy as np

    n, c = len(items), len(recipe.labels)
    total = np.zeros((n, c), dtype=np.float64)
    paths = paths if paths is not None else [ws.root / r.path for r in items]
    targets = [r.label for r in items]
    k, repeats = max(2, recipe.folds), max(1, recipe.repeats)
    cfg = train_config(recipe)
    step = 0

    def tag(ev: Event) -> None:  # say which of the k * repeats models an event belongs to
        if ev.kind in ("batch", "epoch") and isinstance(ev.data, (BatchDone, EpochDone)):
            ev = dataclasses.replace(ev, data=dataclasses.replace(ev.data, model=step, models=k * repeats))
        on_event(ev)

    for rep in range(repeats):
        for fold in fold_indices(list(range(n)), k, recipe.seed + 7919 * rep):
            step += 1
            if not fold:
                continue
            on_event(Event("review", "progress", f"fold model {step}/{k * repeats}: training without "
                           f"{len(fold)} images", step - 1, k * repeats))
            out = training.train_classifier(paths, targets, recipe.labels, fold, cfg, tag, cancel, stage="review")
            total[fold] += training.predict_probs(out.model, [paths[i] for i in fold], recipe.size, out.data_cfg,
                                         out.device.name, cancel=cancel)
    counts = np.full(n, repeats, dtype=np.float64)
    if len(valid_idx):  # the main model never saw validation images either
        total[valid_idx] += np.asarray(valid_probs, dtype=np.float64)
        counts[valid_idx] += 1
    on_event(Event("review", "progress", "scored every image out of fold", k * repeats, k * repeats))
    return (total / counts[:, None]).astype(np.float32)


def _margin(probs, y):
    """log p(given) - log p(best other), per row."""
    import numpy as np

    logp = np.log(np.clip(probs, 1e-9, 1.0))
    given = logp[np.arange(len(y)), y]
    other = logp.copy()
    other[np.arange(len(y)), y] = -np.inf
    return given - other.max(axis=1)


def _pca(feats, dims: int):
    import numpy as np

    from .scoring import l2_normalise

    x = l2_normalise(feats.astype(np.float32))
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:dims].T


def fast_signals(y, n_classes: int, valid_idx: list[int], probs, feats, margins, pretrained_feats,
                 seed: int = 0, valid_tta_probs=None) -> Signals:
    """Label and outlier evidence from one trained model (see the module docstring).

    ``probs``/``feats``: the trained model on every image (eval mode); ``margins``: (n, epochs)
    training margins, NaN for images it did not train on; ``pretrained_feats``: the backbone
    before fine-tuning on every image; ``valid_tta_probs``: (len(valid_idx), C) the trained
    model with test-time augmentation on the validation images, in ``valid_idx`` order (the
    plain ``probs`` stand in without it).
    """
    import numpy as np

    y = np.asarray(y)
    n = len(y)
    is_valid = np.zeros(n, dtype=bool)
    is_valid[list(valid_idx)] = True
    head = cross_val_linear_probs(_pca(feats, min(PCA_DIMS, feats.shape[1], max(n - 1, 1))), y, n_classes,
                                  folds=min(HEAD_FOLDS, max(2, n // 2)), seed=seed)
    aum = area_under_margin(margins) if margins is not None else np.full(n, np.nan)
    head_margin = _margin(head, y)
    model_view = np.asarray(probs, dtype=np.float64).copy()
    if valid_tta_probs is not None and len(valid_idx):
        model_view[list(valid_idx)] = valid_tta_probs
    second = np.where(is_valid, _margin(model_view, y), aum)  # the opinion that is not the head's
    label_margin = np.where(np.isfinite(second), (head_margin + np.nan_to_num(second)) / 2, head_margin)
    shown = np.where(is_valid[:, None], probs, head)
    outlier = robust_z(knn_distance(pretrained_feats, KNN)) if n > KNN + 1 else np.zeros(n)
    return Signals(shown.astype(np.float32), label_margin.astype(np.float32), outlier.astype(np.float32))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-max(min(x, 50.0), -50.0)))


def build_queue(items: list[Row], labels: list[str], valid_idx: list[int], sig: Signals,
                basis_train: str = BASIS_TRAIN) -> list[ReviewRow]:
    """Every kept image with one kind, a plain reason, a suggestion and a priority; sorted.

    Priority is roughly the probability the row needs action: for a label issue, the honest
    probability that another label beats the given one; for an off-topic image, how far its
    distance lies beyond the rest; cross-label duplicates are conflicts whatever the model says.
    """
    valid_set = set(valid_idx)
    q_kinds = quality_issues(sig.quality) if sig.quality else [[] for _ in items]
    out: list[ReviewRow] = []
    for i, row in enumerate(items):
        p = sig.probs[i]
        li = labels.index(row.label)
        pi = int(p.argmax())
        alt = pi if pi != li else int(max((j for j in range(len(labels)) if j != li), key=lambda j: p[j], default=li))
        wrong = _sigmoid(-float(sig.label_margin[i]))  # P(another label beats the given one)
        # (precedence, priority, kind, reason, suggestion); the first by precedence names the kind,
        # the highest priority ranks the row
        issues: list[tuple[int, float, str, str, str]] = []
        flags = [f for f in row.flags.split(";") if f]
        for f in flags:
            what, _, other = f.partition(":")
            if what == "cross-label duplicate":
                issues.append((0, 0.95, DUPLICATE, f"the same file was also found as {other!r}", DELETE))
        z = float(sig.outlier_z[i])
        if z >= OUTLIER_Z:
            issues.append((1, 0.95 + 0.05 * min((z - OUTLIER_Z) / OUTLIER_Z, 1.0), OUTLIER,
                           f"belongs to none of the labels: far from every other image (z={z:.0f})",
                           DELETE))
        if sig.quality:
            for k in q_kinds[i]:
                issues.append((2, 0.5 + 0.4 * quality_severity(sig.quality[i], k), QUALITY, QUALITY_REASONS[k],
                               DELETE))
        if wrong >= 0.5 and pi != li:
            issues.append((3, wrong, LABEL, f"looks like {labels[alt]!r} ({float(p[alt]):.0%}), "
                                            f"not {row.label!r} ({float(p[li]):.0%})", f"relabel:{labels[alt]}"))
        doubt = ""
        if wrong >= 0.5 and pi == li:
            # The suspicion comes from the second opinion (a training image's label kept losing;
            # a validation image's augmented views or the head lean elsewhere) while the shown
            # probabilities still favour the label. It does not look like another label, so it
            # is no label issue: an ok row, ranked where its score puts it, with the doubt as its
            # reason. On the label-noise bench 11 of 56 such rows were flips (20%), against
            # 83-94% of the rows that look like another label.
            why = ("its label kept losing during training; held out" if i not in valid_set else
                   "its augmented views or the embedding head lean elsewhere; the main model rates")
            doubt = (f"{HARD_TO_LEARN} as {row.label!r}: {why} it {row.label!r} {float(p[li]):.0%}, "
                     f"{labels[alt]!r} {float(p[alt]):.0%}")
        for f in flags:
            what, _, other = f.partition(":")
            if what == "near duplicate (other label)":
                issues.append((4, 0.6, DUPLICATE, f"nearly identical to {other} (another label)",
                               DELETE if wrong >= 0.5 else KEEP))
            elif what == "near duplicate":
                # one of the pair is redundant (and leaks between training and validation): keep the first
                issues.append((5, 0.3, DUPLICATE, f"nearly identical to {other}", DELETE if row.path > other else KEEP))
        if issues:
            first = min(issues, key=lambda t: t[0])
            kind, suggestion = first[2], first[4]
            priority = max(max(t[1] for t in issues), wrong)
            said = [t[3] for t in sorted(issues, key=lambda t: (t[0], -t[1]))]
            reasons = "; ".join(said + [doubt] if doubt else said)
        else:
            priority, kind, suggestion = wrong, OK, KEEP
            reasons = doubt or (f"low confidence ({float(p[li]):.0%})" if float(p[li]) < 0.5 else "")
        out.append(ReviewRow(
            path=row.path, source=row.source, label=row.label, predicted=labels[pi],
            p_label=round(float(p[li]), 4), p_predicted=round(float(p[pi]), 4),
            loss=round(-math.log(max(float(p[li]), 1e-12)), 4),
            split="valid" if i in valid_set else "train", reasons=reasons, kind=kind, suggestion=suggestion,
            priority=round(priority, 4), basis=BASIS_VALID if i in valid_set else basis_train,
        ))
    return sorted(out, key=lambda r: -r.priority)


def quality_stats(ws: Workspace, items: list[Row], workers: int = 2) -> list[QualityStats]:
    """QualityStats per kept image, from the verify-time values in the manifest when present."""
    from concurrent.futures import ThreadPoolExecutor

    def one(row: Row) -> QualityStats:
        cached = QualityStats.from_text(row.quality) if row.quality else None
        if cached is not None:
            return cached
        from PIL import Image

        with Image.open(ws.root / row.path) as im:
            im.draft("RGB", (256, 256))
            return measure(im.convert("RGB"), row.width or im.width, row.height or im.height)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="quality") as pool:
        return list(pool.map(one, items))


def run_review(ws: Workspace, recipe: Recipe, rows: dict[str, Row], on_event: OnEvent,
               cancel: threading.Event, report: Report, trained: TrainedModel | None = None) -> ReviewResult:
    """Score every kept image and write review.csv; ``trained`` is this build's model, if it trained one."""
    import os

    import numpy as np

    from .backbone import create_backbone
    from .device import choose_device
    from .modelio import data_config_of, load_model
    from .train import infer
    from .train_stage import kept_items, load_dynamics, model_dir, model_inputs, split_indices

    if trained is not None:
        items, paths, valid_idx = trained.items, trained.paths, trained.valid_idx
        model, data_cfg, device, margins = trained.model, trained.data_cfg, trained.device, trained.margins
    else:  # resumed after --stop-after train: the saved model, on the device the recipe asks for
        items = kept_items(ws, recipe, rows)
        paths = model_inputs(ws, recipe, items, on_event, cancel, stage="review")[0]
        valid_idx = split_indices(len(items), recipe.valid_pct, recipe.seed)[1]
        model, _, cfg = load_model(model_dir(ws))
        data_cfg, device = data_config_of(cfg), choose_device(recipe.device).name
        margins = load_dynamics(ws, items)
    y = np.array([recipe.labels.index(r.label) for r in items])
    on_event(Event("review", "progress", "scoring every image with the trained model", 0, len(items)))
    inf = infer(model, paths, recipe.size, data_cfg, device, cancel=cancel, features=True)
    on_event(Event("review", "progress", "scored every image", len(items), len(items)))
    base, _ = create_backbone(recipe.arch, len(recipe.labels), recipe.weights)
    pre = infer(base, paths, recipe.size, data_cfg, device, cancel=cancel, features=True)
    on_event(Event("review", "progress", "compared every image with the pretrained backbone", len(items),
                   len(items)))
    if trained is not None and trained.valid_tta_probs is not None:
        valid_tta = trained.valid_tta_probs
    else:  # resumed: the train stage's test-time-augmented validation probabilities, again
        from .tta import tta_probs

        valid_tta = tta_probs(model, [paths[i] for i in valid_idx], recipe.size, data_cfg, device, recipe.flip,
                              cancel=cancel) if valid_idx else None
    sig = fast_signals(y, len(recipe.labels), valid_idx, inf.probs, inf.features, margins, pre.features,
                       seed=recipe.seed, valid_tta_probs=valid_tta)
    basis = BASIS_TRAIN
    if recipe.review == "thorough":
        oof = out_of_fold_probs(ws, recipe, items, valid_idx, inf.probs[valid_idx], on_event, cancel, paths)
        sig.probs, sig.label_margin, basis = oof, _margin(oof, y), BASIS_THOROUGH
    sig.quality = quality_stats(ws, items, workers=os.cpu_count() or 1)
    ranked = build_queue(items, recipe.labels, valid_idx, sig, basis)
    failpoints.point("review")
    write_review(ws.review_path, ranked)
    kinds = count_kinds(ranked)
    suspects = sum(n for k, n in kinds.items() if k != OK)
    report.review = ReviewSummary(
        mode=recipe.review,
        method=("thorough: " + f"{max(1, recipe.repeats)} x {max(2, recipe.folds)}-fold cross-validation "
                "over all images; valid also by the main model") if recipe.review == "thorough" else
               ("fast: every image by a 5-fold linear head on the fine-tuned embeddings, averaged with "
                "the main model with test-time augmentation (valid images) or the area under the margin "
                "(training images); outliers by kNN distance in the pretrained backbone's embeddings"),
        suspects=suspects, rows=len(ranked), kinds=kinds, infer_seconds=round(inf.seconds + pre.seconds, 2),
    )
    return ReviewResult(rows=len(ranked), suspects=suspects, kinds=kinds)
