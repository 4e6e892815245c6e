"""Bench data with known defects: digit looks (plain, tinted), planted label flips, and a
photo-sized set built from scikit-image's bundled colour photos, with planted off-topic images
and generated bad-quality images. Shared by the benches so they all measure the same things."""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from classify_tui.core.pipeline import BuildOptions, build
from classify_tui.core.train_stage import kept_items
from classify_tui.core.workspace import Recipe, Row, Workspace

DIGITS = [str(i) for i in range(10)]


def digits_workspace(root: Path, look: str = "plain", seed: int = 0) -> tuple[Workspace, Recipe]:
    """A verified digits workspace; ``tinted`` recolours ink and paper per image (seeded)."""
    ws = Workspace(root / f"digits-{look}")
    recipe = Recipe(labels=list(DIGITS), source="digits")  # the source's defaults, as a user gets them
    build(ws, recipe, opts=BuildOptions(stop_after="verify"))
    marker = ws.root / "tinted.done"
    if look == "tinted" and not marker.exists():  # tint once: a second pass would tint the tint
        rng = np.random.default_rng(1000 + seed)
        for r in kept_items(ws, recipe, ws.load_manifest()):
            p = ws.root / r.path
            g = np.asarray(Image.open(p).convert("L"), dtype=np.float32)[..., None] / 255
            paper = rng.uniform(120, 255, 3)
            ink = rng.uniform(0, 255, 3)
            while np.abs(paper - ink).sum() < 180:  # keep the digit legible
                ink = rng.uniform(0, 255, 3)
            arr = g * paper + (1 - g) * ink + rng.normal(0, 6, g.shape[:2] + (3,))
            Image.fromarray(arr.clip(0, 255).astype(np.uint8)).save(p)
        marker.write_text("")
    return ws, recipe


def flip_labels(items: list[Row], labels: list[str], rate: float, seed: int) -> set[int]:
    """Give ``rate`` of the items a random other label, in place; returns their indices."""
    rng = random.Random(seed)
    flipped = set(rng.sample(range(len(items)), int(rate * len(items))))
    for i in sorted(flipped):
        items[i].label = rng.choice([lb for lb in labels if lb != items[i].label])
    return flipped


# -- photo-sized set ------------------------------------------------------------------------

PHOTO_CLASSES = {  # label -> scikit-image photos (RGB) it is cropped from
    "cat": ["chelsea", "cat"],
    "rocket": ["rocket"],
    "coffee": ["coffee"],
    "astronaut": ["astronaut"],
}


OTHER_PHOTOS = ["stereo_motorcycle", "immunohistochemistry", "hubble_deep_field", "retina", "camera", "coins",
                "clock", "moon", "brick"]


def _skimage_photo(name: str) -> Image.Image:
    from skimage import data

    arr = getattr(data, name)()
    arr = np.asarray(arr[0] if isinstance(arr, tuple) else arr)
    if arr.ndim == 3 and arr.shape[2] == 4:  # the scikit-image logo: RGBA on white
        bg = Image.new("RGBA", arr.shape[1::-1], (255, 255, 255, 255))
        return Image.alpha_composite(bg, Image.fromarray(arr)).convert("RGB")
    return Image.fromarray(arr).convert("RGB")


def _photo_variant(src: Image.Image, rng: np.random.Generator, long_side: int) -> Image.Image:
    """A random crop (60-100% of each side), colour jitter, blur or sharpen, and rotation, resized
    so the long side is ``long_side`` px: a different-looking photo of the same thing."""
    w, h = src.size
    cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
    x0, y0 = int(rng.uniform(0, w - cw + 1)), int(rng.uniform(0, h - ch + 1))
    im = src.crop((x0, y0, x0 + cw, y0 + ch))
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    im = im.rotate(float(rng.uniform(-12, 12)), resample=Image.BILINEAR, expand=False)
    arr = np.asarray(im, dtype=np.float32)
    arr = arr * rng.uniform(0.75, 1.2, 3) + rng.uniform(-20, 20)
    im = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    scale = long_side / max(im.size)
    im = im.resize((max(1, int(im.width * scale)), max(1, int(im.height * scale))), Image.BICUBIC)
    if rng.random() < 0.3:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
    return im


def _off_topic(kind: str, rng: np.random.Generator, long_side: int) -> Image.Image:
    """An image that belongs to none of the labels: a logo, text, a page scan, a chessboard,
    noise, or a photo of something else."""
    w, h = long_side, int(long_side * rng.uniform(0.6, 1.0))
    if kind == "logo" and rng.random() < 0.5:
        return _photo_variant(_skimage_photo("logo"), rng, long_side)
    if kind == "logo":
        im = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(200, 256, 3)))
        d = ImageDraw.Draw(im)
        colour = tuple(int(v) for v in rng.integers(0, 160, 3))
        cx, cy, r = w // 2, h // 2, int(min(w, h) * rng.uniform(0.2, 0.35))
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        d.rectangle((cx - r // 2, cy - r // 4, cx + r // 2, cy + r // 4), fill=(255, 255, 255))
        return im
    if kind in ("text", "page"):
        bg = (250, 250, 245) if kind == "page" else tuple(int(v) for v in rng.integers(0, 256, 3))
        im = Image.new("RGB", (w, h), bg)
        d = ImageDraw.Draw(im)
        font = ImageFont.load_default(size=max(12, h // (30 if kind == "page" else 8)))
        ink = (20, 20, 20) if kind == "page" else tuple(int(255 - v) for v in bg)
        words = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "SALE", "50%", "click", "here"]
        y = 10
        while y < h - 10:
            d.text((10, y), " ".join(rng.choice(words, 6)), fill=ink, font=font)
            y += font.size + 6
        return im
    if kind == "chessboard":
        from skimage import data

        board = Image.fromarray(np.asarray(data.checkerboard())).convert("RGB")
        return board.resize((w, h), Image.NEAREST)
    if kind == "noise":
        return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    # a photo of something else: scikit-image's other photos
    name = str(rng.choice(OTHER_PHOTOS))
    return _photo_variant(_skimage_photo(name), rng, long_side)


OFF_TOPIC_KINDS = ("logo", "text", "page", "chessboard", "noise", "other photo")


@dataclass
class PhotoSet:
    folder: Path
    labels: list[str]
    off_topic: set[str] = field(default_factory=set)  # relative paths of planted off-topic images


def photo_set(root: Path, per_label: int = 100, long_side: int = 1600, off_topic_rate: float = 0.05,
              seed: int = 0) -> PhotoSet:
    """``folder/<label>/*.jpg``: ``per_label`` photo-sized JPEGs per label, of which a share
    ``off_topic_rate`` are planted images that belong to no label."""
    rng = np.random.default_rng(seed)
    folder = root / f"photos-{seed}"
    if folder.exists():
        shutil.rmtree(folder)
    sources = {lab: [_skimage_photo(n) for n in names] for lab, names in PHOTO_CLASSES.items()}
    planted: set[str] = set()
    n_off = int(round(per_label * off_topic_rate))
    for lab, srcs in sources.items():
        (folder / lab).mkdir(parents=True)
        for i in range(per_label):
            if i < n_off:
                im = _off_topic(OFF_TOPIC_KINDS[(i + len(planted)) % len(OFF_TOPIC_KINDS)], rng, long_side)
                name = f"{lab}/x{i:03d}.jpg"
                planted.add(name)
            else:
                im = _photo_variant(srcs[i % len(srcs)], rng, long_side)
                name = f"{lab}/{i:03d}.jpg"
            im.save(folder / name, "JPEG", quality=int(rng.integers(80, 95)))
    return PhotoSet(folder, list(PHOTO_CLASSES), planted)


# -- quality set ----------------------------------------------------------------------------

def quality_set(root: Path, seed: int = 0, per_kind: int = 4) -> tuple[Path, dict[str, str]]:
    """``folder/<label>/*.jpg`` of clean photos plus very dark, overexposed, heavily blurred,
    near-uniform and 20:1 images. Returns the folder and {relative path: expected kind}."""
    rng = np.random.default_rng(seed)
    folder = root / f"quality-{seed}"
    if folder.exists():
        shutil.rmtree(folder)
    expected: dict[str, str] = {}
    srcs = {lab: [_skimage_photo(n) for n in names] for lab, names in PHOTO_CLASSES.items()}
    for lab, photos in srcs.items():
        (folder / lab).mkdir(parents=True)
        for i in range(12):
            name = f"{lab}/ok{i:02d}.jpg"
            _photo_variant(photos[i % len(photos)], rng, 800).save(folder / name, quality=90)
            expected[name] = "ok"
    labs = list(srcs)
    for k in range(per_kind):
        lab = labs[k % len(labs)]
        base = _photo_variant(srcs[lab][0], rng, 800)
        arr = np.asarray(base, dtype=np.float32)
        bad = {
            "dark": Image.fromarray((arr * 0.08).astype(np.uint8)),
            "light": Image.fromarray((255 - (255 - arr) * 0.06).clip(0, 255).astype(np.uint8)),
            "blurry": base.filter(ImageFilter.GaussianBlur(12)),
            "uniform": Image.fromarray((np.full_like(arr, arr.mean(axis=(0, 1))) + rng.normal(0, 2, arr.shape))
                                       .clip(0, 255).astype(np.uint8)),
            "aspect": base.resize((1000, 50), Image.BICUBIC),
        }
        for kind, im in bad.items():
            name = f"{lab}/{kind}{k}.jpg"
            im.save(folder / name, quality=90)
            expected[name] = kind
    return folder, expected
