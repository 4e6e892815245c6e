"""The whole `classify-tui build`, timed as a user times it (command to export), against
fastai's lesson loop on the same folder, backbone, size and epochs (bench/fastai_loop.py), in
one run. Also: each side's validation error, peak memory, where our time went, and on the
photo set, who finds the planted off-topic images.

    python bench/bench_build.py [digits] [photos] [--seed N] [--per-label N]

- digits: `classify-tui build --source digits` (the README's main command, 64 px), then fastai
  on the folder of images it wrote.
- photos: 4 labels x N photo-sized JPEGs (1600 px long side) cut from scikit-image's photos,
  5% of each label planted off-topic images (bench/noisy_data.py); `build --source folder:`
  at the defaults (224 px, 3 epochs) against fastai on the same folder. Off-topic recall@k
  (k = planted) for our queue, fastai's top-loss ranking, and cleanlab's OutOfDistribution on
  the same backbone's pretrained features.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in MiB, stderr tail) of a command, as /usr/bin/time sees it."""
    t0 = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "RSS=%M", *cmd], cwd=cwd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    rss = [int(line[4:]) for line in proc.stderr.splitlines() if line.startswith("RSS=")]
    return wall, (rss[-1] // 1024 if rss else 0), proc.stderr[-2000:]


def fastai(folder: Path, size: int, epochs: int, work: Path) -> dict:
    out = work / "fastai.json"
    wall, rss, _ = timed([sys.executable, str(HERE / "fastai_loop.py"), str(folder), str(size), str(epochs), str(out)],
                         work)
    res = json.loads(out.read_text())
    res.update(wall=wall, rss=rss)
    return res


def ours(args: list[str], work: Path, name: str) -> dict:
    wall, rss, _ = timed(["classify-tui", "--datasets", "datasets", "--exports", "exports", "build", *args,
                          "--plain"], work)
    report = json.loads((work / "datasets" / name / "report.json").read_text())
    return {"wall": wall, "rss": rss, "report": report}


def line(label: str, o: dict, f: dict) -> None:
    rep = o["report"]
    print(f"  {label}")
    print(f"    classify-tui build: {o['wall']:6.1f} s  error {rep['error_rate']:.4f} "
          f"(with TTA {rep.get('error_rate_tta')})  peak RSS {o['rss']} MiB")
    print(f"      review kinds: {rep.get('counts', {}).get('review', {}).get('kinds')}")
    sec = rep["seconds"]
    print("      stages: " + ", ".join(f"{k} {v:.1f}" for k, v in sec.items())
          + f"; review/train = {sec.get('review', 0) / max(sec.get('train', 1e-9), 1e-9):.2f}")
    print(f"      training {rep.get('images_per_s')} img/s, the model's own speed in training "
          f"{rep.get('compute_images_per_s')} img/s ({rep.get('data_path_efficiency', 0):.0%}); "
          f"full-size decodes in train: {rep.get('full_size_decodes')}")
    s = f["seconds"]
    print(f"    fastai lesson loop: {f['wall']:6.1f} s  error {f['error_rate']:.4f}  peak RSS {f['rss']} MiB")
    print("      steps: " + ", ".join(f"{k} {v:.1f}" for k, v in s.items()))
    print(f"    wall ratio ours/fastai {o['wall'] / f['wall']:.2f} (goal <= 1.0); "
          f"error {rep['error_rate']:.4f} vs {f['error_rate']:.4f}")


def digits(root: Path) -> None:
    work = root / "digits"
    work.mkdir()
    o = ours(["--source", "digits"], work, "digits")
    rep = o["report"]
    f = fastai(work / "datasets" / "digits" / "images", rep["size"], rep["epochs"], work)
    print(f"digits: {rep['n_train'] + rep['n_valid']} images at {rep['size']} px, {rep['epochs']} epochs")
    line("README main command vs fastai on the folder it wrote", o, f)


def top_k(ranked: list[str], planted: set[str], k: int) -> float:
    return len(set(ranked[:k]) & planted) / max(k, 1)


def photos(root: Path, seed: int, per_label: int) -> None:
    from noisy_data import photo_set

    ps = photo_set(root, per_label=per_label, seed=seed)
    work = root / "photos-work"
    work.mkdir()
    o = ours(["--source", f"folder:{ps.folder}", "--name", "photos"], work, "photos")
    rep = o["report"]
    f = fastai(ps.folder, rep["size"], rep["epochs"], work)
    n = sum(1 for _ in ps.folder.rglob("*.jpg"))
    print(f"photos: {n} JPEGs (1600 px long side), {len(ps.labels)} labels, {len(ps.off_topic)} planted off-topic, "
          f"{rep['size']} px, {rep['epochs']} epochs, seed {seed}")
    line("build --source folder: vs fastai on the same folder", o, f)

    # who finds the planted off-topic images? k = number planted
    k = len(ps.off_topic)
    ws = work / "datasets" / "photos"
    manifest = {r["path"]: r["source"] for r in csv.DictReader(open(ws / "manifest.csv", newline=""))}
    queue = list(csv.DictReader(open(ws / "review.csv", newline="")))
    rel = {r["path"]: str(Path(manifest[r["path"]]).relative_to(ps.folder)) for r in queue}
    ranked = [rel[r["path"]] for r in queue]
    ours_recall = top_k(ranked, ps.off_topic, k)
    planted_rows = [r for r in queue if rel[r["path"]] in ps.off_topic]
    said_outlier = sum(1 for r in planted_rows if r["kind"] == "outlier" and r["suggestion"] == "delete")
    fastai_rank = sorted(f["losses"], key=lambda p: -f["losses"][p])
    fastai_recall = top_k(fastai_rank, ps.off_topic, k)
    cl = cleanlab_ood(ps.folder, rep["size"])
    cl_recall = top_k(cl, ps.off_topic, k) if cl else float("nan")
    print(f"  off-topic recall@{k}: classify-tui {ours_recall:.2f} ({said_outlier}/{len(planted_rows)} rows say "
          f"outlier + delete), fastai top-loss {fastai_recall:.2f}, cleanlab OutOfDistribution (pretrained "
          f"features) {cl_recall:.2f}")
    kinds = rep["counts"]["review"].get("kinds", {})
    print(f"  queue kinds: {kinds}; clean rows called outlier: "
          f"{sum(1 for r in queue if r['kind'] == 'outlier' and rel[r['path']] not in ps.off_topic)}")


def cleanlab_ood(folder: Path, size: int) -> list[str] | None:
    """Files ranked most off-topic first by cleanlab's OutOfDistribution over pretrained features."""
    try:
        from cleanlab.outlier import OutOfDistribution
    except ImportError:
        print("  cleanlab not installed (pip install cleanlab): its comparison is skipped")
        return None
    import numpy as np

    from classify_tui.core.backbone import create_backbone
    from classify_tui.core.train import infer

    files = sorted(folder.rglob("*.jpg"))
    model, cfg = create_backbone("tf_efficientnet_lite0", 2)
    feats = infer(model, files, size, cfg, "cpu", features=True).features
    scores = OutOfDistribution().fit_score(features=feats)
    order = np.argsort(scores)  # low score = more likely out of distribution
    return [str(files[i].relative_to(folder)) for i in order]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("which", nargs="*", default=["digits", "photos"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-label", type=int, default=100)
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_build_"))
    print(f"2 CPU cores; work in {root}; {os.cpu_count()} cpus seen")
    if "digits" in a.which:
        digits(root)
    if "photos" in a.which:
        photos(root, a.seed, a.per_label)


if __name__ == "__main__":
    main()
