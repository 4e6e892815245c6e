"""Decode one file fully and normalise it to RGB. Runs on verify's threads (no shared state).

While the full image is decoded anyway, it also yields what later passes would otherwise decode
it again for: its quality statistics and, for big photos, the small prepared copy the model reads
(core/prepared.py)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from .sniff import describe_non_image, sniff

LOSSLESS = {"png", "gif", "bmp", "tiff", "ico"}


@dataclass
class CheckResult:
    ok: bool
    reason: str = ""
    ext: str = ""
    width: int = 0
    height: int = 0
    sha256: str = ""
    phash: str = ""
    out: str = ""  # path of the normalised file written next to the input ("" = input unchanged)
    quality: str = ""  # QualityStats.to_text()
    prepared: bool = False  # a prepared copy was written to the cache


def _dct_matrix(n: int):
    import numpy as np

    k = np.arange(n)
    m = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n))
    m[0] *= 1 / np.sqrt(2)
    return m * np.sqrt(2 / n)


def grey32(img):
    """The 32x32 grey thumbnail (float64) that the perceptual hash and the near-duplicate check
    (verify.thumbnail_vector) both look at."""
    import numpy as np
    from PIL import Image

    return np.asarray(img.convert("L").resize((32, 32), Image.BILINEAR), dtype=np.float64)


def phash(img) -> str:
    """64-bit perceptual hash (DCT of a 32x32 grey thumbnail) as 16 hex digits."""
    import numpy as np

    grey = grey32(img)
    d = _dct_matrix(32)
    coeffs = (d @ grey @ d.T)[:8, :8].flatten()
    bits = coeffs > np.median(coeffs[1:])
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def _to_rgb(img):
    import numpy as np
    from PIL import Image

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        hi = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        return Image.fromarray((arr / hi * 255).clip(0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    if mode == "RGB":
        return img
    return img.convert("RGB")  # CMYK, YCbCr, L, 1, P, LAB ...


def check_image(path: str, min_side: int, max_pixels: int = 89_478_485, cache=None) -> CheckResult:
    """Fully decode ``path``; write a normalised copy when the bytes are not already RGB JPEG/PNG,
    and the prepared copy into ``cache`` (a PreparedCache) when the image is bigger than it needs."""
    from PIL import Image, ImageOps

    src = Path(path)
    try:
        raw = src.read_bytes()
    except OSError as exc:
        return CheckResult(False, f"cannot read: {exc.strerror or exc}")
    fmt = sniff(raw[:32])
    if fmt is None:
        return CheckResult(False, describe_non_image(raw[:512]))
    try:
        img = Image.open(io.BytesIO(raw))  # reads the header only
        if img.width * img.height > max_pixels:
            # Checked here, not through PIL's global limit and warning filters: this runs in
            # threads, and warnings.catch_warnings is not thread-safe.
            return CheckResult(False, f"decompression bomb: {img.width}x{img.height} pixels > {max_pixels}")
        img.load()  # decode the first frame fully: truncated files fail here
        frames = getattr(img, "n_frames", 1)
        if frames > 1:
            img.seek(0)
            img.load()
        orig_mode = img.mode
        rotated = img.getexif().get(0x0112, 1) not in (1, None)
        rgb = _to_rgb(ImageOps.exif_transpose(img) if rotated else img)
    except Image.DecompressionBombError as exc:  # PIL's own hard limit (2x its default)
        return CheckResult(False, f"decompression bomb: {exc}".split(". ")[0])
    except Exception as exc:  # PIL raises many types for corrupt data
        return CheckResult(False, f"cannot decode {fmt}: {type(exc).__name__}: {exc}"[:200])
    w, h = rgb.size
    if min(w, h) < min_side:
        return CheckResult(False, f"too small ({w}x{h} < {min_side} px)", width=w, height=h)
    keep_bytes = fmt in ("jpeg", "png") and orig_mode == "RGB" and not rotated and frames == 1
    if keep_bytes:
        data, ext, out = raw, ("jpg" if fmt == "jpeg" else "png"), ""
    else:
        ext = "png" if fmt in LOSSLESS else "jpg"
        buf = io.BytesIO()
        if ext == "png":
            rgb.save(buf, "PNG", optimize=False)
        else:
            rgb.save(buf, "JPEG", quality=95)
        data = buf.getvalue()
        out = str(src.with_name(src.name + ".norm"))
        Path(out).write_bytes(data)
    from .quality import measure

    sha = hashlib.sha256(data).hexdigest()
    # One downscale of the full image serves the hash, the quality statistics and the prepared copy.
    side = max(512, cache.bucket if cache is not None else 0)
    small = rgb
    if max(w, h) > side:
        scale = side / max(w, h)
        small = rgb.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR, reducing_gap=2.0)
    prepared = False
    if cache is not None:
        from .prepared import ImageRef

        ref = ImageRef(src, sha, w, h)
        if cache.needs_copy(ref) and not cache.cached_path(ref).exists():
            prepared = cache.write(ref, small)
    return CheckResult(True, "", ext, w, h, sha, phash(small), out, measure(small, w, h).to_text(), prepared)

