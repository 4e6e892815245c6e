"""Flip 8% of digit labels; how many flips are in the top-k of each ranking? (k = flips)

Measured in one run, on the same noisy labels:
- classify-tui: the review stage's out-of-fold self-confidence ranking;
- fastai: ImageClassifierCleaner's ranking, i.e. the loss of fastai's lesson-1 recipe
  (vision_learner + fine_tune(3), same backbone and size) on the images it trained on;
- cleanlab: confident learning (self-confidence) over frozen ImageNet backbone features with
  cross-validated logistic regression (needs ``pip install cleanlab``);
- also the in-sample loss of our own recipe, to show what memorisation costs.

``python bench/bench_label_noise.py [out.npz]`` (the npz keeps the probabilities).
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from classify_tui.core.pipeline import BuildOptions, build
from classify_tui.core.review import out_of_fold_probs, rank_rows
from classify_tui.core.train import predict_probs, train_classifier
from classify_tui.core.train_stage import kept_items, split_indices, train_config
from classify_tui.core.workspace import Recipe, Workspace

SIZE = 64


def top_k_recall(scores: np.ndarray, flipped: set[int], k: int) -> float:
    """Lower score = more suspicious."""
    return len(set(np.argsort(scores, kind="stable")[:k].tolist()) & flipped) / k


def fastai_loss_scores(paths: list[Path], targets: list[str], root: Path) -> np.ndarray:
    """Negative in-sample loss of fastai's recipe trained on the noisy folder."""
    from bench_train import fastai_learner

    folder = root / "noisy"
    files = []
    for i, (p, t) in enumerate(zip(paths, targets)):
        dest = folder / t / f"{i:05d}{p.suffix}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest)
        files.append(dest)
    learn = fastai_learner(folder)
    dl = learn.dls.test_dl(files, with_labels=True)
    with learn.no_bar():
        _, _, losses = learn.get_preds(dl=dl, with_loss=True)
    return -losses.numpy()


def cleanlab_scores(paths: list[Path], y: np.ndarray) -> np.ndarray | None:
    try:
        from cleanlab.rank import get_label_quality_scores
    except ImportError:
        print("  cleanlab: not installed (pip install cleanlab) - skipped", file=sys.stderr)
        return None
    import torch
    from PIL import Image
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    from classify_tui.core.backbone import create_backbone

    model, cfg = create_backbone("tf_efficientnet_lite0", 10)
    model.eval()
    mean = torch.tensor(cfg.mean).view(1, 3, 1, 1)
    std = torch.tensor(cfg.std).view(1, 3, 1, 1)
    feats = []
    with torch.inference_mode():
        for s in range(0, len(paths), 128):
            batch = [np.asarray(Image.open(p).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR))
                     for p in paths[s:s + 128]]
            x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float() / 255
            feats.append(model.forward_head(model.forward_features((x - mean) / std), pre_logits=True))
    x = torch.cat(feats).numpy()
    probs = cross_val_predict(LogisticRegression(max_iter=2000), x, y, cv=5, method="predict_proba")
    return get_label_quality_scores(y, probs, method="self_confidence")


def main() -> None:
    root = Path(tempfile.mkdtemp())
    ws = Workspace(root / "digits")
    recipe = Recipe(labels=[str(i) for i in range(10)], source="digits", epochs=3, size=SIZE, folds=3)
    build(ws, recipe, opts=BuildOptions(stop_after="verify"))
    items = kept_items(ws, recipe, ws.load_manifest())
    rng = random.Random(0)
    flipped = set(rng.sample(range(len(items)), int(0.08 * len(items))))
    for i in flipped:
        items[i].label = rng.choice([lb for lb in recipe.labels if lb != items[i].label])
    k = len(flipped)
    paths = [ws.root / r.path for r in items]
    targets = [r.label for r in items]
    y = np.array([recipe.labels.index(t) for t in targets])
    _, valid_idx = split_indices(len(items), 0.2, 42)

    t0 = time.monotonic()
    out = train_classifier(paths, targets, recipe.labels, valid_idx, train_config(recipe), lambda e: None)
    probs_all = predict_probs(out.model, paths, recipe.size, out.data_cfg, out.device.name)
    oof = out_of_fold_probs(ws, recipe, items, valid_idx, probs_all[valid_idx], lambda e: None, threading.Event())
    ranked = rank_rows(items, recipe.labels, oof, valid_idx)
    t_ours = time.monotonic() - t0
    pos = {r.path: n for n, r in enumerate(ranked)}
    ours = sum(1 for i in flipped if pos[items[i].path] < k) / k
    own_insample = top_k_recall(probs_all[np.arange(len(y)), y], flipped, k)

    t1 = time.monotonic()
    fastai = top_k_recall(fastai_loss_scores(paths, targets, root), flipped, k)
    t_fastai = time.monotonic() - t1
    t2 = time.monotonic()
    cl = cleanlab_scores(paths, y)
    t_cl = time.monotonic() - t2
    if len(sys.argv) > 1:
        np.savez(sys.argv[1], oof=oof, insample=probs_all, y=y, flipped=np.array(sorted(flipped)))

    print(f"flipped {k} of {len(items)} digit labels; top-{k} recall (goal >= 0.95)")
    print(f"  classify-tui ({recipe.repeats} x {recipe.folds}-fold): {ours:.3f}  ({t_ours:.0f}s incl. main model)")
    print(f"  fastai loss ranking (cleaner):  {fastai:.3f}  ({t_fastai:.0f}s)")
    if cl is not None:
        print(f"  cleanlab, frozen features:      {top_k_recall(cl, flipped, k):.3f}  ({t_cl:.0f}s)")
    print(f"  our recipe's in-sample loss:    {own_insample:.3f}")
    print(f"  ratio ours/fastai {ours / max(fastai, 1e-9):.2f}"
          + (f", ours/cleanlab {ours / max(top_k_recall(cl, flipped, k), 1e-9):.2f}" if cl is not None else ""))


if __name__ == "__main__":
    main()
