"""A bad-file corpus generated here, through the real verify stage."""

import io
import struct
import zlib

import numpy as np
import pytest
from conftest import png_bytes
from PIL import Image

from classify_tui.core.verify import verify_rows
from classify_tui.core.workspace import DOWNLOADED, Row, Workspace


def _save(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def corpus() -> dict[str, tuple[str, bytes]]:
    """name -> (label, bytes)."""
    rgb = Image.new("RGB", (80, 60), (10, 120, 200))
    noisy = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90
    rotated = _save(Image.new("RGB", (80, 40), (200, 100, 0)), "JPEG", exif=exif.tobytes())
    pal = Image.new("P", (60, 50), 0)
    pal.putpalette([255, 0, 0] * 256)
    frames = [Image.new("RGB", (40, 40), c) for c in ((255, 0, 0), (0, 255, 0))]
    anim = io.BytesIO()
    frames[0].save(anim, "GIF", save_all=True, append_images=frames[1:])
    i16 = Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16))
    good = _save(noisy, "PNG")
    # A PNG header claiming 100k x 100k pixels: a decompression bomb.
    bomb = bytearray(png_bytes(size=(8, 8)))
    bomb[16:24] = struct.pack(">II", 100_000, 100_000)
    bomb[29:33] = struct.pack(">I", zlib.crc32(bytes(bomb[12:29])))
    return {
        "good": ("a", good),
        "jpeg": ("a", _save(rgb, "JPEG")),
        "cmyk": ("a", _save(Image.new("CMYK", (50, 50), (0, 50, 100, 0)), "JPEG")),
        "rgba": ("a", _save(Image.new("RGBA", (50, 50), (0, 0, 0, 0)), "PNG")),
        "la": ("a", _save(Image.new("LA", (50, 50), (100, 128)), "PNG")),
        "p_trans": ("a", _save(pal, "PNG", transparency=0)),
        "i16": ("a", _save(i16, "PNG")),
        "anim": ("a", anim.getvalue()),
        "rotated": ("a", rotated),
        "truncated": ("a", good[: len(good) // 2]),
        "svg": ("a", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
        "html": ("a", b"<!doctype html><html></html>"),
        "tiny": ("a", png_bytes(size=(10, 10))),
        "bomb": ("a", bytes(bomb)),
        "dup_same": ("a", good),
        "dup_cross": ("b", good),
        "near": ("b", _save(noisy, "JPEG", quality=90)),
    }


@pytest.fixture
def verified(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    rows = {}
    for name, (label, data) in corpus().items():
        (ws.incoming / name).write_bytes(data)
        rows[name] = Row(id=name, source=f"test:{name}", label=label, status=DOWNLOADED)
    counts = verify_rows(ws, rows, min_side=32, on_event=lambda e: None, workers=1)
    ws.save_manifest(rows)
    return ws, rows, counts


def test_good_and_normalised_images_are_kept_as_rgb(verified):
    ws, rows, _ = verified
    for name in ("good", "jpeg", "cmyk", "rgba", "la", "p_trans", "i16", "anim", "rotated"):
        row = rows[name]
        assert row.status == "kept", (name, row.reason)
        with Image.open(ws.root / row.path) as im:
            im.load()
            assert im.mode == "RGB", name
            assert getattr(im, "n_frames", 1) == 1
    assert (rows["rotated"].width, rows["rotated"].height) == (40, 80)  # EXIF transpose applied
    with Image.open(ws.root / rows["rgba"].path) as im:
        assert im.getpixel((0, 0)) == (255, 255, 255)  # transparency composited on white
    with Image.open(ws.root / rows["i16"].path) as im:
        assert im.getextrema()[0][1] > 200  # 16-bit scaled, not clipped to black/white
    assert (ws.trash / "replaced" / "cmyk").exists()  # the original is kept in trash


@pytest.mark.parametrize("name,needle", [
    ("truncated", "cannot decode"), ("svg", "svg"), ("html", "html"), ("tiny", "too small"),
    ("bomb", "decompression bomb"),
])
def test_bad_files_rejected_with_reason(verified, name, needle):
    ws, rows, _ = verified
    row = rows[name]
    assert row.status == "rejected" and needle in row.reason and row.path == ""
    assert (ws.root / row.trash).exists()  # rejected bytes are in trash, not deleted


def test_exact_duplicates_within_and_across_labels(verified):
    _, rows, counts = verified
    assert rows["dup_same"].status == "duplicate" and "exact duplicate" in rows["dup_same"].reason
    assert rows["dup_cross"].status == "duplicate" and "label conflict" in rows["dup_cross"].reason
    assert rows["dup_cross"].dup_of == rows["good"].path
    assert "cross-label duplicate" in rows["good"].flags
    assert counts["duplicate"] == 2


def test_near_duplicates_flagged_not_removed(verified):
    _, rows, _ = verified
    assert rows["near"].status == "kept"
    assert "near duplicate" in rows["near"].flags and rows["good"].path in rows["near"].flags


def test_manifest_round_trip_and_contract(verified):
    ws, rows, _ = verified
    loaded = ws.load_manifest()
    assert set(loaded) == set(rows)
    header = ws.manifest_path.read_text().splitlines()[0].split(",")
    for col in ("path", "source", "label", "status", "reason", "query", "sha256", "width", "height"):
        assert col in header
    for r in loaded.values():
        assert r.status == "kept" or r.reason
        if r.status == "kept":
            assert (ws.root / r.path).exists()


def test_pixel_limit_is_checked_before_decoding(tmp_path):
    from classify_tui.core.imagecheck import check_image

    p = tmp_path / "big.png"
    p.write_bytes(png_bytes(size=(64, 64)))
    assert check_image(str(p), 32, max_pixels=64 * 64).ok
    res = check_image(str(p), 32, max_pixels=64 * 64 - 1)
    assert not res.ok and res.reason.startswith("decompression bomb")


def test_near_duplicates_are_copies_not_look_alikes(tmp_path):
    """Close hashes are only candidates: distinct handwritten 6s share a 64-bit hash to within 4
    bits, a resized, re-encoded copy of a photo is what 'nearly identical' means."""
    from skimage import data as skdata
    from sklearn.datasets import load_digits

    from classify_tui.core.imagecheck import phash
    from classify_tui.core.sources.digits import digit_png
    from classify_tui.core.verify import flag_near_duplicates, hamming_pairs

    digits = load_digits()
    sixes = [img for img, t in zip(digits.images, digits.target) if t == 6]
    rows = []
    (tmp_path / "images" / "6").mkdir(parents=True)
    for i, img in enumerate(sixes):
        rel = f"images/6/{i}.png"
        (tmp_path / rel).write_bytes(digit_png(img))
        rows.append(Row(id=str(i), source="t", label="6", status="kept", path=rel,
                        phash=phash(Image.open(tmp_path / rel))))
    look_alikes = hamming_pairs([int(r.phash, 16) for r in rows], 4)
    assert len(look_alikes) >= 5  # the hash alone would call these duplicates
    assert flag_near_duplicates(rows, root=tmp_path) == 0
    assert not any("near duplicate" in r.flags for r in rows)

    photo = Image.fromarray(skdata.astronaut())
    (tmp_path / "images" / "p").mkdir()
    photo.save(tmp_path / "images/p/a.png")
    buf = io.BytesIO()
    photo.resize((256, 256)).save(buf, "JPEG", quality=40)
    (tmp_path / "images/p/b.jpg").write_bytes(buf.getvalue())
    copies = [Row(id=n, source="t", label="p", status="kept", path=f"images/p/{n}",
                  phash=phash(Image.open(tmp_path / "images/p" / n))) for n in ("a.png", "b.jpg")]
    assert flag_near_duplicates(copies, root=tmp_path) == 1
    assert "near duplicate:images/p/b.jpg" in copies[0].flags
