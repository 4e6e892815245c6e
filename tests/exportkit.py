"""Small exports for the ONNX, TTA and Space tests: an untrained tf_efficientnet_lite0 saved in
the export layout (seconds, no training), generated images, and a workspace around them."""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from classify_tui.core.backbone import DataConfig
from classify_tui.core.modelio import save_model
from classify_tui.core.workspace import KEPT, Recipe, Row, Workspace

LABELS = ["cat", "dog", "fox"]
SIZE = 48


def save_untrained(directory: Path, labels=LABELS, size=SIZE, seed=0) -> Path:
    import timm
    import torch

    torch.manual_seed(seed)
    model = timm.create_model("tf_efficientnet_lite0", num_classes=len(labels))
    with torch.no_grad():  # a head that separates images a little, so probabilities differ per image
        model.get_classifier().weight.mul_(20)
    save_model(model, Path(directory), "tf_efficientnet_lite0", list(labels), size,
               DataConfig(mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3), interpolation="bilinear"))
    return Path(directory)


def make_images(folder: Path, n: int = 6, seed: int = 0) -> list[Path]:
    """Shapes on coloured grounds, of several sizes and aspect ratios (squash matters), PNG and JPEG."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        w, h = [(64, 40), (31, 77), (120, 120), (48, 48), (200, 90), (17, 23)][i % 6]
        im = Image.new("RGB", (w, h), tuple(int(c) for c in rng.integers(0, 255, 3)))
        d = ImageDraw.Draw(im)
        for _ in range(3):
            x0, y0 = int(rng.integers(0, w // 2 + 1)), int(rng.integers(0, h // 2 + 1))
            d.ellipse([x0, y0, x0 + w // 3, y0 + h // 3], fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
        p = folder / f"img{i}.{'jpg' if i % 3 == 2 else 'png'}"
        im.save(p)
        out.append(p)
    return out


def make_workspace(root: Path, name: str = "pets", source: str = "ddg", flip: bool = True) -> Workspace:
    """datasets/NAME with images, a manifest, a review.csv with a validation split, and a saved
    (untrained) model where the train stage leaves it."""
    from classify_tui.core.train_stage import model_dir

    ws = Workspace(root / "datasets" / name)
    ws.ensure()
    ws.save_recipe(Recipe(labels=list(LABELS), source=source, flip=flip))
    rows, review = {}, []
    for k, label in enumerate(LABELS):
        for j, p in enumerate(make_images(ws.root / "images" / label, n=4, seed=10 * k)):
            rel = p.relative_to(ws.root).as_posix()
            rows[f"{label}{j}"] = Row(id=f"{label}{j}", source=f"s{label}{j}", label=label, status=KEPT, path=rel)
            review.append({"path": rel, "label": label, "split": "valid" if j % 2 else "train", "kind": "ok"})
    ws.save_manifest(rows)
    with open(ws.root / "review.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["path", "label", "split", "kind"])
        w.writeheader()
        w.writerows(review)
    save_untrained(model_dir(ws))
    return ws


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "GRADIO_"))}
    env.update(extra)
    return env


def run_cli(args: list[str], cwd: Path, timeout: float = 120, **env: str):
    import subprocess

    return subprocess.run([sys.executable, "-m", "classify_tui.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=cli_env(**env))


DIGIT_LABELS = ["0", "1", "2", "3"]


def digits_probe_workspace(root: Path, labels=DIGIT_LABELS, size: int = 32, name: str = "digits",
                           per_label: int = 80) -> Workspace:
    """A digits workspace with a model that reads digits, exported to root/exports/NAME, in
    seconds: the real data stages (scikit-learn's digits through search, download and verify),
    then the offline pretrained backbone with its head fitted by logistic regression on
    ``per_label`` kept images' features each (read as training reads them), saved where training saves and
    exported by the real export. The journal says train is done, as after a build."""
    import torch
    from sklearn.linear_model import LogisticRegression

    from classify_tui.core.backbone import create_backbone
    from classify_tui.core.events import ignore
    from classify_tui.core.export import export_more
    from classify_tui.core.imageload import load_squished
    from classify_tui.core.pipeline import BuildOptions, build
    from classify_tui.core.train_stage import model_dir

    assert len(labels) > 2  # a multinomial head: one row of weights per label
    ws = Workspace(root / "datasets" / name)
    build(ws, Recipe(labels=list(labels), source="digits", size=size), ignore,
          BuildOptions(stop_after="verify", exports_dir=root / "exports"))
    recipe = ws.load_recipe()
    kept = [r for r in ws.load_manifest().values() if r.status == KEPT]
    kept = [r for lb in labels for r in [r for r in kept if r.label == lb][:per_label]]
    model, data_cfg = create_backbone(recipe.arch, len(labels))
    model.eval()
    mean, std = np.array(data_cfg.mean, dtype=np.float32), np.array(data_cfg.std, dtype=np.float32)
    feats = []
    with torch.inference_mode():
        for i in range(0, len(kept), 128):
            x = np.stack([load_squished(ws.root / r.path, size) for r in kept[i : i + 128]]).astype(np.float32)
            x = torch.from_numpy(((x / 255 - mean) / std).transpose(0, 3, 1, 2).copy())
            feats.append(model.forward_head(model.forward_features(x), pre_logits=True))
    y = np.array([labels.index(r.label) for r in kept])
    clf = LogisticRegression(max_iter=1000).fit(torch.cat(feats).numpy(), y)
    with torch.no_grad():
        model.get_classifier().weight.copy_(torch.from_numpy(clf.coef_).float())
        model.get_classifier().bias.copy_(torch.from_numpy(clf.intercept_).float())
    save_model(model, model_dir(ws), recipe.arch, list(labels), size, data_cfg)
    ws.journal("stage_done", stage="train", counts={"fitted": "logistic-regression head", "images": len(kept)})
    export_more(ws, root / "exports", ignore)
    return ws
