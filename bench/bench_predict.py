"""`predict --runtime onnx` against the torch path, in one run: latency per image and CLI start.

    python bench/bench_predict.py [--images N] [--runs R]

For a digits-sized (64 px) and a photo-sized (224 px) export of tf_efficientnet_lite0 (weights
do not change the speed, so they are untrained here; model.onnx through `classify-tui`'s own
export code):

- latency: one image at a time in one process, preprocessing included, after 3 warm-up images;
  torch = `predict_paths` (timm's transform, the default path), onnx = `predict_images` on
  onnxruntime; also both with --tta;
- CLI: the whole `classify-tui predict EXPORT IMAGE --json` as a user runs it (interpreter start,
  imports, model load, one prediction), median of R runs, torch and onnx alternating.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def make_export(root: Path, size: int) -> Path:
    import timm

    from classify_tui.core.backbone import DataConfig
    from classify_tui.core.modelio import save_model
    from classify_tui.core.onnx_export import export_onnx

    d = root / f"exports/lite0-{size}"
    model = timm.create_model("tf_efficientnet_lite0", num_classes=10)
    save_model(model, d, "tf_efficientnet_lite0", [str(i) for i in range(10)], size,
               DataConfig((0.5,) * 3, (0.5,) * 3, "bilinear"))
    export_onnx(d)
    return d


def make_images(root: Path, n: int, side: int) -> list[Path]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        p = root / f"img-{side}-{i}.{'png' if side < 100 else 'jpg'}"
        Image.fromarray(rng.integers(0, 255, (side, side * 4 // 3, 3), dtype=np.uint8)).save(p)
        out.append(p)
    return out


def per_image_ms(fn, paths: list[Path]) -> float:
    for p in paths[:3]:
        fn([p])
    times = []
    for p in paths:
        t0 = time.perf_counter()
        fn([p])
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def cli_seconds(export: Path, image: Path, runtime: str, cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "classify_tui.cli", "predict", str(export), str(image), "--json",
                           "--runtime", runtime], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()

    from classify_tui.core.predict import load_exported, load_runner, predict_images, predict_paths

    root = Path(tempfile.mkdtemp(prefix="bench_predict_"))
    print(f"work: {root}")
    for size, side in ((64, 32), (224, 1600)):
        export = make_export(root, size)
        paths = make_images(root, a.images, side)
        lm = load_exported(export)
        torch_runner, onnx_runner = load_runner(export, "torch"), load_runner(export, "onnx")
        t = per_image_ms(lambda ps, lm=lm: predict_paths(lm, ps), paths)
        o = per_image_ms(lambda ps, r=onnx_runner: predict_images(r, ps), paths)
        tt = per_image_ms(lambda ps, r=torch_runner: predict_images(r, ps, tta=True), paths)
        ot = per_image_ms(lambda ps, r=onnx_runner: predict_images(r, ps, tta=True), paths)
        cli = {"torch": [], "onnx": []}
        for _ in range(a.runs):
            for runtime in ("torch", "onnx"):
                cli[runtime].append(cli_seconds(export, paths[0], runtime, root))
        ct, co = statistics.median(cli["torch"]), statistics.median(cli["onnx"])
        print(f"{size} px export, {side} px source images ({'PNG' if side < 100 else 'JPEG'}):")
        print(f"  latency per image: torch {t:.1f} ms, onnx {o:.1f} ms  -> onnx/torch {o / t:.2f}")
        print(f"  with --tta (6 views): torch {tt:.1f} ms, onnx {ot:.1f} ms  -> onnx/torch {ot / tt:.2f}")
        print(f"  CLI predict, one image (median of {a.runs}): torch {ct:.2f} s, onnx {co:.2f} s  -> onnx/torch "
              f"{co / ct:.2f}")


if __name__ == "__main__":
    main()
