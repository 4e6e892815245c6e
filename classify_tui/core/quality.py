"""Image-quality checks in the spirit of cleanvision: dark, overexposed, blurry, low-information,
extreme aspect ratio, and tiny images.

Each check is a cheap statistic of a small copy of the image with an absolute threshold taken
from cleanvision's defaults (or measured on bench/noisy_data.quality_set where we changed it).
A check that trips on a large share of a dataset describes the dataset, not a defect (digits
are ink on white paper and blurry by nature at 32 px), so it is not reported there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# kind -> plain reason
QUALITY_REASONS = {
    "low information": "nearly uniform: little to learn from",
    "dark": "very dark",
    "overexposed": "overexposed (washed out)",
    "blurry": "heavily blurred",
    "odd aspect": "extreme aspect ratio",
    "tiny": "much smaller than the rest",
}
MAX_SHARE = 0.25  # a check that trips on more of the dataset than this is a property of the data


@dataclass(frozen=True)
class QualityStats:
    """Low is bad for every score; all but ``aspect`` and ``side`` lie in [0, 1]."""

    dark: float  # 99th percentile of perceived brightness (cleanvision: dark below 0.32)
    light: float  # 1 - 5th percentile of brightness (cleanvision: overexposed below 0.05)
    blur: float  # edge strength at 256 px over edge strength at 64 px (blurred photos: ~0.1, sharp: 0.4-0.8)
    info: float  # grey-level spread of a 32 px copy / 64 (flat images: < 0.02; photos, digits: > 0.3)
    aspect: float  # min(w/h, h/w) of the original (cleanvision: odd below 0.35)
    side: float  # sqrt(w * h) of the original, px

    def to_text(self) -> str:
        """Compact form for the manifest's ``quality`` column, e.g. ``dark=0.81 light=0.93 ...``."""
        return " ".join(f"{f}={getattr(self, f):.4g}" for f in _FIELDS)

    @classmethod
    def from_text(cls, text: str) -> QualityStats | None:
        try:
            vals = dict(part.split("=", 1) for part in text.split())
            return cls(**{f: float(vals[f]) for f in _FIELDS})
        except (KeyError, ValueError):
            return None


_FIELDS = ("dark", "light", "blur", "info", "aspect", "side")


# dark and aspect are cleanvision's; light is looser than its 0.05 because JPEG noise lifts a
# washed-out photo's 5th percentile to ~0.06; blur is our own scale-free ratio (cleanvision's
# absolute edge score also flagged sharp night-sky photos on the quality bench); info replaces
# cleanvision's entropy, which called washed-out photos uniform and missed a flat image whose
# grey sat on a histogram bin edge.
THRESHOLDS = {"dark": 0.32, "light": 0.08, "blur": 0.25, "info": 0.025, "aspect": 0.35}


def measure(img, width: int, height: int) -> QualityStats:
    """Statistics of ``img`` (RGB, any size; a copy with a long side of 256 px or more gives the
    same answer) whose original is ``width`` x ``height``."""
    import numpy as np
    from PIL import Image

    g = img.convert("L")
    g256 = g.resize(_fit(g.size, 256), Image.BILINEAR) if max(g.size) > 256 else g
    small = img.resize(_fit(img.size, 128), Image.BILINEAR) if max(img.size) > 128 else img
    arr = np.asarray(small.convert("RGB"), dtype=np.float32)
    bright = np.sqrt(0.241 * arr[..., 0] ** 2 + 0.691 * arr[..., 1] ** 2 + 0.068 * arr[..., 2] ** 2) / 255
    p5, p99 = np.percentile(bright, [5, 99])
    # structure that survives averaging: a flat image's sensor or JPEG noise does not, while a
    # washed-out or very dark photo keeps its (faint) shapes
    g32 = g256.resize(_fit(g256.size, 32), Image.BILINEAR)
    structure = float(np.asarray(g32, dtype=np.float32).std())
    g64 = g256.resize(_fit(g256.size, 64), Image.BILINEAR) if max(g256.size) > 64 else g256
    blur = _edge_std(g256) / max(_edge_std(g64), 1e-6)
    w, h = max(width, 1), max(height, 1)
    return QualityStats(dark=float(p99), light=float(1 - p5), blur=min(float(blur), 1.0),
                        info=min(structure / 64, 1.0), aspect=min(w / h, h / w), side=math.sqrt(w * h))


def _edge_std(grey) -> float:
    import numpy as np
    from PIL import ImageFilter

    edges = np.asarray(grey.filter(ImageFilter.FIND_EDGES), dtype=np.float32)
    if edges.shape[0] > 2 and edges.shape[1] > 2:
        edges = edges[1:-1, 1:-1]  # FIND_EDGES leaves the border at 0
    return float(edges.std())


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    w, h = size
    s = longest / max(w, h)
    return max(1, round(w * s)), max(1, round(h * s))


def quality_issues(stats: list[QualityStats]) -> list[list[str]]:
    """The quality kinds each image has, most severe first; a check that trips on more than
    ``MAX_SHARE`` of the dataset is dropped (it describes the data, not a defect)."""
    import numpy as np

    n = len(stats)
    if n == 0:
        return []
    col = {name: np.array([getattr(s, name) for s in stats], dtype=np.float64) for name in
           ("dark", "light", "blur", "info", "aspect", "side")}
    tripped = {
        "low information": col["info"] < THRESHOLDS["info"],
        "dark": col["dark"] < THRESHOLDS["dark"],
        "overexposed": col["light"] < THRESHOLDS["light"],
        "blurry": col["blur"] < THRESHOLDS["blur"],
        "odd aspect": col["aspect"] < THRESHOLDS["aspect"],
    }
    # tiny: far below the dataset's own sizes (cleanvision's IQR rule, small side only)
    q1, q3 = np.percentile(col["side"], [25, 75])
    tripped["tiny"] = col["side"] < min(q1 - 3 * (q3 - q1), 0.25 * float(np.median(col["side"])))
    out: list[list[str]] = [[] for _ in range(n)]
    for kind in QUALITY_REASONS:
        mask = tripped[kind]
        if mask.sum() > max(1, MAX_SHARE * n):
            continue
        for i in np.nonzero(mask)[0]:
            out[int(i)].append(kind)
    return [sorted(kinds, key=lambda k, s=s: -quality_severity(s, k)) for kinds, s in zip(out, stats)]


def quality_severity(s: QualityStats, kind: str) -> float:
    """How far past its threshold an image is, in [0, 1]: 0 at the threshold, 1 at the extreme."""
    if kind == "low information":
        v, t = s.info, THRESHOLDS["info"]
    elif kind == "dark":
        v, t = s.dark, THRESHOLDS["dark"]
    elif kind == "overexposed":
        v, t = s.light, THRESHOLDS["light"]
    elif kind == "blurry":
        v, t = s.blur, THRESHOLDS["blur"]
    elif kind == "odd aspect":
        v, t = s.aspect, THRESHOLDS["aspect"]
    else:
        return 0.5
    return max(0.0, min(1.0, (t - v) / t))
