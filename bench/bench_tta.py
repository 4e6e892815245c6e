"""Test-time augmentation against the plain prediction, on the validation split of a real build.

    python bench/bench_tta.py [digits] [photos] [--per-label N] [--work DIR]

Builds (up to the train stage) `--source digits` (64 px, 5 epochs, no flips) and the photo set
of bench/noisy_data.py (4 labels, 1600 px JPEGs, 224 px, 3 epochs), then scores the validation
images exactly as the train stage splits them, once plainly (`train.predict_probs`, what
`error_rate` is) and once with `tta.tta_probs` (what `error_rate_tta` is), and prints error,
log-loss and seconds for both. A `--work` folder that already holds a build is reused.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def build(work: Path, args: list[str], name: str) -> Path:
    ws = work / "datasets" / name
    if not (ws / "model" / "model.safetensors").exists():
        cmd = ["classify-tui", "--datasets", "datasets", "--exports", "exports", "build", *args, "--name", name,
               "--stop-after", "train", "--plain"]
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
        print(f"  built {name} in {time.monotonic() - t0:.0f} s")
    return ws


def score(ws_root: Path) -> None:
    import numpy as np

    from classify_tui.core.modelio import data_config_of, load_model
    from classify_tui.core.train import predict_probs
    from classify_tui.core.train_stage import kept_items, model_dir, model_inputs, split_indices
    from classify_tui.core.tta import n_views, tta_probs
    from classify_tui.core.workspace import Workspace

    ws = Workspace(ws_root)
    recipe = ws.load_recipe()
    items = kept_items(ws, recipe, ws.load_manifest())
    paths, _ = model_inputs(ws, recipe, items, lambda ev: None)
    _, valid_idx = split_indices(len(items), recipe.valid_pct, recipe.seed)
    model, labels, cfg = load_model(model_dir(ws))
    size = int(cfg["pretrained_cfg"]["input_size"][-1])
    data_cfg = data_config_of(cfg)
    vpaths = [paths[i] for i in valid_idx]
    y = np.array([labels.index(items[i].label) for i in valid_idx])

    def measure(fn):
        t0 = time.monotonic()
        p = fn()
        sec = time.monotonic() - t0
        err = float((p.argmax(1) != y).mean())
        nll = float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1)).mean())
        return err, nll, sec

    plain = measure(lambda: predict_probs(model, vpaths, size, data_cfg, "cpu"))
    aug = measure(lambda: tta_probs(model, vpaths, size, data_cfg, "cpu", flip=recipe.flip))
    v = n_views(recipe.flip)
    print(f"  {ws.name}: {len(vpaths)} validation images, {size} px, flip={recipe.flip} ({v} views)")
    print(f"    plain: error {plain[0]:.4f} ({round(plain[0] * len(y))} wrong)  log-loss {plain[1]:.4f}  {plain[2]:.1f} s")
    print(f"    TTA:   error {aug[0]:.4f} ({round(aug[0] * len(y))} wrong)  log-loss {aug[1]:.4f}  {aug[2]:.1f} s"
          f"  ({aug[2] / max(plain[2], 1e-9):.1f}x the time)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("which", nargs="*", default=["digits", "photos"])
    ap.add_argument("--per-label", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path)
    a = ap.parse_args()
    work = a.work or Path(tempfile.mkdtemp(prefix="bench_tta_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work: {work}")
    if "digits" in a.which:
        score(build(work, ["--source", "digits"], "digits"))
    if "photos" in a.which:
        from noisy_data import photo_set

        folder = work / "photo-set"
        if not folder.exists():
            folder.mkdir()
        ps = photo_set(folder, per_label=a.per_label, seed=a.seed)
        score(build(work, ["--source", f"folder:{ps.folder}"], "photos"))


if __name__ == "__main__":
    main()
