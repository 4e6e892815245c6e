"""Peak memory of a build over many photo-sized images, stage by stage, against the model's own
training footprint: no stage may hold decoded full-size images, so the peak must not grow with
the number of images.

    python bench/bench_memory.py [--n 10000] [--small 400] [--epochs 1] [--work DIR]

Makes ``--n`` photo-sized JPEGs (1600 px long side, 4 labels, cut from scikit-image's photos by
bench/noisy_data.py), then runs the real `classify-tui build --source folder:` at 224 px one
stage per process (`--stop-after verify`, then `--from train --stop-after train`, review,
export), each under /usr/bin/time for its peak RSS. The same for ``--small`` images, and for
"the model": lite0 training steps on random tensors at the same size and batch, in a bare
process. Prints each stage's peak, the large set against the small one, and against the model.
Memory, unlike time, does not suffer from a busy machine, but the run takes a while (training
10,000 images at 224 px for one epoch is ~10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MODEL_ONLY = """
import torch, timm
torch.manual_seed(0)
m = timm.create_model("tf_efficientnet_lite0", num_classes=4).to(memory_format=torch.channels_last)
opt = torch.optim.AdamW(m.parameters(), 1e-3)
for _ in range(4):
    x = torch.randn({batch}, 3, {size}, {size}).contiguous(memory_format=torch.channels_last)
    loss = torch.nn.functional.cross_entropy(m(x), torch.randint(0, 4, ({batch},)))
    opt.zero_grad(); loss.backward(); opt.step()
"""


def _make_chunk(args: tuple[Path, int, int, int]) -> int:
    """Images ``start``..``stop`` of the set, each a different crop/jitter of a source photo."""
    import numpy as np
    from noisy_data import PHOTO_CLASSES, _photo_variant, _skimage_photo

    folder, start, stop, seed = args
    labels = list(PHOTO_CLASSES)
    sources = {lab: [_skimage_photo(n) for n in names] for lab, names in PHOTO_CLASSES.items()}
    for i in range(start, stop):
        lab = labels[i % len(labels)]
        out = folder / lab / f"{i:05d}.jpg"
        if out.exists():
            continue
        rng = np.random.default_rng([seed, i])
        srcs = sources[lab]
        _photo_variant(srcs[i % len(srcs)], rng, 1600).save(out, "JPEG", quality=int(rng.integers(80, 95)))
    return stop - start


def photo_folder(work: Path, n: int, seed: int = 0) -> Path:
    from noisy_data import PHOTO_CLASSES

    folder = work / f"photos-{n}"
    for lab in PHOTO_CLASSES:
        (folder / lab).mkdir(parents=True, exist_ok=True)
    if sum(1 for _ in folder.rglob("*.jpg")) >= n:
        return folder
    t0 = time.monotonic()
    step = 250
    with ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(_make_chunk, [(folder, s, min(s + step, n), seed) for s in range(0, n, step)]))
    print(f"  made {n} photo-sized JPEGs in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return folder


def peak_rss(cmd: list[str], cwd: Path) -> tuple[int, float]:
    """(peak RSS in MiB, wall seconds) of a command."""
    t0 = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "RSS=%M", *cmd], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    rss = [int(line[4:]) for line in proc.stderr.splitlines() if line.startswith("RSS=")]
    return rss[-1] // 1024, time.monotonic() - t0


def stages(work: Path, folder: Path, name: str, epochs: int) -> dict[str, tuple[int, float]]:
    base = ["classify-tui", "--datasets", "datasets", "--exports", "exports", "build", "--source", f"folder:{folder}",
            "--name", name, "--size", "224", "--epochs", str(epochs), "--plain"]
    out = {"search+download+verify": peak_rss(base + ["--stop-after", "verify"], work)}
    for stage in ("train", "review", "export"):
        out[stage] = peak_rss(base + ["--from", stage, "--stop-after", stage], work)
    report = json.loads((work / "datasets" / name / "report.json").read_text())
    out["_report"] = report  # type: ignore[assignment]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--small", type=int, default=400)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work dir: {work}")

    model_mib, _ = peak_rss([sys.executable, "-c", MODEL_ONLY.format(batch=32, size=224)], work)
    print(f"the model alone (lite0 fwd+bwd+AdamW, batch 32, 224 px, random tensors): {model_mib} MiB")

    results = {}
    for n in (args.small, args.n):
        folder = photo_folder(work, n)
        results[n] = stages(work, folder, f"photos{n}", args.epochs)
        rep = results[n].pop("_report")
        print(f"\n{n} images ({rep['n_train']} train, {rep['n_valid']} valid, error {rep['error_rate']:.4f}, "
              f"full-size decodes during training: {rep.get('full_size_decodes')})")
        for stage, (mib, wall) in results[n].items():
            print(f"  {stage:24s} peak RSS {mib:6d} MiB  ({wall:5.0f} s)")

    small, big = results[args.small], results[args.n]
    worst = max(mib for mib, _ in big.values())
    print(f"\npeak over all stages, {args.n} images: {worst} MiB = the model's {model_mib} MiB + {worst - model_mib} MiB "
          f"(goal: < 2048 MiB + the model)")
    for stage in big:
        print(f"  {stage:24s} {args.n} vs {args.small} images: {big[stage][0] / max(small[stage][0], 1):.2f}x")


if __name__ == "__main__":
    main()
