"""Quality kinds through the real build: a folder of clean photos plus very dark, overexposed,
heavily blurred, near-uniform and 20:1 images (bench/noisy_data.quality_set). Each bad image
must come out of review.csv as kind `quality` with the right reason, and no clean one may.

    python bench/bench_quality.py [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from noisy_data import quality_set  # noqa: E402

from classify_tui.core.pipeline import BuildOptions, build  # noqa: E402
from classify_tui.core.workspace import Recipe, Workspace  # noqa: E402

REASON = {"dark": "very dark", "light": "overexposed", "blurry": "heavily blurred", "uniform": "nearly uniform",
          "aspect": "extreme aspect ratio"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1")
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_quality_"))
    for seed in (int(s) for s in a.seeds.split(",")):
        folder, expected = quality_set(root, seed=seed)
        ws = Workspace(root / f"ws-{seed}")
        build(ws, Recipe(labels=sorted(p.name for p in folder.iterdir()), source=f"folder:{folder}"),
              opts=BuildOptions(stop_after="review"))
        manifest = {r.path: r.source for r in ws.load_manifest().values()}
        right = wrong_kind = missed = false_alarm = 0
        for r in csv.DictReader(open(ws.review_path, newline="")):
            want = expected[str(Path(manifest[r["path"]]).relative_to(folder))]
            if want == "ok":
                false_alarm += r["kind"] == "quality"
            elif r["kind"] == "quality" and r["reasons"].startswith(REASON[want]):
                right += 1
            elif r["kind"] == "quality" or REASON[want] in r["reasons"]:
                wrong_kind += 1
                print(f"  {want}: kind {r['kind']}, reasons {r['reasons']!r}")
            else:
                missed += 1
                print(f"  {want} missed: kind {r['kind']}, reasons {r['reasons']!r}")
        bad = sum(1 for v in expected.values() if v != "ok")
        clean = len(expected) - bad
        print(f"seed {seed}: {right}/{bad} bad images flagged quality with the right reason first "
              f"({wrong_kind} flagged but ranked under another kind or reason, {missed} missed); "
              f"{false_alarm}/{clean} clean images flagged")


if __name__ == "__main__":
    main()
