"""Planted label flips: how many are in the top k of review.csv? (k = number of flips)

For each look (plain and tinted digits) and seed: a fresh digits workspace, 8% of its labels
flipped through the real relabel path (`apply_decisions`), then the real build from train with
the default (fast) review. Reported per run: recall@k, the build's error (against the noisy
labels) and the review stage's cost against the train stage's.

    python bench/bench_label_noise.py [--seeds 0,1,2] [--looks plain,tinted] [--thorough] [--peers]

``--thorough`` also runs `--review thorough` (2 x 3-fold cross-validation) on the same flips.
``--peers`` adds, on the same flips: fastai's cleaner ranking (the loss of its lesson-1 recipe on
the images it trained on) and cleanlab's confident learning over frozen ImageNet features with
cross-validated logistic regression.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from noisy_data import digits_workspace, flip_labels  # noqa: E402

from classify_tui.core.cleaning import Decision, apply_decisions  # noqa: E402
from classify_tui.core.pipeline import BuildOptions, build  # noqa: E402
from classify_tui.core.train_stage import kept_items  # noqa: E402
from classify_tui.core.workspace import Workspace  # noqa: E402


def planted(root: Path, look: str, seed: int) -> tuple[Workspace, set[str], int]:
    """A digits workspace of this look with 8% of labels flipped; the flipped files' new paths."""
    ws, recipe = digits_workspace(root, look, seed=seed)
    items = kept_items(ws, recipe, ws.load_manifest())
    before = {r.path: r.label for r in items}
    flipped = flip_labels(items, recipe.labels, 0.08, seed)
    decisions = [Decision(path=r.path, action="relabel", label=r.label) for i, r in enumerate(items) if i in flipped]
    for d in decisions:  # flip_labels changed the in-memory label; the file still has the old one
        assert before[d.path] != d.label
    apply_decisions(ws, decisions)
    moved = {r.id for i, r in enumerate(items) if i in flipped}
    paths = {r.path for r in ws.load_manifest().values() if r.id in moved}
    return ws, paths, len(items)


def recall_from_queue(ws: Workspace, flipped: set[str]) -> tuple[float, dict[str, int]]:
    queue = list(csv.DictReader(open(ws.review_path, newline="")))
    k = len(flipped)
    top = [r for r in queue[:k]]
    kinds: dict[str, int] = {}
    for r in top:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    return sum(1 for r in top if r["path"] in flipped) / k, kinds


def run(root: Path, look: str, seed: int, thorough: bool) -> dict:
    ws, flipped, n = planted(root / f"{look}-{seed}", look, seed)
    recipe = ws.load_recipe()
    t0 = time.monotonic()
    report = build(ws, recipe, opts=BuildOptions(from_stage="train", stop_after="review"))
    wall = time.monotonic() - t0
    rec, kinds = recall_from_queue(ws, flipped)
    out = {"look": look, "seed": seed, "n": n, "k": len(flipped), "recall": rec, "kinds_in_top_k": kinds,
           "error": report.error_rate, "train_s": report.seconds["train"],
           "review_s": report.seconds["review"], "wall": wall}
    if thorough:
        recipe.review = "thorough"
        t0 = time.monotonic()
        rep2 = build(ws, recipe, opts=BuildOptions(from_stage="review", stop_after="review"))
        out["thorough_recall"] = recall_from_queue(ws, flipped)[0]
        out["thorough_review_s"] = rep2.seconds["review"]
    out["ws"] = ws
    out["flipped"] = flipped
    return out


def peers(ws: Workspace, flipped: set[str]) -> dict[str, float]:
    """fastai's cleaner ranking and cleanlab over frozen features, on the same noisy folder."""
    from bench_train import fastai_learner

    k = len(flipped)
    out: dict[str, float] = {}
    learn = fastai_learner(ws.root / "images")
    files = sorted((ws.root / "images").glob("*/*.png"))
    dl = learn.dls.test_dl(files, with_labels=True)
    with learn.no_bar():
        _, _, losses = learn.get_preds(dl=dl, with_loss=True)
    order = np.argsort(-losses.numpy())
    rel = [str(files[i].relative_to(ws.root)) for i in order]
    out["fastai cleaner (in-sample loss)"] = len(set(rel[:k]) & flipped) / k
    try:
        from cleanlab.rank import get_label_quality_scores
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import cross_val_predict

        from classify_tui.core.backbone import create_backbone
        from classify_tui.core.train import infer

        labels = ws.load_recipe().labels
        y = np.array([labels.index(f.parent.name) for f in files])
        model, cfg = create_backbone("tf_efficientnet_lite0", len(labels))
        feats = infer(model, files, 64, cfg, "cpu", features=True).features
        probs = cross_val_predict(LogisticRegression(max_iter=2000), feats, y, cv=5, method="predict_proba")
        scores = get_label_quality_scores(y, probs, method="self_confidence")
        rel = [str(files[i].relative_to(ws.root)) for i in np.argsort(scores)]
        out["cleanlab (frozen features)"] = len(set(rel[:k]) & flipped) / k
    except ImportError:
        pass
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--looks", default="plain,tinted")
    ap.add_argument("--thorough", action="store_true")
    ap.add_argument("--peers", action="store_true")
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_noise_"))
    results = []
    print("look    seed  flips  recall@k  top-k kinds                 error   train s  review s  review/train"
          + ("  thorough recall (review s)" if a.thorough else ""))
    for look in a.looks.split(","):
        for seed in (int(s) for s in a.seeds.split(",")):
            r = run(root, look, seed, a.thorough)
            results.append(r)
            extra = f"  {r['thorough_recall']:.3f} ({r['thorough_review_s']:.0f})" if a.thorough else ""
            print(f"{look:7s} {seed:4d} {r['k']:6d}  {r['recall']:8.3f}  {str(r['kinds_in_top_k']):26s} "
                  f"{r['error']:.4f} {r['train_s']:8.1f} {r['review_s']:9.1f}  {r['review_s'] / r['train_s']:11.2f}"
                  + extra, flush=True)
            if a.peers:
                for name, v in peers(r["ws"], r["flipped"]).items():
                    print(f"        {name}: {v:.3f}", flush=True)
    worst = min(r["recall"] for r in results)
    print(f"minimum recall@k over {len(results)} runs: {worst:.3f} (goal >= 0.95); "
          f"review/train at most {max(r['review_s'] / r['train_s'] for r in results):.2f} (goal <= 0.25)")


if __name__ == "__main__":
    main()
